"""The message log: every message in and out, stored before it is processed."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import JSON, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from bot.db import Base, UTCDateTime, str_enum, utcnow


class Direction(StrEnum):
    INBOUND = "inbound"
    OUTBOUND = "outbound"


class MessageStatus(StrEnum):
    RECEIVED = "received"  # stored, not yet answered by the assistant
    PROCESSED = "processed"  # answered
    FAILED = "failed"  # the assistant could not answer; kept for replay
    REPLAYING = "replaying"  # being sent again (processed_at: when that began)
    NOT_PROCESSED = "not_processed"  # given up on; the citizen was told to send it again
    SENT = "sent"  # an outbound reply


class Message(Base):
    __tablename__ = "messages"
    __table_args__ = (Index("ix_messages_sender_created", "sender_id", "created_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    sender_id: Mapped[str] = mapped_column(String(200))
    channel: Mapped[str] = mapped_column(String(40))
    direction: Mapped[Direction] = mapped_column(str_enum(Direction))
    status: Mapped[MessageStatus] = mapped_column(str_enum(MessageStatus))
    text: Mapped[str | None] = mapped_column(Text)
    payload: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    error: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    processed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
