"""A notification survives the outbox worker dying in the middle of sending it."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from sqlalchemy import select

from bot.db import make_engine, make_sessionmaker
from bot.outbox.models import Channel, Delivery, OutboxMessage
from bot.outbox.worker import enqueue
from bot.settings import ROOT


class SlowAgency:
    """A webhook receiver that holds the first request until released, then answers 200."""

    def __init__(self) -> None:
        self.bodies: list[bytes] = []
        self.first_arrived = threading.Event()
        self.release = threading.Event()
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers["Content-Length"]))
                outer.bodies.append(body)
                if len(outer.bodies) == 1:
                    outer.first_arrived.set()
                    outer.release.wait(timeout=30)
                self.send_response(200)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hook"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self) -> None:
        self.release.set()
        self.server.shutdown()


def worker(
    database_url: str, *args: str, env: dict[str, str] | None = None
) -> subprocess.Popen[bytes]:
    env = {
        **os.environ,
        "DATABASE_URL": database_url,
        "OUTBOX_INTERVAL_SECONDS": "0.2",
        "ENVIRONMENT": "test",
        **(env or {}),
    }
    return subprocess.Popen(
        [sys.executable, "-m", "bot.cli", "outbox", "run", *args],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )


def test_a_message_the_worker_was_sending_when_killed_is_sent_by_the_next_worker(database_url):
    factory = make_sessionmaker(make_engine(database_url))
    agency = SlowAgency()
    try:
        with factory() as session:
            message = enqueue(
                session, Channel.WEBHOOK, agency.url, {"event": "report.assigned", "code": "PA-1"}
            )
            session.commit()
            message_id = message.id
        first = worker(database_url)
        try:
            assert agency.first_arrived.wait(timeout=60), "the worker never sent the webhook"
        finally:
            first.send_signal(signal.SIGKILL)
            first.wait(timeout=10)
        agency.release.set()
        with factory() as session:
            stored = session.get(OutboxMessage, message_id)
            assert stored is not None
            # Nothing was recorded: the message is still due, as if never tried.
            assert (stored.status, stored.attempts) == (Delivery.PENDING, 0)
        second = worker(database_url, "--once")
        _, errors = second.communicate(timeout=60)
        assert second.returncode == 0, errors.decode()[-2000:]
        with factory() as session:
            stored = session.scalars(select(OutboxMessage)).one()
            assert (stored.status, stored.attempts) == (Delivery.SENT, 1)
        # Delivered at least once; the repeat carries the same id for the receiver to drop.
        assert len(agency.bodies) == 2
        assert agency.bodies[0] == agency.bodies[1]
        assert f'"delivery_id":{message_id}'.encode() in agency.bodies[1]
    finally:
        agency.close()
