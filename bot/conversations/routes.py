"""POST /api/v1/chat, the open web chat; `converse` serves every HTTP channel."""

from __future__ import annotations

import uuid
from typing import Any

from fastapi import APIRouter, BackgroundTasks, Request
from sqlalchemy.orm import Session, sessionmaker

from bot.conversations.citizens import WEB_CHANNEL, web_sender_id
from bot.conversations.rasa import RasaClient
from bot.conversations.schemas import (
    ChatRequest,
    ChatResponse,
    ErrorResponse,
    MessageIn,
    Reply,
)
from bot.conversations.service import (
    LOCATION_ONLY,
    PHOTO_ONLY,
    AssistantUnavailableError,
    Inbound,
    handle_message,
)
from bot.deps import AddressLimiterDep, LimiterDep, RasaDep, SessionFactoryDep, SettingsDep
from bot.errors import ApiError
from bot.media.storage import owned_media
from bot.ratelimit import RateLimiter, Verdict
from bot.settings import Settings
from vitext import MessageTooLongError, normalize_message

router = APIRouter(prefix="/api/v1", tags=["conversation"])


def _attachments(
    factory: sessionmaker[Session], media_ids: list[str], sender_id: str
) -> list[dict[str, Any]]:
    """The photos this sender uploaded, as Rasa metadata; an id that is not theirs is refused."""
    if not media_ids:
        return []
    found = []
    with factory() as session:
        for media_id in dict.fromkeys(media_ids):
            media = owned_media(session, media_id, sender_id)
            if media is None:
                raise ApiError(
                    422,
                    "unknown_attachment",
                    "Không tìm thấy ảnh bạn gửi kèm. Bạn tải ảnh lên lại rồi gửi nhé.",
                )
            gps = None
            if media.gps_latitude is not None and media.gps_longitude is not None:
                gps = {"latitude": media.gps_latitude, "longitude": media.gps_longitude}
            found.append({"media_id": media.id, "content_type": media.content_type, "gps": gps})
    return found


def _reply(raw: dict[str, Any]) -> Reply:
    return Reply(
        text=raw.get("text"),
        buttons=raw.get("buttons") or [],
        image=raw.get("image"),
        custom=raw.get("custom"),
    )


async def converse(
    *,
    settings: Settings,
    factory: sessionmaker[Session],
    rasa: RasaClient,
    sender_id: str,
    channel: str,
    body: MessageIn,
    background: BackgroundTasks,
) -> list[Reply]:
    """One citizen message from any HTTP channel (web chat, mini-app, host API) → the replies.

    Bad input is refused with a Vietnamese ApiError before anything is stored. The replies are
    stored in ``background``, once the citizen has them.
    """
    attachments = _attachments(factory, body.attachments, sender_id)
    if body.payload is not None:
        text = body.payload
    elif attachments and not (body.text or "").strip():
        text = PHOTO_ONLY
    elif body.location is not None and not (body.text or "").strip():
        text = LOCATION_ONLY
    else:
        try:
            text = normalize_message(body.text or "", max_chars=settings.max_message_chars)
        except MessageTooLongError as exc:
            raise ApiError(
                422,
                "message_too_long",
                f"Tin nhắn dài quá ({exc.length} ký tự). Bạn vui lòng rút gọn dưới "
                f"{exc.limit} ký tự rồi gửi lại nhé.",
            ) from exc
        if not text:
            raise ApiError(422, "empty_message", "Tin nhắn trống. Bạn nhập nội dung cần hỏi nhé.")
    metadata: dict[str, Any] = {}
    if body.location is not None:
        metadata["location"] = body.location.model_dump()
    if attachments:
        metadata["attachments"] = attachments
    inbound = Inbound(sender_id=sender_id, channel=channel, text=text, metadata=metadata)
    try:
        replies = await handle_message(
            session_factory=factory, rasa=rasa, inbound=inbound, defer=background.add_task
        )
    except AssistantUnavailableError as exc:
        # Stored, and answered when the assistant is back (bot/conversations/replay.py).
        raise ApiError(503, "assistant_unavailable", exc.citizen_message) from exc
    return [_reply(r) for r in replies]


def rate_limited(limiter: RateLimiter, sender_id: str) -> None:
    """Refuse a citizen who sends more than their per-minute allowance (HTTP 429)."""
    if limiter.hit(sender_id) is not Verdict.ALLOWED:
        raise ApiError(
            429,
            "too_many_messages",
            "Bạn gửi tin nhắn nhanh quá. Bạn vui lòng đợi một lát rồi gửi tiếp nhé.",
        )


@router.post(
    "/chat",
    response_model=ChatResponse,
    responses={
        422: {"model": ErrorResponse},
        429: {"model": ErrorResponse},
        503: {"model": ErrorResponse},
    },
    summary="Send a citizen's message and get the assistant's replies",
)
async def chat(
    body: ChatRequest,
    request: Request,
    settings: SettingsDep,
    session_factory: SessionFactoryDep,
    rasa: RasaDep,
    limiter: LimiterDep,
    address_limiter: AddressLimiterDep,
    background: BackgroundTasks,
) -> ChatResponse:
    """Send typed text, or the payload of a pressed button, and get the replies.

    The first call returns a ``session_id``; send it back to continue the same conversation.
    It is the conversation's only key: keep it private (the service stores only its hash).
    Too many messages from one session or one client address are refused with 429.
    """
    session_id = body.session_id or uuid.uuid4().hex
    sender_id = web_sender_id(session_id)
    rate_limited(address_limiter, request.client.host if request.client else "-")
    rate_limited(limiter, sender_id)
    replies = await converse(
        settings=settings,
        factory=session_factory,
        rasa=rasa,
        sender_id=sender_id,
        channel=WEB_CHANNEL,
        body=body,
        background=background,
    )
    return ChatResponse(session_id=session_id, replies=replies)
