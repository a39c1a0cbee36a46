"""Tables of the mini-app: its sessions and the launch tokens already used."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import String
from sqlalchemy.orm import Mapped, mapped_column

from bot.db import Base, UTCDateTime, utcnow


class MiniAppSession(Base):
    """A page's session: the citizen it speaks for, until it expires.

    Only a hash of the session token is stored; the page keeps the token (localStorage), so a
    reload continues the same conversation.
    """

    __tablename__ = "miniapp_sessions"

    token_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    sender_id: Mapped[str] = mapped_column(String(200), index=True)
    channel: Mapped[str] = mapped_column(String(40))  # host slug, "telegram" or "web"
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime(), index=True)


class UsedLaunchToken(Base):
    """One row per launch token accepted: the primary key makes a replay fail to insert."""

    __tablename__ = "miniapp_used_launch_tokens"

    token_id: Mapped[str] = mapped_column(String(300), primary_key=True)  # "<host id>:<jti>"
    used_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime(), index=True)
