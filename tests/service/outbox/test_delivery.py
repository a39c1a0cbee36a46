"""The outbox delivers through real local servers: an SMTP server (aiosmtpd), an HTTP
receiver that fails before it succeeds, and a Telegram Bot API stand-in — no mocked sends."""

from __future__ import annotations

import hashlib
import hmac
import json
import threading
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from email import message_from_bytes
from email.header import decode_header, make_header
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
from aiosmtpd.controller import Controller
from sqlalchemy import select

from bot.db import make_engine, make_sessionmaker
from bot.outbox.models import Channel, Delivery, OutboxMessage
from bot.outbox.senders import (
    SIGNATURE_HEADER,
    TIMESTAMP_HEADER,
    EmailSender,
    TelegramSender,
    WebhookSender,
)
from bot.outbox.worker import MAX_ATTEMPTS, backoff, deliver_due, enqueue
from tests.service.conftest import free_port

SECRET = "webhook-secret-0123456789"
T0 = datetime(2026, 11, 26, 8, 0, tzinfo=UTC)


def signed_with(secret: str, headers: dict[str, str], raw: bytes) -> bool:
    """The receiver's check: HMAC-SHA256 of "<timestamp>.<body>" with the shared secret."""
    mac = hmac.new(secret.encode(), headers[TIMESTAMP_HEADER].encode() + b"." + raw, hashlib.sha256)
    return headers[SIGNATURE_HEADER] == f"sha256={mac.hexdigest()}"


class Receiver:
    """HTTP server: answers 503 to the first ``failures`` POSTs, then 200; records bodies."""

    def __init__(self, failures: int = 0) -> None:
        self.failures = failures
        self.received: list[tuple[dict[str, str], bytes]] = []
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                raw = self.rfile.read(int(self.headers["Content-Length"]))
                outer.received.append((dict(self.headers), raw))
                status = 503 if len(outer.received) <= outer.failures else 200
                payload = json.dumps({"ok": status == 200, "result": {}}).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)

            def log_message(self, *args: object) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self) -> None:
        self.server.shutdown()


class Inbox:
    def __init__(self) -> None:
        self.messages: list[Any] = []

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        self.messages.append(envelope)
        return "250 OK"


@pytest.fixture
def smtp() -> Iterator[tuple[Inbox, int]]:
    inbox, port = Inbox(), free_port()
    controller = Controller(inbox, hostname="127.0.0.1", port=port)
    controller.start()
    yield inbox, port
    controller.stop()


@pytest.fixture
def factory(database_url):
    return make_sessionmaker(make_engine(database_url))


def queue(factory, channel: Channel, target: str, body: dict, subject: str | None = None) -> int:
    with factory() as session:
        message = enqueue(session, channel, target, body, subject=subject, now=T0)
        session.commit()
        return message.id


def stored(factory, message_id: int) -> OutboxMessage:
    with factory() as session:
        return session.scalars(select(OutboxMessage).where(OutboxMessage.id == message_id)).one()


def test_a_failing_webhook_is_retried_with_backoff_until_it_succeeds(factory):
    receiver = Receiver(failures=2)
    try:
        body = {"event": "report.assigned", "code": "PA-2026-000123", "text": "Phản ánh mới"}
        message_id = queue(factory, Channel.WEBHOOK, receiver.url + "/hook", body)
        senders = {Channel.WEBHOOK: WebhookSender(SECRET)}

        assert deliver_due(factory, senders, now=T0) == {"sent": 0, "retry": 1, "failed": 0}
        first = stored(factory, message_id)
        assert (first.status, first.attempts) == (Delivery.PENDING, 1)
        assert first.next_attempt_at == T0 + backoff(1)
        assert first.last_error == "HTTP 503"
        # Not due yet: nothing is sent early.
        assert deliver_due(factory, senders, now=T0 + timedelta(seconds=10))["retry"] == 0

        assert deliver_due(factory, senders, now=first.next_attempt_at)["retry"] == 1
        second = stored(factory, message_id)
        assert second.next_attempt_at - first.next_attempt_at == backoff(2) > backoff(1)

        assert deliver_due(factory, senders, now=second.next_attempt_at)["sent"] == 1
        done = stored(factory, message_id)
        assert (done.status, done.attempts, done.last_error) == (Delivery.SENT, 3, None)
        assert len(receiver.received) == 3
        headers, raw = receiver.received[-1]
        assert json.loads(raw) == {**body, "delivery_id": message_id}
        assert signed_with(SECRET, headers, raw)
    finally:
        receiver.close()


def test_a_message_that_never_gets_through_is_marked_failed_and_kept(factory):
    dead = f"http://127.0.0.1:{free_port()}/nobody"
    message_id = queue(factory, Channel.WEBHOOK, dead, {"text": "x"})
    senders = {Channel.WEBHOOK: WebhookSender(SECRET, timeout=2)}
    now = T0
    for _ in range(MAX_ATTEMPTS):
        deliver_due(factory, senders, now=now)
        now = stored(factory, message_id).next_attempt_at
    gave_up = stored(factory, message_id)
    assert (gave_up.status, gave_up.attempts) == (Delivery.FAILED, MAX_ATTEMPTS)
    assert gave_up.last_error.startswith("ConnectError")
    assert deliver_due(factory, senders, now=now + timedelta(days=1)) == {
        "sent": 0,
        "retry": 0,
        "failed": 0,
    }


def test_an_email_reaches_a_real_smtp_server(factory, smtp):
    inbox, port = smtp
    message_id = queue(
        factory,
        Channel.EMAIL,
        "tiepnhan@ubnd-thuanhoa.example",
        {"text": "Phản ánh PA-2026-000123: đèn đường kiệt 45 Phan Đình Phùng tắt."},
        subject="Phản ánh mới PA-2026-000123",
    )
    sender = EmailSender(host="127.0.0.1", port=port, sender="hue-s@example.invalid")
    assert deliver_due(factory, {Channel.EMAIL: sender}, now=T0)["sent"] == 1
    [envelope] = inbox.messages
    assert envelope.rcpt_tos == ["tiepnhan@ubnd-thuanhoa.example"]
    mail = message_from_bytes(envelope.content)
    assert str(make_header(decode_header(mail["Subject"]))) == "Phản ánh mới PA-2026-000123"
    assert "đèn đường kiệt 45" in mail.get_payload(decode=True).decode("utf-8")
    assert stored(factory, message_id).status is Delivery.SENT


def test_an_email_is_retried_while_the_smtp_server_is_down(factory):
    message_id = queue(factory, Channel.EMAIL, "a@example.invalid", {"text": "x"})
    sender = EmailSender(host="127.0.0.1", port=free_port(), sender="hue-s@example.invalid")
    assert deliver_due(factory, {Channel.EMAIL: sender}, now=T0)["retry"] == 1
    assert stored(factory, message_id).status is Delivery.PENDING


def test_a_telegram_group_message_goes_through_the_bot_api(factory):
    api = Receiver()
    try:
        queue(factory, Channel.TELEGRAM, "-1001234567890", {"text": "Phản ánh mới PA-2026-000123"})
        sender = TelegramSender(token="123:ABC", api_base=api.url)
        assert deliver_due(factory, {Channel.TELEGRAM: sender}, now=T0)["sent"] == 1
        [(_headers, raw)] = api.received
        assert json.loads(raw) == {
            "chat_id": "-1001234567890",
            "text": "Phản ánh mới PA-2026-000123",
        }
    finally:
        api.close()


def test_a_channel_without_a_sender_is_retried_not_lost(factory):
    message_id = queue(factory, Channel.TELEGRAM, "-100", {"text": "x"})
    assert deliver_due(factory, {}, now=T0)["retry"] == 1
    assert stored(factory, message_id).last_error == "no sender configured for telegram"
