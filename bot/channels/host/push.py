"""Pushing a citizen's notices to their host app's webhook, signed with that host's secret.

The outbox target of a host notice is ``<host slug>:<citizen id>``; the host's webhook URL and
secret are read when the notice is sent, so a changed URL or a rotated secret applies to
notices still waiting. The body is the notice plus ``citizen_id`` and ``delivery_id``; the
signature is the same scheme as agencies' webhooks (X-Hue-S-Timestamp, X-Hue-S-Signature:
``sha256=`` HMAC-SHA256 of "<timestamp>.<body>").
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy.orm import Session, sessionmaker

from bot.apiclients.models import host_by_slug
from bot.outbox.senders import DeliveryError, WebhookSender


@dataclass
class HostWebhookSender:
    factory: sessionmaker[Session]
    timeout: float = 10.0

    def send(self, target: str, subject: str | None, body: dict[str, Any]) -> None:
        slug, _, citizen_id = target.partition(":")
        with self.factory() as session:
            host = host_by_slug(session, slug)
            url, secret = (host.webhook_url, host.webhook_secret) if host else (None, None)
        if not url or not secret:
            raise DeliveryError(f"host {slug!r} has no active webhook")
        WebhookSender(secret, timeout=self.timeout).send(
            url, subject, {**body, "citizen_id": citizen_id}
        )
