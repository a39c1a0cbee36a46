"""The whole assistant, as `make run` starts it: real Rasa, action server and service.

Needs a trained model in models/ (scripts/test.sh trains it once per run).
"""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest
from sqlalchemy import select

from bot import devserver, engine
from bot.conversations.models import Direction, Message, MessageStatus
from bot.db import make_engine, make_sessionmaker
from bot.settings import Environment, Settings
from tests.service.conftest import free_port, migrate

SECRET = "e2e-gateway-secret-0123456789"


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, object]]:
    if engine.latest_model() is None:
        pytest.fail("no trained model in models/: run `make train` first")
    tmp = tmp_path_factory.mktemp("e2e")
    settings = Settings(
        environment=Environment.TEST,
        database_url=f"sqlite:///{tmp / 'service.db'}",
        tracker_store_url=f"sqlite:///{tmp / 'tracker.db'}",
        gateway_secret=SECRET,  # type: ignore[arg-type]
        _env_file=None,  # type: ignore[call-arg]
    )
    migrate(settings.database_url)
    ports = {"port": free_port(), "rasa_port": free_port(), "action_port": free_port()}
    children = devserver.build_children(settings, **ports)
    try:
        for child in children:
            child.start()
        dead = devserver.wait_healthy(children, timeout=240)
        assert dead is None, f"{dead.name} died while starting" if dead else ""
        yield {"settings": settings, **ports}
    finally:
        devserver.stop_all(children)


def chat(stack, text: str, session_id: str | None = None) -> dict:
    response = httpx.post(
        f"http://127.0.0.1:{stack['port']}/api/v1/chat",
        json={"text": text, "session_id": session_id},
        timeout=60,
    )
    assert response.status_code == 200, response.text
    return response.json()


def texts(reply: dict) -> str:
    return "\n".join(r["text"] or "" for r in reply["replies"])


def test_greeting_is_answered_with_buttons(stack):
    reply = chat(stack, "chào bạn")
    assert "Xin chào" in texts(reply)
    assert {b["payload"] for b in reply["replies"][0]["buttons"]} >= {
        "/ask_procedure",
        "/report_problem",
    }


def test_informal_procedure_question_and_follow_up(stack):
    first = chat(stack, "lam cccd o mo rua")
    assert "nơi nộp hồ sơ" in texts(first)
    follow = chat(stack, "còn lệ phí thì sao", session_id=first["session_id"])
    assert "lệ phí" in texts(follow)


def test_out_of_scope_gets_a_friendly_answer(stack):
    assert "ngoài phạm vi" in texts(chat(stack, "cho hỏi giá vàng hôm nay bao nhiêu"))


def test_every_message_is_in_the_log(stack):
    reply = chat(stack, "cảm ơn nhiều nha")
    factory = make_sessionmaker(make_engine(stack["settings"].database_url))
    with factory() as session:
        rows = list(
            session.scalars(
                select(Message).where(Message.sender_id == f"web:{reply['session_id']}")
            )
        )
    assert [(m.direction, m.status) for m in rows] == [
        (Direction.INBOUND, MessageStatus.PROCESSED),
        (Direction.OUTBOUND, MessageStatus.SENT),
    ]


def test_rasa_refuses_requests_without_the_gateway_secret(stack):
    url = f"http://127.0.0.1:{stack['rasa_port']}/webhooks/gateway/webhook"
    body = {"sender": "attacker", "message": "chào"}
    assert httpx.post(url, json=body).status_code == 401
    assert httpx.post(url, json=body, headers={"X-Gateway-Secret": "wrong"}).status_code == 401
    ok = httpx.post(url, json=body, headers={"X-Gateway-Secret": SECRET}, timeout=60)
    assert ok.status_code == 200 and ok.json()["messages"]


def test_rasa_rest_channel_is_not_exposed(stack):
    url = f"http://127.0.0.1:{stack['rasa_port']}/webhooks/rest/webhook"
    assert httpx.post(url, json={"sender": "x", "message": "chào"}).status_code == 404
