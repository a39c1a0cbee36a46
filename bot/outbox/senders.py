"""How each kind of outbox message is delivered. A sender raises DeliveryError to be retried."""

from __future__ import annotations

import hashlib
import hmac
import json
import smtplib
import time
from dataclasses import dataclass
from email.message import EmailMessage
from typing import Any, Protocol

import httpx

SIGNATURE_HEADER = "X-Hue-S-Signature"
TIMESTAMP_HEADER = "X-Hue-S-Timestamp"


class DeliveryError(RuntimeError):
    pass


class Sender(Protocol):
    def send(self, target: str, subject: str | None, body: dict[str, Any]) -> None: ...


def sign(secret: str, timestamp: str, raw: bytes) -> str:
    """``sha256=<hex>`` of HMAC-SHA256 over "<timestamp>.<body>" (the receiver recomputes it)."""
    mac = hmac.new(secret.encode(), timestamp.encode() + b"." + raw, hashlib.sha256)
    return f"sha256={mac.hexdigest()}"


@dataclass
class WebhookSender:
    secret: str
    timeout: float = 10.0

    def send(self, target: str, subject: str | None, body: dict[str, Any]) -> None:
        raw = json.dumps(body, ensure_ascii=False, separators=(",", ":")).encode()
        timestamp = str(int(time.time()))
        headers = {
            "Content-Type": "application/json; charset=utf-8",
            TIMESTAMP_HEADER: timestamp,
            SIGNATURE_HEADER: sign(self.secret, timestamp, raw),
        }
        try:
            response = httpx.post(target, content=raw, headers=headers, timeout=self.timeout)
        except httpx.HTTPError as exc:
            raise DeliveryError(f"{type(exc).__name__}: {exc}") from exc
        if response.status_code >= 300:
            raise DeliveryError(f"HTTP {response.status_code}")


@dataclass
class EmailSender:
    host: str
    port: int
    sender: str
    username: str | None = None
    password: str | None = None
    starttls: bool = False
    timeout: float = 10.0

    def send(self, target: str, subject: str | None, body: dict[str, Any]) -> None:
        message = EmailMessage()
        message["From"] = self.sender
        message["To"] = target
        message["Subject"] = subject or "Hue-S"
        message.set_content(str(body.get("text") or ""), charset="utf-8")
        try:
            with smtplib.SMTP(self.host, self.port, timeout=self.timeout) as smtp:
                if self.starttls:
                    smtp.starttls()
                if self.username and self.password:
                    smtp.login(self.username, self.password)
                smtp.send_message(message)
        except (OSError, smtplib.SMTPException) as exc:
            raise DeliveryError(f"{type(exc).__name__}: {exc}") from exc


@dataclass
class TelegramSender:
    """sendMessage of the Telegram Bot API (``api_base`` may point to a local test server)."""

    token: str
    api_base: str = "https://api.telegram.org"
    timeout: float = 10.0

    def send(self, target: str, subject: str | None, body: dict[str, Any]) -> None:
        text = str(body.get("text") or "")
        url = f"{self.api_base.rstrip('/')}/bot{self.token}/sendMessage"
        try:
            response = httpx.post(
                url, json={"chat_id": target, "text": text[:4096]}, timeout=self.timeout
            )
        except httpx.HTTPError as exc:
            raise DeliveryError(f"{type(exc).__name__}: {exc}") from exc
        if response.status_code >= 300 or not response.json().get("ok"):
            raise DeliveryError(f"Telegram: HTTP {response.status_code} {response.text[:200]}")
