"""Service tests: the app on a migrated database (SQLite and PostgreSQL) and a local Rasa stand-in.

The Rasa stand-in is a real HTTP server on localhost that speaks the gateway channel's
protocol (and checks its secret); the real Rasa server is exercised by tests/e2e.
"""

from __future__ import annotations

import socket
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import httpx
import psycopg
import pytest
import uvicorn
from alembic import command
from alembic.config import Config
from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse
from fastapi.testclient import TestClient

from bot.app import create_app
from bot.logs import configure_logging
from bot.settings import ROOT, Environment, Settings
from bot.staff.models import Role
from bot.staff.security import create_staff

SECRET = "test-gateway-secret-0123456789"
# Staff accounts of the agency-side tests: two commune staff and an operations-centre operator.
STAFF_PASSWORD = "mật khẩu đủ dài 2026"
STAFF_TOKEN_SECRET = "staff-token-secret-for-tests-0123456789"
STAFF = (
    ("lan", Role.AGENCY_STAFF, "ubnd_thuan_hoa"),
    ("minh", Role.AGENCY_STAFF, "ubnd_vy_da"),
    ("ioc", Role.OPERATOR, None),
)
PG_ADMIN_DSN = "postgresql://postgres@127.0.0.1:5432/postgres"


@pytest.fixture(autouse=True, scope="session")
def _logging() -> None:
    """Log as the service's processes do (plain tracebacks, not `rich`'s slow local dumps)."""
    configure_logging()


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def migrate(url: str, revision: str = "head") -> None:
    config = Config(str(ROOT / "alembic.ini"))
    config.set_main_option("script_location", str(ROOT / "bot" / "migrations"))
    config.cmd_opts = type("Opts", (), {"x": [f"url={url}"]})()  # type: ignore[assignment]
    command.upgrade(config, revision)


def downgrade(url: str, revision: str) -> None:
    config = Config(str(ROOT / "alembic.ini"))
    config.set_main_option("script_location", str(ROOT / "bot" / "migrations"))
    config.cmd_opts = type("Opts", (), {"x": [f"url={url}"]})()  # type: ignore[assignment]
    command.downgrade(config, revision)


@contextmanager
def temporary_postgres(prefix: str = "hue_s_test") -> Iterator[str]:
    """A new, empty database on the local PostgreSQL server (its name), dropped afterwards."""
    name = f"{prefix}_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(PG_ADMIN_DSN, autocommit=True) as admin:
        admin.execute(f'CREATE DATABASE "{name}"')
    try:
        yield name
    finally:
        with psycopg.connect(PG_ADMIN_DSN, autocommit=True) as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def postgres_url(name: str) -> str:
    return f"postgresql+psycopg://postgres@127.0.0.1:5432/{name}"


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def database_url(request: pytest.FixtureRequest, tmp_path) -> Iterator[str]:
    """An empty database of each kind, migrated to head."""
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path / 'test.db'}"
        migrate(url)
        yield url
        return
    with temporary_postgres() as name:
        migrate(postgres_url(name))
        yield postgres_url(name)


def echo(body: dict[str, Any]) -> list[dict[str, Any]]:
    return [{"recipient_id": body["sender"], "text": f"Bạn vừa nói: {body['message']}"}]


class FakeRasa:
    """A local HTTP server speaking the gateway channel protocol; replies via a handler."""

    def __init__(self) -> None:
        self.port = free_port()
        self.calls: list[dict[str, Any]] = []
        self.handler: Callable[[dict[str, Any]], list[dict[str, Any]]] = echo
        app = FastAPI()

        @app.post("/webhooks/gateway/webhook")
        async def webhook(request: Request) -> JSONResponse:
            if request.headers.get("X-Gateway-Secret") != SECRET:
                return JSONResponse({"error": "unauthorised"}, status_code=401)
            body = await request.json()
            self.calls.append(body)
            return JSONResponse({"messages": self.handler(body)})

        @app.get("/webhooks/gateway/")
        async def health() -> dict[str, str]:
            return {"status": "ok"}

        self.server = uvicorn.Server(
            uvicorn.Config(app, host="127.0.0.1", port=self.port, log_level="warning")
        )
        self.thread = threading.Thread(target=self.server.run, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def __enter__(self) -> FakeRasa:
        self.thread.start()
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            try:
                httpx.get(self.url + "/webhooks/gateway/")
                return self
            except httpx.HTTPError:
                time.sleep(0.05)
        raise RuntimeError("fake Rasa did not start")

    def __exit__(self, *exc: object) -> None:
        self.server.should_exit = True
        self.thread.join(timeout=5)


@pytest.fixture(scope="session")
def fake_rasa() -> Iterator[FakeRasa]:
    with FakeRasa() as rasa:
        yield rasa


@pytest.fixture
def settings(database_url: str, fake_rasa: FakeRasa) -> Settings:
    return Settings(
        environment=Environment.TEST,
        database_url=database_url,
        rasa_url=fake_rasa.url,
        gateway_secret=SECRET,  # type: ignore[arg-type]
        max_message_chars=200,
        _env_file=None,  # type: ignore[call-arg]
    )


@pytest.fixture
def client(settings: Settings, fake_rasa: FakeRasa) -> Iterator[TestClient]:
    fake_rasa.calls.clear()
    fake_rasa.handler = echo
    with TestClient(create_app(settings)) as test_client:
        yield test_client


def add_staff(session: Any) -> None:
    """The accounts of ``STAFF``, with ``STAFF_PASSWORD``."""
    for username, role, agency in STAFF:
        create_staff(session, username=username, display_name=username, password=STAFF_PASSWORD,
                     role=role, agency_code=agency)  # fmt: skip


def staff_login(client: TestClient, username: str) -> dict[str, str]:
    """The Bearer header of a staff account of ``STAFF``, logged in over the API."""
    response = client.post(
        "/api/v1/staff/login", json={"username": username, "password": STAFF_PASSWORD}
    )
    assert response.status_code == 200, response.text
    return {"Authorization": f"Bearer {response.json()['token']}"}
