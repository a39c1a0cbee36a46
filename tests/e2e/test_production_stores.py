"""The production configuration: PostgreSQL for the service and Rasa's tracker store, and
the Redis lock store of endpoints.production.yml (PostgreSQL and Redis run locally here)."""

from __future__ import annotations

import socket
from collections.abc import Iterator

import httpx
import psycopg
import pytest

from bot import devserver, engine
from bot.applications.seed import seed_demo
from bot.conversations.citizens import web_sender_id
from bot.db import make_engine, make_sessionmaker
from bot.procedures.importer import import_catalog
from bot.settings import Environment, Settings
from tests.service.conftest import free_port, migrate, postgres_url, temporary_postgres

SECRET = "e2e-production-secret-0123456789"
REDIS_LOCK_DB = 13  # a database nothing else on the machine uses


@pytest.fixture(scope="module")
def production_stack() -> Iterator[dict[str, object]]:
    if engine.latest_model() is None:
        pytest.fail("no trained model in models/: run `make train` first")
    with (
        temporary_postgres("hue_s_e2e") as service_db,
        temporary_postgres("hue_s_e2e_tracker") as tracker_db,
    ):
        yield from _stack(service_db, tracker_db)


def _stack(service_db: str, tracker_db: str) -> Iterator[dict[str, object]]:
    settings = Settings(
        environment=Environment.TEST,
        database_url=postgres_url(service_db),
        tracker_store_url=f"postgresql://postgres@127.0.0.1:5432/{tracker_db}",
        gateway_secret=SECRET,  # type: ignore[arg-type]
        _env_file=None,  # type: ignore[call-arg]
    )
    migrate(settings.database_url)
    factory = make_sessionmaker(make_engine(settings.database_url))
    import_catalog(factory)
    seed_demo(factory)
    ports = {"port": free_port(), "rasa_port": free_port(), "action_port": free_port()}
    children = devserver.build_children(settings, endpoints="endpoints.production.yml", **ports)
    devserver.one_address_for_many_citizens(children)
    for child in children:
        child.env = {
            **(child.env or {}),
            "REDIS_HOST": "127.0.0.1",
            "REDIS_PORT": "6379",
            "REDIS_LOCK_DB": str(REDIS_LOCK_DB),
        }
    try:
        for child in children:
            child.start()
        dead = devserver.wait_healthy(children, timeout=240)
        assert dead is None, f"{dead.name} died while starting" if dead else ""
        yield {"settings": settings, "tracker_db": tracker_db, **ports}
    finally:
        devserver.stop_all(children)


def test_a_conversation_keeps_its_context_in_the_postgresql_tracker(production_stack):
    url = f"http://127.0.0.1:{production_stack['port']}/api/v1/chat"
    first = httpx.post(url, json={"text": "đăng ký kết hôn cần giấy tờ gì"}, timeout=60).json()
    assert "Mã thủ tục: 1.000894" in first["replies"][0]["text"]
    follow = httpx.post(
        url, json={"text": "còn lệ phí thì sao", "session_id": first["session_id"]}, timeout=60
    ).json()
    assert "Mã thủ tục: 1.000894" in follow["replies"][0]["text"]
    with psycopg.connect(
        f"postgresql://postgres@127.0.0.1:5432/{production_stack['tracker_db']}"
    ) as tracker:
        (count,) = tracker.execute(
            "SELECT count(*) FROM events WHERE sender_id = %s",
            (web_sender_id(first["session_id"]),),
        ).fetchone()  # type: ignore[misc]
    assert count > 4


def redis_client_list() -> str:
    """CLIENT LIST from the local Redis, over its wire protocol (no client library needed)."""
    with socket.create_connection(("127.0.0.1", 6379), timeout=5) as conn:
        conn.sendall(b"*2\r\n$6\r\nCLIENT\r\n$4\r\nLIST\r\n")
        data = b""
        while not data.endswith(b"\r\n") or data.count(b"\r\n") < 2:
            chunk = conn.recv(65536)
            if not chunk:
                break
            data += chunk
    return data.decode("utf-8", errors="replace")


def test_rasa_holds_a_connection_to_the_redis_lock_store(production_stack):
    # The conversation above went through the lock store: its connection pool stays open,
    # on the lock database.
    clients = redis_client_list()
    assert f" db={REDIS_LOCK_DB} " in clients
