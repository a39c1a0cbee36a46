"""POST /api/v1/chat: converse with the assistant over HTTP."""

from __future__ import annotations

import uuid
from typing import Any

from fastapi import APIRouter

from bot.conversations.schemas import ChatRequest, ChatResponse, ErrorResponse, Reply
from bot.conversations.service import AssistantUnavailableError, Inbound, handle_message
from bot.deps import RasaDep, SessionFactoryDep, SettingsDep
from bot.errors import ApiError
from vitext import MessageTooLongError, normalize_message

router = APIRouter(prefix="/api/v1", tags=["conversation"])

WEB_CHANNEL = "web"


def _reply(raw: dict[str, Any]) -> Reply:
    return Reply(
        text=raw.get("text"),
        buttons=raw.get("buttons") or [],
        image=raw.get("image"),
        custom=raw.get("custom"),
    )


@router.post(
    "/chat",
    response_model=ChatResponse,
    responses={422: {"model": ErrorResponse}, 503: {"model": ErrorResponse}},
    summary="Send a citizen's message and get the assistant's replies",
)
async def chat(
    body: ChatRequest,
    settings: SettingsDep,
    session_factory: SessionFactoryDep,
    rasa: RasaDep,
) -> ChatResponse:
    """Send typed text, or the payload of a pressed button, and get the replies.

    The first call returns a ``session_id``; send it back to continue the same conversation.
    """
    if body.payload is not None:
        text = body.payload
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
    session_id = body.session_id or uuid.uuid4().hex
    metadata: dict[str, Any] = {}
    if body.location is not None:
        metadata["location"] = body.location.model_dump()
    inbound = Inbound(
        sender_id=f"{WEB_CHANNEL}:{session_id}", channel=WEB_CHANNEL, text=text, metadata=metadata
    )
    try:
        replies = await handle_message(session_factory=session_factory, rasa=rasa, inbound=inbound)
    except AssistantUnavailableError as exc:
        raise ApiError(
            503,
            "assistant_unavailable",
            "Trợ lý đang bận, tin nhắn của bạn đã được lưu lại. Bạn vui lòng thử lại sau ít phút.",
        ) from exc
    return ChatResponse(session_id=session_id, replies=[_reply(r) for r in replies])
