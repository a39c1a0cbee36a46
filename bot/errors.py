"""Errors as the API returns them: a code and a Vietnamese sentence to show the citizen."""

from __future__ import annotations

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException


class ApiError(Exception):
    def __init__(self, status: int, code: str, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message


def error_response(status: int, code: str, message: str) -> JSONResponse:
    return JSONResponse(status_code=status, content={"error": {"code": code, "message": message}})


# Paths whose errors are Open311 GeoReport v2's list of {code, description}.
SPEC_ERROR_PREFIXES = ("/open311/",)
# Error types that schemas raise with a message meant for the citizen (PydanticCustomError).
SCHEMA_ERRORS = frozenset({"location_outside_hue"})

_HTTP_MESSAGES = {
    404: ("not_found", "Không tìm thấy địa chỉ này."),
    405: ("method_not_allowed", "Phương thức không được hỗ trợ cho địa chỉ này."),
}


def _validation_message(exc: RequestValidationError) -> tuple[str, str]:
    """A schema's own refusal (a PydanticCustomError whose type is in SCHEMA_ERRORS) keeps its
    code and Vietnamese message; any other validation error gets the generic one."""
    for error in exc.errors():
        if error.get("type") in SCHEMA_ERRORS:
            return str(error["type"]), str(error["msg"])
    return "invalid_request", "Dữ liệu gửi lên không hợp lệ. Vui lòng kiểm tra và gửi lại."


def install_error_handlers(app: FastAPI) -> None:
    @app.exception_handler(ApiError)
    async def _api_error(_: Request, exc: ApiError) -> JSONResponse:
        return error_response(exc.status, exc.code, exc.message)

    @app.exception_handler(RequestValidationError)
    async def _invalid(request: Request, exc: RequestValidationError) -> JSONResponse:
        code, message = _validation_message(exc)
        if request.url.path.startswith(SPEC_ERROR_PREFIXES):  # GeoReport v2: 400, its shape
            return JSONResponse(status_code=400, content=[{"code": 400, "description": message}])
        return error_response(422, code, message)

    @app.exception_handler(StarletteHTTPException)
    async def _http(_: Request, exc: StarletteHTTPException) -> JSONResponse:
        code, message = _HTTP_MESSAGES.get(
            exc.status_code, ("http_error", "Yêu cầu không thực hiện được.")
        )
        return error_response(exc.status_code, code, message)
