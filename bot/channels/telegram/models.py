"""Tables of the Telegram channel: updates already received, payloads behind inline buttons."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from bot.db import Base, UTCDateTime, utcnow


class TelegramUpdate(Base):
    """One row per update_id handled: the primary key makes a repeat fail to insert.

    Telegram re-sends an update its webhook did not acknowledge, and two processes (or a
    webhook and a poller) may see the same one; whoever inserts the row first handles it.
    """

    __tablename__ = "telegram_updates"

    update_id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    received_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, index=True)


class TelegramButtonPayload(Base):
    """The Rasa payload behind an inline button (callback_data holds at most 64 bytes).

    The token is the first 16 hex digits of the payload's SHA-256, so the same payload always
    gets the same token and buttons keep working after a restart or on another process.
    """

    __tablename__ = "telegram_button_payloads"

    token: Mapped[str] = mapped_column(String(16), primary_key=True)
    payload: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
