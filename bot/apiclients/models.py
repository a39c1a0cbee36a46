"""Other systems allowed to call the API: Open311 clients and host apps, one key each."""

from __future__ import annotations

import hashlib
import secrets
from datetime import datetime
from enum import StrEnum

from sqlalchemy import Boolean, String, Text, select
from sqlalchemy.orm import Mapped, Session, mapped_column

from bot.db import Base, UTCDateTime, str_enum, utcnow


class ClientKind(StrEnum):
    OPEN311 = "open311"
    HOST = "host"  # a super-app backend (issue #5)


class ApiClient(Base):
    __tablename__ = "api_clients"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(Text)
    kind: Mapped[ClientKind] = mapped_column(str_enum(ClientKind))
    # Only a hash of the key is stored; the key is shown once, when it is created.
    key_hash: Mapped[str] = mapped_column(String(64), unique=True)
    key_prefix: Mapped[str] = mapped_column(String(12))
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


def _digest(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


def create_client(session: Session, name: str, kind: ClientKind) -> tuple[ApiClient, str]:
    """A new client and its key (returned once; only its hash is stored)."""
    key = f"hs_{kind.value}_{secrets.token_urlsafe(32)}"
    client = ApiClient(name=name.strip(), kind=kind, key_hash=_digest(key), key_prefix=key[:12])
    session.add(client)
    session.commit()
    return client, key


def client_for_key(session: Session, key: str | None, kind: ClientKind) -> ApiClient | None:
    if not key:
        return None
    client = session.scalars(select(ApiClient).where(ApiClient.key_hash == _digest(key))).first()
    if client is None or not client.active or client.kind is not kind:
        return None
    return client
