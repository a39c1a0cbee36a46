"""A host app registered in the test database, and launch tokens signed as a host would."""

from __future__ import annotations

import time
import uuid
from dataclasses import dataclass
from typing import Any

import jwt
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from bot.apiclients.models import NewHost, create_host
from bot.db import make_engine, make_sessionmaker
from bot.reports.calendar import WorkingCalendar
from bot.reports.catalog import default_catalog
from bot.reports.service import ReportDraft, submit_report
from bot.settings import Settings

AUDIENCE = "hue-s-assistant"


@dataclass
class Host:
    new: NewHost
    private_key: Any = None  # RS256 hosts: the key the host signs with

    @property
    def slug(self) -> str:
        assert self.new.client.slug is not None
        return self.new.client.slug

    @property
    def api_key(self) -> str:
        return self.new.api_key

    def claims(self, sub: str = "citizen-1", **override: Any) -> dict[str, Any]:
        """Launch-token claims as the host writes them; ``override`` replaces (None removes)."""
        now = int(time.time())
        body: dict[str, Any] = {
            "iss": self.slug,
            "aud": AUDIENCE,
            "sub": sub,
            "iat": now,
            "exp": now + 120,
            "jti": uuid.uuid4().hex,
            "name": "Nguyễn Văn A",
        }
        body.update(override)
        return {k: v for k, v in body.items() if v is not None}

    def token(self, sub: str = "citizen-1", **override: Any) -> str:
        """A launch token signed as the host signs it."""
        body = self.claims(sub, **override)
        if self.private_key is not None:
            return jwt.encode(body, self.private_key, algorithm="RS256")
        assert self.new.launch_secret is not None
        return jwt.encode(body, self.new.launch_secret, algorithm="HS256")


def rsa_key() -> rsa.RSAPrivateKey:
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


def public_pem(key: rsa.RSAPrivateKey) -> str:
    return (
        key.public_key()
        .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
        .decode()
    )


def file_report(
    settings: Settings, reporter_id: str, description: str, commune: str = "Phú Xuân"
) -> str:
    """A report filed by ``reporter_id`` (as the internal API would); its tracking code."""
    factory = make_sessionmaker(make_engine(settings.database_url))
    with factory() as session:
        report = submit_report(
            session,
            ReportDraft(
                description=description,
                reporter_id=reporter_id,
                channel=reporter_id.split(":")[0],
                commune=commune,
            ),
            default_catalog(),
            WorkingCalendar(holidays=frozenset()),
        )
        assert report.code is not None
        return report.code


def add_host(
    settings: Settings,
    slug: str = "hue-s",
    *,
    rs256: bool = False,
    webhook_url: str | None = None,
) -> Host:
    factory = make_sessionmaker(make_engine(settings.database_url))
    key = rsa_key() if rs256 else None
    with factory() as session:
        new = create_host(
            session,
            name=f"Ứng dụng {slug}",
            slug=slug,
            webhook_url=webhook_url,
            launch_public_key_pem=public_pem(key) if key else None,
        )
    return Host(new, key)
