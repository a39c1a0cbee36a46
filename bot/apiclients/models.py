"""Other systems allowed to call the API: Open311 clients and host apps, one key each.

A host app (a super-app's backend) also has a slug, the prefix of its citizens' identity
(``host:<slug>:<citizen id>``); the webhook its notifications are pushed to, with the secret
they are signed with; and the key that checks the launch tokens it signs for the mini-app
(an HS256 shared secret, or an RS256 public key in PEM).
"""

from __future__ import annotations

import hashlib
import re
import secrets
from dataclasses import dataclass
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
    # Host apps only (kind == host).
    slug: Mapped[str | None] = mapped_column(String(40), unique=True)
    webhook_url: Mapped[str | None] = mapped_column(Text)
    webhook_secret: Mapped[str | None] = mapped_column(Text)
    launch_algorithm: Mapped[str | None] = mapped_column(String(8))  # HS256 | RS256
    launch_key: Mapped[str | None] = mapped_column(Text)
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


SLUG = re.compile(r"[a-z0-9][a-z0-9-]{1,38}[a-z0-9]")


class HostConfigError(ValueError):
    """A host app's settings that cannot be used (the message says why, in Vietnamese)."""


@dataclass(frozen=True)
class NewHost:
    """What a host's operator must receive once: none of it can be read back later."""

    client: ApiClient
    api_key: str
    webhook_secret: str | None
    launch_secret: str | None  # HS256 only


def create_host(
    session: Session,
    *,
    name: str,
    slug: str,
    webhook_url: str | None = None,
    launch_public_key_pem: str | None = None,
) -> NewHost:
    """A host app with its API key, a webhook secret when it has a webhook, and its launch key.

    With a public key (PEM), launch tokens are RS256 and checked with it; without one, an
    HS256 secret is generated for the host to sign them.
    """
    if not SLUG.fullmatch(slug):
        raise HostConfigError(
            "Tên định danh (slug) gồm 3–40 chữ thường, số hoặc gạch ngang, ví dụ: hue-s."
        )
    if session.scalars(select(ApiClient).where(ApiClient.slug == slug)).first() is not None:
        raise HostConfigError(f"Đã có ứng dụng với tên định danh {slug}.")
    if webhook_url is not None and not re.fullmatch(r"https?://\S+", webhook_url):
        raise HostConfigError("Địa chỉ webhook phải bắt đầu bằng http:// hoặc https://.")
    launch_secret = None
    if launch_public_key_pem is not None:
        from cryptography.hazmat.primitives.asymmetric.rsa import RSAPublicKey
        from cryptography.hazmat.primitives.serialization import load_pem_public_key

        try:
            key = load_pem_public_key(launch_public_key_pem.encode())
        except ValueError as exc:
            raise HostConfigError("Khóa công khai không phải PEM hợp lệ.") from exc
        if not isinstance(key, RSAPublicKey) or key.key_size < 2048:
            raise HostConfigError("Khóa công khai phải là khóa RSA từ 2048 bit.")
        algorithm, launch_key = "RS256", launch_public_key_pem
    else:
        algorithm = "HS256"
        launch_key = launch_secret = secrets.token_urlsafe(48)
    api_key = f"hs_{ClientKind.HOST.value}_{secrets.token_urlsafe(32)}"
    webhook_secret = secrets.token_urlsafe(32) if webhook_url else None
    client = ApiClient(
        name=name.strip(),
        kind=ClientKind.HOST,
        key_hash=_digest(api_key),
        key_prefix=api_key[:12],
        slug=slug,
        webhook_url=webhook_url,
        webhook_secret=webhook_secret,
        launch_algorithm=algorithm,
        launch_key=launch_key,
    )
    session.add(client)
    session.commit()
    return NewHost(client, api_key, webhook_secret, launch_secret)


def host_by_slug(session: Session, slug: str) -> ApiClient | None:
    client = session.scalars(
        select(ApiClient).where(ApiClient.slug == slug, ApiClient.kind == ClientKind.HOST)
    ).first()
    return client if client is not None and client.active else None


def client_for_key(session: Session, key: str | None, kind: ClientKind) -> ApiClient | None:
    if not key:
        return None
    client = session.scalars(select(ApiClient).where(ApiClient.key_hash == _digest(key))).first()
    if client is None or not client.active or client.kind is not kind:
        return None
    return client
