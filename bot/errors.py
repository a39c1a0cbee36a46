"""Errors as the API returns them: a code and a Vietnamese sentence to show the citizen."""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.routing import Match


class ApiError(Exception):
    def __init__(self, status: int, code: str, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message


def error_response(status: int, code: str, message: str) -> JSONResponse:
    return JSONResponse(status_code=status, content={"error": {"code": code, "message": message}})


_METHODS = ("DELETE", "GET", "HEAD", "OPTIONS", "PATCH", "POST", "PUT")
# Paths whose errors are Open311 GeoReport v2's list of {code, description}.
SPEC_ERROR_PREFIXES = ("/open311/",)
# Error types that schemas raise with a message meant for the citizen (PydanticCustomError).
SCHEMA_ERRORS = frozenset({"location_outside_hue"})

_HTTP_MESSAGES = {
    404: ("not_found", "Không tìm thấy địa chỉ này."),
    405: ("method_not_allowed", "Phương thức không được hỗ trợ cho địa chỉ này."),
    422: ("invalid_request", "Dữ liệu gửi lên không hợp lệ. Vui lòng kiểm tra và gửi lại."),
}


def _answer(request: Request, status: int, code: str, message: str) -> JSONResponse:
    """The API's error shape; under /open311/ the GeoReport v2 spec's, where a request the
    schema refuses is a 400 (the spec's "bad request")."""
    if request.url.path.startswith(SPEC_ERROR_PREFIXES):
        status = 400 if status == 422 else status
        return JSONResponse(status_code=status, content=[{"code": status, "description": message}])
    return error_response(status, code, message)


def _validation_message(exc: RequestValidationError) -> tuple[str, str]:
    """A schema's own refusal (a PydanticCustomError whose type is in SCHEMA_ERRORS) keeps its
    code and Vietnamese message; any other validation error gets the generic one."""
    for error in exc.errors():
        if error.get("type") in SCHEMA_ERRORS:
            return str(error["type"]), str(error["msg"])
    return "invalid_request", "Dữ liệu gửi lên không hợp lệ. Vui lòng kiểm tra và gửi lại."


def _allowed_methods(request: Request) -> set[str]:
    """The methods some route of this path answers (RFC 9110's Allow): Starlette names only
    those of the first route that matched the path, and a path's methods may be split among
    routes (and routers)."""
    return {
        method
        for method in _METHODS
        if any(
            route.matches({**request.scope, "method": method})[0] is Match.FULL
            for route in request.app.router.routes
        )
    }


def install_error_handlers(app: FastAPI) -> None:
    @app.exception_handler(ApiError)
    async def _api_error(_: Request, exc: ApiError) -> JSONResponse:
        return error_response(exc.status, exc.code, exc.message)

    @app.exception_handler(RequestValidationError)
    async def _invalid(request: Request, exc: RequestValidationError) -> JSONResponse:
        code, message = _validation_message(exc)
        return _answer(request, 422, code, message)

    @app.exception_handler(StarletteHTTPException)
    async def _http(request: Request, exc: StarletteHTTPException) -> JSONResponse:
        status = exc.status_code
        if status == 400:  # FastAPI could not parse the body (a broken multipart form…)
            status = 422
        code, message = _HTTP_MESSAGES.get(status, ("http_error", "Yêu cầu không thực hiện được."))
        response = _answer(request, status, code, message)
        response.headers.update(exc.headers or {})
        if status == 405:  # every method of the path, not only those of the first route
            response.headers["Allow"] = ", ".join(sorted(_allowed_methods(request)))
        return response

    _document_errors(app)


def _document_errors(app: FastAPI) -> None:
    """The published OpenAPI says what these handlers return. FastAPI documents a 422 as its
    own ``{"detail": [...]}``; ours is ErrorResponse (under /open311/ the spec's list), on every
    operation — the input guard (bot/inputguard.py) answers 422 on any route — and a body
    too large for the guard is a 413."""
    build = app.openapi

    def openapi() -> dict[str, Any]:
        if app.openapi_schema:
            return app.openapi_schema
        schema = build()
        for path, item in schema.get("paths", {}).items():
            spec = path.startswith(SPEC_ERROR_PREFIXES)
            body = _ref("SpecError", array=True) if spec else _ref("ErrorResponse")
            for operation in item.values():
                responses = operation.setdefault("responses", {})
                responses["422"] = _response(
                    "Refused: invalid text, or a value the schema does not allow", body
                )
                if "requestBody" in operation and "413" not in responses:
                    responses["413"] = _response("The body is too large", body)
        components = schema.setdefault("components", {}).setdefault("schemas", {})
        for unused in ("HTTPValidationError", "ValidationError"):
            components.pop(unused, None)
        app.openapi_schema = schema
        return schema

    app.openapi = openapi  # type: ignore[method-assign]


def _ref(name: str, *, array: bool = False) -> dict[str, Any]:
    ref = {"$ref": f"#/components/schemas/{name}"}
    return {"type": "array", "items": ref} if array else ref


def _response(description: str, schema: dict[str, Any]) -> dict[str, Any]:
    return {"description": description, "content": {"application/json": {"schema": schema}}}
