"""The mini-app page and its JSON API.

The page (/app/) is served with everything it needs from this service (a strict Content
Security Policy forbids any other origin). It opens a session with POST
/api/v1/miniapp/session from one of: a host's launch token (``#launch=<JWT>`` in the URL),
Telegram's initData (``#tgWebAppData=…``, as Telegram opens a Mini App), or nothing — a guest
web chat, when WEB_GUEST_CHAT allows it. Every other call carries the session token as
``Authorization: Bearer ms_…``.
"""

from __future__ import annotations

import uuid
from pathlib import Path
from typing import Annotated, Any

from fastapi import APIRouter, BackgroundTasks, Depends, File, Header, Response, UploadFile
from fastapi.responses import FileResponse
from fastapi.staticfiles import StaticFiles
from pydantic import BaseModel, Field

from bot.channels.miniapp.identity import (
    Citizen,
    verify_launch_token,
    verify_telegram_init_data,
)
from bot.channels.miniapp.models import MiniAppSession
from bot.channels.miniapp.sessions import close_session, open_session, session_for_token
from bot.conversations.history import History, conversation_history
from bot.conversations.routes import converse, rate_limited
from bot.conversations.schemas import ErrorResponse, MessageIn, Replies
from bot.deps import LimiterDep, RasaDep, SessionFactoryDep, SettingsDep
from bot.errors import ApiError
from bot.media.routes import ERRORS as MEDIA_ERRORS
from bot.media.routes import (
    IMAGE,
    MediaOut,
    UploadLimitRoute,
    owned_photo_response,
    store_photo_upload,
)
from bot.reports.internal_routes import citizen_report_list

STATIC = Path(__file__).parent / "static"
GUEST_CHANNEL = "web"
# Only this service's own files; images may also be blobs the page made from fetched photos.
CSP = (
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' blob: data:; "
    "connect-src 'self'; manifest-src 'self'; base-uri 'none'; form-action 'none'"
)
ERRORS: dict[int | str, dict[str, Any]] = {
    status: {"model": ErrorResponse} for status in (401, 422, 429, 503)
}

router = APIRouter(tags=["mini-app"])
uploads = APIRouter(tags=["mini-app"], route_class=UploadLimitRoute)


def _page_headers() -> dict[str, str]:
    return {
        "Content-Security-Policy": CSP,
        "X-Content-Type-Options": "nosniff",
        "Referrer-Policy": "no-referrer",
        "Cache-Control": "no-cache",
    }


@router.get("/app/", include_in_schema=False)
def page() -> FileResponse:
    return FileResponse(STATIC / "index.html", media_type="text/html", headers=_page_headers())


def mount_static(app: Any) -> None:
    """The page's script, style and icons under /app/static/."""
    app.mount("/app/static", StaticFiles(directory=STATIC), name="miniapp-static")


async def _bearer(authorization: Annotated[str | None, Header()] = None) -> str | None:
    if authorization and authorization.startswith("Bearer "):
        return authorization.removeprefix("Bearer ").strip()
    return None


def _session(
    factory: SessionFactoryDep, token: Annotated[str | None, Depends(_bearer)]
) -> MiniAppSession:
    with factory() as session:
        return session_for_token(session, token)


CitizenSessionDep = Annotated[MiniAppSession, Depends(_session)]


class SessionIn(BaseModel):
    """How the page was opened: at most one of these (none: a guest web chat)."""

    launch_token: str | None = Field(default=None, max_length=8192)
    telegram_init_data: str | None = Field(default=None, max_length=8192)


class SessionOut(BaseModel):
    session_token: str = Field(description="Send as 'Authorization: Bearer …' on every call.")
    expires_at: str
    channel: str
    name: str | None = None


def _guest() -> Citizen:
    return Citizen(sender_id=f"{GUEST_CHANNEL}:{uuid.uuid4().hex}", channel=GUEST_CHANNEL)


@router.post(
    "/api/v1/miniapp/session",
    response_model=SessionOut,
    status_code=201,
    responses=ERRORS,
    summary="Open a mini-app session from a launch token, Telegram initData, or as a guest",
)
def create_session(
    body: SessionIn, settings: SettingsDep, factory: SessionFactoryDep
) -> SessionOut:
    if body.launch_token and body.telegram_init_data:
        raise ApiError(422, "invalid_request", "Chỉ gửi một cách mở trợ lý mỗi lần.")
    with factory() as session:
        if body.launch_token:
            citizen = verify_launch_token(session, settings, body.launch_token)
        elif body.telegram_init_data:
            citizen = verify_telegram_init_data(settings, body.telegram_init_data)
        elif settings.web_guest_chat:
            citizen = _guest()
        else:
            raise ApiError(
                401, "launch_token_required", "Bạn mở trợ lý từ ứng dụng Hue-S để trò chuyện nhé."
            )
        token, row = open_session(session, citizen, hours=settings.miniapp_session_hours)
        return SessionOut(
            session_token=token,
            expires_at=row.expires_at.isoformat(),
            channel=citizen.channel,
            name=citizen.name,
        )


@router.delete(
    "/api/v1/miniapp/session",
    status_code=204,
    responses=ERRORS,
    summary="End this session (the conversation stays stored)",
)
def delete_session(
    citizen: CitizenSessionDep,
    factory: SessionFactoryDep,
    token: Annotated[str | None, Depends(_bearer)],
) -> Response:
    with factory() as session:
        close_session(session, token or "")
    return Response(status_code=204)


@router.get(
    "/api/v1/miniapp/history",
    response_model=History,
    responses=ERRORS,
    summary="The conversation so far (the page shows it again after a reload)",
)
def history(citizen: CitizenSessionDep, factory: SessionFactoryDep) -> History:
    with factory() as session:
        return conversation_history(session, citizen.sender_id)


@router.post(
    "/api/v1/miniapp/messages",
    response_model=Replies,
    responses=ERRORS,
    summary="Send the citizen's message (text, button payload, location, photos)",
)
async def send_message(
    body: MessageIn,
    citizen: CitizenSessionDep,
    settings: SettingsDep,
    factory: SessionFactoryDep,
    rasa: RasaDep,
    limiter: LimiterDep,
    background: BackgroundTasks,
) -> Replies:
    rate_limited(limiter, citizen.sender_id)
    replies = await converse(
        settings=settings,
        factory=factory,
        rasa=rasa,
        sender_id=citizen.sender_id,
        channel=citizen.channel,
        body=body,
        background=background,
    )
    return Replies(replies=replies)


@router.get(
    "/api/v1/miniapp/reports",
    responses=ERRORS,
    summary="The citizen's reports (filed or followed) with their state, newest change first",
)
def reports(citizen: CitizenSessionDep, factory: SessionFactoryDep) -> dict[str, Any]:
    with factory() as session:
        return citizen_report_list(session, citizen.sender_id, limit=20)


@uploads.post(
    "/api/v1/miniapp/media",
    status_code=201,
    response_model=MediaOut,
    responses={**MEDIA_ERRORS, 429: {"model": ErrorResponse}},
    summary="Upload a photo to send with a message",
)
def upload(
    citizen: CitizenSessionDep,
    settings: SettingsDep,
    factory: SessionFactoryDep,
    limiter: LimiterDep,
    file: Annotated[UploadFile | None, File(description="A JPEG, PNG or WebP image.")] = None,
) -> MediaOut:
    rate_limited(limiter, citizen.sender_id)
    return store_photo_upload(factory, settings, file, citizen.sender_id)


@router.get(
    "/api/v1/miniapp/media/{media_id}",
    response_class=Response,
    responses={**IMAGE, 401: {"model": ErrorResponse}, 404: {"model": ErrorResponse}},
    summary="A photo this citizen sent",
)
def photo(
    media_id: str, citizen: CitizenSessionDep, settings: SettingsDep, factory: SessionFactoryDep
) -> Response:
    return owned_photo_response(factory, settings, media_id, citizen.sender_id)
