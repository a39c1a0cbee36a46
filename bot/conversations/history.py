"""A citizen's conversation as a page shows it again after a reload, from the message log."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel
from sqlalchemy import select
from sqlalchemy.orm import Session

from bot.conversations.models import Direction, Message, MessageStatus
from bot.conversations.schemas import Button

LOCATION_SHARED = "📍 Đã chia sẻ vị trí"
# After a citizen's message the assistant has not answered (yet).
MARKS = {
    MessageStatus.FAILED: " (đang chờ trợ lý trả lời)",
    MessageStatus.REPLAYING: " (đang chờ trợ lý trả lời)",
    MessageStatus.NOT_PROCESSED: " (chưa được xử lý)",
}


class HistoryItem(BaseModel):
    id: int
    role: Literal["citizen", "assistant"]
    text: str | None = None
    buttons: list[Button] = []
    image: str | None = None
    custom: dict[str, Any] | None = None
    photos: list[str] = []  # media ids the citizen sent
    created_at: str


def _citizen_text(message: Message, titles: dict[str, str]) -> str | None:
    """What the citizen typed, or the title of the button they pressed."""
    text = message.text or ""
    payload = message.payload or {}
    if text.startswith("/"):
        if payload.get("attachments"):
            return None  # a photo alone: the photo is shown
        if payload.get("location"):
            return LOCATION_SHARED
        return titles.get(text)
    return text or None


class History(BaseModel):
    messages: list[HistoryItem]


def conversation_history(session: Session, sender_id: str, limit: int = 100) -> History:
    """The last ``limit`` messages in and out, oldest first.

    Button payloads are shown as the title of the button that carried them; a message the
    assistant could not answer is still shown, marked: waiting (it is answered when the
    assistant is back, bot.conversations.replay) or not processed (the notice saying so
    follows it).
    """
    rows = list(
        session.scalars(
            select(Message)
            .where(Message.sender_id == sender_id)
            # By time first: an HTTP channel stores the replies just after answering, stamped
            # with the time Rasa answered (bot.conversations.service.handle_message).
            .order_by(Message.created_at.desc(), Message.id.desc())
            .limit(limit)
        )
    )
    rows.reverse()
    titles: dict[str, str] = {}
    items: list[HistoryItem] = []
    for row in rows:
        payload = row.payload or {}
        when = row.created_at.isoformat()
        if row.direction is Direction.OUTBOUND:
            buttons = [Button(**b) for b in payload.get("buttons") or []]
            titles.update({b.payload: b.title for b in buttons})
            items.append(
                HistoryItem(
                    id=row.id,
                    role="assistant",
                    text=row.text,
                    buttons=buttons,
                    image=payload.get("image"),
                    custom=payload.get("custom"),
                    created_at=when,
                )
            )
            continue
        photos = [a["media_id"] for a in payload.get("attachments") or [] if "media_id" in a]
        text = _citizen_text(row, titles)
        if text is None and not photos:
            continue
        if text and row.status in MARKS:
            text += MARKS[row.status]
        items.append(
            HistoryItem(id=row.id, role="citizen", text=text, photos=photos, created_at=when)
        )
    return History(messages=items)
