"""Uploading and serving report photos.

Citizens of the web chat upload with their chat session id and get back an id to send with
their report; only that session may fetch the photo again. Staff fetch the media of the reports
they may see, and add evidence to them. Every refusal is the usual JSON error with a Vietnamese
message; "not yours" and "does not exist" are the same 404.

Upload bodies are capped before they are parsed (Content-Length, then the bytes as they
arrive) at the configured image size plus room for the form around it, and the file itself is
read at most one byte past the limit.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Coroutine
from typing import Annotated, Any

import structlog
from fastapi import APIRouter, File, Form, Request, Response, UploadFile
from fastapi.responses import FileResponse
from fastapi.routing import APIRoute
from pydantic import BaseModel
from sqlalchemy.orm import Session, sessionmaker
from starlette.types import Message

from bot.conversations.citizens import web_sender_id
from bot.conversations.schemas import ErrorResponse
from bot.deps import SessionFactoryDep, SettingsDep
from bot.errors import ApiError, error_response
from bot.media.images import MediaError, too_large
from bot.media.models import MediaFile, MediaKind
from bot.media.storage import media_on_report, media_path, owned_media, report_media, store_image
from bot.settings import Settings
from bot.staff.access import visible_report
from bot.staff.routes import IdentityDep

log = structlog.get_logger(__name__)

SESSION_ID = re.compile(r"[0-9a-f]{32}")
FORM_OVERHEAD = 64 * 1024  # multipart boundaries, part headers and the session id field
_STATUS = {"too_large": 413, "unsupported_type": 415}


class _BodyTooLarge(Exception):
    pass


class UploadLimitRoute(APIRoute):
    """A route whose request body may not exceed ``media_max_bytes`` + FORM_OVERHEAD.

    Checked before FastAPI parses the form (which would otherwise spool any size to disk):
    a larger Content-Length is refused at once, and a body without one is counted as it
    arrives and refused as soon as it passes the limit.
    """

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handler = super().get_route_handler()

        async def capped(request: Request) -> Response:
            settings: Settings = request.app.state.settings
            limit = settings.media_max_bytes + FORM_OVERHEAD
            declared = request.headers.get("content-length", "")
            if declared.isdigit() and int(declared) > limit:
                return _error(too_large(int(declared), settings.media_max_bytes))
            received = 0
            exceeded = False

            async def receive() -> Message:
                nonlocal received, exceeded
                message = await request.receive()
                if message["type"] == "http.request":
                    received += len(message.get("body", b""))
                    if received > limit:
                        exceeded = True
                        raise _BodyTooLarge
                return message

            try:
                return await handler(Request(request.scope, receive))
            except Exception:
                if exceeded:  # FastAPI reports it as a body parsing error; say what it was
                    return _error(too_large(None, settings.media_max_bytes))
                raise

        return capped


def _error(exc: MediaError) -> Response:
    log.info("media_refused", code=exc.code)
    return error_response(_STATUS.get(exc.code, 422), exc.code, exc.message)


def _api_error(exc: MediaError) -> ApiError:
    log.info("media_refused", code=exc.code)
    return ApiError(_STATUS.get(exc.code, 422), exc.code, exc.message)


router = APIRouter(tags=["media"], route_class=UploadLimitRoute)
ERRORS: dict[int | str, dict[str, Any]] = {
    status: {"model": ErrorResponse} for status in (401, 404, 413, 415, 422)
}
IMAGE: dict[int | str, dict[str, Any]] = {
    200: {"content": {"image/jpeg": {}, "image/png": {}, "image/webp": {}}}
}


class Gps(BaseModel):
    latitude: float
    longitude: float


class MediaOut(BaseModel):
    id: str
    kind: MediaKind
    content_type: str
    width: int
    height: int
    size_bytes: int
    gps: Gps | None = None  # from the photo's EXIF: offer it as the report's place


def media_view(media: MediaFile) -> MediaOut:
    gps = None
    if media.gps_latitude is not None and media.gps_longitude is not None:
        gps = Gps(latitude=media.gps_latitude, longitude=media.gps_longitude)
    return MediaOut(
        id=media.id,
        kind=media.kind,
        content_type=media.content_type,
        width=media.width,
        height=media.height,
        size_bytes=media.size_bytes,
        gps=gps,
    )


def read_upload(file: UploadFile | None, max_bytes: int) -> bytes:
    """The uploaded bytes, reading at most one byte more than allowed."""
    if file is None:
        raise ApiError(422, "file_required", "Bạn chưa chọn ảnh để gửi.")
    data = file.file.read(max_bytes + 1)
    if len(data) > max_bytes:
        raise _api_error(too_large(file.size if file.size else None, max_bytes))
    return data


def media_not_found() -> ApiError:
    return ApiError(404, "media_not_found", "Không tìm thấy ảnh này.")


def image_response(settings: Settings, media: MediaFile) -> Response:
    try:
        path = media_path(settings.media_dir, media)
    except FileNotFoundError:
        path = None
    if path is None or not path.is_file():
        log.warning("media_file_missing", media_id=media.id, path=media.storage_path)
        raise media_not_found()
    return FileResponse(
        path,
        media_type=media.content_type,
        filename=path.name,
        content_disposition_type="inline",
        headers={
            "X-Content-Type-Options": "nosniff",
            "Cache-Control": "private",
            "Content-Security-Policy": "default-src 'none'",
        },
    )


@router.post(
    "/api/v1/media",
    status_code=201,
    response_model=MediaOut,
    responses=ERRORS,
    summary="Upload a photo for a report (web chat)",
)
def upload_photo(
    settings: SettingsDep,
    factory: SessionFactoryDep,
    session_id: Annotated[str | None, Form(description="The web chat session id.")] = None,
    file: Annotated[UploadFile | None, File(description="A JPEG, PNG or WebP image.")] = None,
) -> MediaOut:
    if session_id is None or not SESSION_ID.fullmatch(session_id):
        raise ApiError(
            422,
            "invalid_session",
            "Phiên trò chuyện không hợp lệ. Bạn tải lại trang rồi gửi ảnh lại nhé.",
        )
    return store_photo_upload(factory, settings, file, web_sender_id(session_id))


def store_photo_upload(
    factory: sessionmaker[Session], settings: Settings, file: UploadFile | None, owner_id: str
) -> MediaOut:
    """A citizen's uploaded photo, read within the size limit and stored as theirs."""
    data = read_upload(file, settings.media_max_bytes)
    with factory() as session:
        return store_upload(session, settings, data, owner_id, MediaKind.PHOTO)


def store_upload(
    session: Session,
    settings: Settings,
    data: bytes,
    owner_id: str,
    kind: MediaKind,
    report_id: int | None = None,
) -> MediaOut:
    """Store an upload; a refused image becomes the API's Vietnamese error."""
    try:
        media = store_image(
            session,
            data,
            owner_id=owner_id,
            kind=kind,
            media_dir=settings.media_dir,
            max_bytes=settings.media_max_bytes,
            report_id=report_id,
        )
    except MediaError as exc:
        raise _api_error(exc) from exc
    return media_view(media)


@router.get(
    "/api/v1/media/{media_id}",
    response_class=Response,
    responses={**IMAGE, 404: {"model": ErrorResponse}},
    summary="A photo, to the chat session that uploaded it",
)
def get_photo(
    media_id: str, settings: SettingsDep, factory: SessionFactoryDep, session_id: str = ""
) -> Response:
    if not SESSION_ID.fullmatch(session_id):
        raise media_not_found()
    return owned_photo_response(factory, settings, media_id, web_sender_id(session_id))


def owned_photo_response(
    factory: sessionmaker[Session], settings: Settings, media_id: str, owner_id: str
) -> Response:
    """The photo ``owner_id`` uploaded; someone else's, or none, is the same 404."""
    with factory() as session:
        media = owned_media(session, media_id, owner_id)
    if media is None:
        raise media_not_found()
    return image_response(settings, media)


@router.get(
    "/api/v1/staff/reports/{code}/media",
    response_model=list[MediaOut],
    responses=ERRORS,
    summary="The photos and evidence on a report",
)
def staff_list_media(
    code: str, identity: IdentityDep, factory: SessionFactoryDep
) -> list[MediaOut]:
    with factory() as session:
        report = visible_report(session, identity, code)
        return [media_view(m) for m in report_media(session, report.id)]


@router.get(
    "/api/v1/staff/reports/{code}/media/{media_id}",
    response_class=Response,
    responses={**IMAGE, 401: {"model": ErrorResponse}, 404: {"model": ErrorResponse}},
    summary="A photo or piece of evidence on a report",
)
def staff_get_media(
    code: str,
    media_id: str,
    identity: IdentityDep,
    settings: SettingsDep,
    factory: SessionFactoryDep,
) -> Response:
    with factory() as session:
        report = visible_report(session, identity, code)
        media = media_on_report(session, report.id, media_id)
    if media is None:
        raise media_not_found()
    return image_response(settings, media)


@router.post(
    "/api/v1/staff/reports/{code}/media",
    status_code=201,
    response_model=MediaOut,
    responses=ERRORS,
    summary="Add an evidence photo to a report",
)
def staff_upload_evidence(
    code: str,
    identity: IdentityDep,
    settings: SettingsDep,
    factory: SessionFactoryDep,
    file: Annotated[UploadFile | None, File(description="A JPEG, PNG or WebP image.")] = None,
) -> MediaOut:
    with factory() as session:
        report = visible_report(session, identity, code)
        data = read_upload(file, settings.media_max_bytes)
        owner = f"staff:{identity.user_id}"
        return store_upload(session, settings, data, owner, MediaKind.EVIDENCE, report.id)
