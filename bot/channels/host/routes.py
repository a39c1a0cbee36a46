"""The host API (/api/v1/host/…): a super-app's backend sends its citizens' messages.

Every call carries the host's key in ``X-API-Key`` (``hue-s host add`` creates it). A citizen
is named by the host's own id for them (``citizen_id``); the assistant knows them as
``host:<host slug>:<citizen id>`` — the same identity as when the host opens the mini-app for
them with a launch token, so both share one conversation and one list of reports.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated, Any

from fastapi import APIRouter, BackgroundTasks, Depends, File, Form, Header, Request, UploadFile
from pydantic import Field

from bot.channels.host.keys import HostKeys
from bot.channels.miniapp.identity import CITIZEN_ID, host_sender
from bot.conversations.history import History, conversation_history
from bot.conversations.routes import converse, rate_limited
from bot.conversations.schemas import ErrorResponse, MessageIn, Replies
from bot.deps import LimiterDep, RasaDep, SessionFactoryDep, SettingsDep
from bot.errors import ApiError
from bot.media.routes import ERRORS as MEDIA_ERRORS
from bot.media.routes import MediaOut, UploadLimitRoute, store_photo_upload
from bot.reports.internal_routes import citizen_report_list

ERRORS: dict[int | str, dict[str, Any]] = {
    status: {"model": ErrorResponse} for status in (401, 422, 429, 503)
}
CITIZEN_PATTERN = f"^{CITIZEN_ID.pattern}$"

router = APIRouter(prefix="/api/v1/host", tags=["host API"])
uploads = APIRouter(prefix="/api/v1/host", tags=["host API"], route_class=UploadLimitRoute)


@dataclass(frozen=True)
class Host:
    """The host app a valid key belongs to."""

    slug: str

    def sender(self, citizen_id: str) -> str:
        """The assistant's identity of one of this host's citizens (a bad id is a 422)."""
        if not CITIZEN_ID.fullmatch(citizen_id):
            raise ApiError(
                422,
                "invalid_citizen_id",
                "Mã công dân không hợp lệ (1–128 ký tự: chữ, số, dấu chấm, gạch ngang, gạch dưới, "
                "@).",
            )
        return host_sender(self.slug, citizen_id)


async def _host(
    request: Request,
    x_api_key: Annotated[str | None, Header(description="The host app's API key.")] = None,
) -> Host:
    keys: HostKeys = request.app.state.host_keys
    slug = await keys.slug_for(x_api_key)
    if slug is None:
        raise ApiError(401, "invalid_api_key", "Khóa API (X-API-Key) thiếu hoặc không hợp lệ.")
    return Host(slug)


HostDep = Annotated[Host, Depends(_host)]


class HostMessageIn(MessageIn):
    citizen_id: str = Field(
        pattern=CITIZEN_PATTERN, description="The host's own id for the citizen."
    )


@router.post(
    "/messages",
    response_model=Replies,
    responses=ERRORS,
    summary="Send a citizen's message (text, button payload, location, photos); get the replies",
)
async def send_message(
    body: HostMessageIn,
    host: HostDep,
    settings: SettingsDep,
    factory: SessionFactoryDep,
    rasa: RasaDep,
    limiter: LimiterDep,
    background: BackgroundTasks,
) -> Replies:
    """Replies come back in order: text, buttons (send a button's ``payload`` back as the
    next message's ``payload``), images, and ``custom`` parts (``request_location``: offer the
    citizen a way to share their location)."""
    sender_id = host.sender(body.citizen_id)
    rate_limited(limiter, sender_id)
    replies = await converse(
        settings=settings,
        factory=factory,
        rasa=rasa,
        sender_id=sender_id,
        channel=host.slug,
        body=body,
        background=background,
    )
    return Replies(replies=replies)


@uploads.post(
    "/media",
    status_code=201,
    response_model=MediaOut,
    responses={**MEDIA_ERRORS, 429: {"model": ErrorResponse}},
    summary="Upload a citizen's photo; send its id in the next message's attachments",
)
def upload(
    host: HostDep,
    settings: SettingsDep,
    factory: SessionFactoryDep,
    limiter: LimiterDep,
    citizen_id: Annotated[str, Form(description="The host's own id for the citizen.")],
    file: Annotated[UploadFile | None, File(description="A JPEG, PNG or WebP image.")] = None,
) -> MediaOut:
    sender_id = host.sender(citizen_id)
    rate_limited(limiter, sender_id)
    return store_photo_upload(factory, settings, file, sender_id)


@router.get(
    "/citizens/{citizen_id}/history",
    response_model=History,
    responses=ERRORS,
    summary="A citizen's conversation so far, oldest first (at most 100 messages)",
)
def history(citizen_id: str, host: HostDep, factory: SessionFactoryDep) -> History:
    sender_id = host.sender(citizen_id)
    with factory() as session:
        return conversation_history(session, sender_id)


@router.get(
    "/citizens/{citizen_id}/reports",
    responses=ERRORS,
    summary="A citizen's reports (filed or followed) with their state, newest change first",
)
def reports(citizen_id: str, host: HostDep, factory: SessionFactoryDep) -> dict[str, Any]:
    sender_id = host.sender(citizen_id)
    with factory() as session:
        return citizen_report_list(session, sender_id, limit=20)
