"""Messages the assistant could not answer are answered later: once, in order, or said not to be.

Against a local stand-in of Rasa's gateway channel that keeps a tracker of the message ids it
processed (as hue_rasa.channel does with Rasa's tracker), and whose action server can be
"down" (HTTP 503, the turn not kept, as the real channel rewinds it). The real channel and
Rasa are exercised by tests/e2e/test_faults.py.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import anyio
import httpx
import pytest
import uvicorn
from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from bot.app import create_app
from bot.conversations.backlog import REPLAY_WINDOW, drain
from bot.conversations.history import conversation_history
from bot.conversations.models import Direction, Message, MessageStatus
from bot.conversations.rasa import open_rasa
from bot.conversations.replay import Replayer
from bot.conversations.service import AssistantUnavailableError, Inbound, handle_message
from bot.db import make_engine, make_sessionmaker, utcnow
from bot.outbox.models import Channel, OutboxMessage
from bot.settings import Settings
from tests.service.conftest import SECRET, free_port


class Gateway:
    """A stand-in of Rasa's gateway channel with a tracker of processed message ids."""

    def __init__(self) -> None:
        self.port = free_port()
        self.actions_up = True
        self.failing: set[str] = set()  # texts whose custom action always fails
        self.processed: list[tuple[str, str]] = []  # (sender, text) in the order Rasa ran them
        self.tracker: dict[str, list[dict[str, Any]]] = {}  # message id → the replies it got
        self.delay = 0.0
        app = FastAPI()

        @app.post("/webhooks/gateway/webhook")
        async def webhook(request: Request) -> JSONResponse:
            if request.headers.get("X-Gateway-Secret") != SECRET:
                return JSONResponse({"error": "unauthorised"}, status_code=401)
            body = await request.json()
            message_id = body.get("message_id")
            if body.get("replay") and message_id in self.tracker:
                return JSONResponse(
                    {"messages": self.tracker[message_id], "already_processed": True}
                )
            if body.get("replay") == "check":
                return JSONResponse({"messages": [], "already_processed": False})
            if not self.actions_up or body["message"] in self.failing:
                return JSONResponse({"error": "action_failed"}, status_code=503)
            await anyio.sleep(self.delay)
            self.processed.append((body["sender"], body["message"]))
            replies = [{"recipient_id": body["sender"], "text": f"Đáp: {body['message']}"}]
            self.tracker[message_id] = replies
            return JSONResponse({"messages": replies, "already_processed": False})

        @app.get("/webhooks/gateway/")
        async def health() -> dict[str, str]:
            return {"status": "ok"}

        @app.get("/webhooks/gateway/ready")
        async def ready() -> JSONResponse:
            up = self.actions_up
            return JSONResponse({"actions": "ok" if up else "down"}, 200 if up else 503)

        self.server = uvicorn.Server(
            uvicorn.Config(app, host="127.0.0.1", port=self.port, log_level="warning")
        )
        self.thread = threading.Thread(target=self.server.run, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def reset(self) -> None:
        self.actions_up, self.delay = True, 0.0
        self.failing.clear()
        self.processed.clear()
        self.tracker.clear()

    def __enter__(self) -> Gateway:
        self.thread.start()
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            try:
                httpx.get(self.url + "/webhooks/gateway/")
                return self
            except httpx.HTTPError:
                time.sleep(0.05)
        raise RuntimeError("gateway stand-in did not start")

    def __exit__(self, *exc: object) -> None:
        self.server.should_exit = True
        self.thread.join(timeout=5)


@pytest.fixture(scope="module")
def gateway() -> Iterator[Gateway]:
    with Gateway() as server:
        yield server


@pytest.fixture
def up(settings: Settings, gateway: Gateway) -> Settings:
    gateway.reset()
    return settings.model_copy(update={"rasa_url": gateway.url})


@pytest.fixture
def down(settings: Settings) -> Settings:
    """Rasa not running at all."""
    return settings.model_copy(update={"rasa_url": f"http://127.0.0.1:{free_port()}"})


@pytest.fixture
def factory(settings: Settings) -> Iterator[sessionmaker[Session]]:
    engine = make_engine(settings.database_url)
    yield make_sessionmaker(engine)
    engine.dispose()


def send(settings: Settings, factory, sender: str, text: str) -> list[dict[str, Any]] | None:
    """One live message; None when the citizen was told the assistant is busy."""

    async def go() -> list[dict[str, Any]] | None:
        async with open_rasa(settings) as rasa:
            try:
                return await handle_message(
                    session_factory=factory,
                    rasa=rasa,
                    inbound=Inbound(sender_id=sender, channel=sender.split(":")[0], text=text,
                                    metadata={}),
                )  # fmt: skip
            except AssistantUnavailableError:
                return None

    return anyio.run(go)


def inbound(factory, sender: str) -> list[tuple[str | None, MessageStatus]]:
    with factory() as session:
        rows = session.execute(
            select(Message.text, Message.status)
            .where(Message.sender_id == sender, Message.direction == Direction.INBOUND)
            .order_by(Message.id)
        ).all()
    return [(text, status) for text, status in rows]


def outbound(factory, sender: str) -> list[str | None]:
    with factory() as session:
        return list(
            session.scalars(
                select(Message.text)
                .where(Message.sender_id == sender, Message.direction == Direction.OUTBOUND)
                .order_by(Message.id)
            )
        )


def pushed(factory) -> list[OutboxMessage]:
    with factory() as session:
        return list(session.scalars(select(OutboxMessage).order_by(OutboxMessage.id)))


def age(factory, sender: str, by: timedelta) -> None:
    with factory.begin() as session:
        for row in session.scalars(select(Message).where(Message.sender_id == sender)):
            row.created_at -= by


def texts(replies: list[dict[str, Any]] | None) -> list[str]:
    return [r.get("text") or "" for r in replies or []]


WEB = "web:0123456789abcdef0123456789abcdef"
TELEGRAM = "telegram:424242"


def test_a_failed_message_is_answered_first_when_the_citizen_writes_again(
    up, down, factory, gateway
):
    assert send(down, factory, WEB, "làm căn cước ở đâu") is None
    assert inbound(factory, WEB) == [("làm căn cước ở đâu", MessageStatus.FAILED)]
    replies = texts(send(up, factory, WEB, "cảm ơn"))
    assert replies[0].startswith("Trợ lý đã hoạt động trở lại. Trả lời tin nhắn bạn gửi lúc")
    assert replies[0].endswith("“làm căn cước ở đâu”:")
    assert replies[1:] == ["Đáp: làm căn cước ở đâu", "Đáp: cảm ơn"]
    assert gateway.processed == [(WEB, "làm căn cước ở đâu"), (WEB, "cảm ơn")]
    assert [s for _, s in inbound(factory, WEB)] == [MessageStatus.PROCESSED] * 2
    with factory() as session:
        history = conversation_history(session, WEB)
    assert [(m.role, m.text) for m in history.messages] == [
        ("citizen", "làm căn cước ở đâu"),
        ("assistant", replies[0]),
        ("assistant", "Đáp: làm căn cước ở đâu"),
        ("citizen", "cảm ơn"),
        ("assistant", "Đáp: cảm ơn"),
    ]


def test_while_the_engine_is_still_down_later_messages_wait_behind_the_first(
    up, down, factory, gateway
):
    assert send(down, factory, WEB, "một") is None
    gateway.actions_up = False  # Rasa up, the action server not yet
    assert send(up, factory, WEB, "hai") is None
    assert gateway.processed == []
    assert inbound(factory, WEB) == [("một", MessageStatus.FAILED), ("hai", MessageStatus.FAILED)]
    assert Replayer(up, factory).run_once() == {"waiting_for_engine": 1}
    gateway.actions_up = True
    assert Replayer(up, factory).run_once() == {"replayed_citizens": 1}
    assert gateway.processed == [(WEB, "một"), (WEB, "hai")]
    assert [s for _, s in inbound(factory, WEB)] == [MessageStatus.PROCESSED] * 2


def test_the_replay_pass_answers_in_order_and_pushes_where_it_can(up, down, factory, gateway):
    for text in ("đèn đường tắt", "ở kiệt 45 Phan Đình Phùng"):
        assert send(down, factory, TELEGRAM, text) is None
    assert send(down, factory, WEB, "xin chào") is None
    assert Replayer(up, factory).run_once() == {"replayed_citizens": 2}
    assert [m for m in gateway.processed if m[0] == TELEGRAM] == [
        (TELEGRAM, "đèn đường tắt"),
        (TELEGRAM, "ở kiệt 45 Phan Đình Phùng"),
    ]
    assert [s for _, s in inbound(factory, TELEGRAM)] == [MessageStatus.PROCESSED] * 2
    # Telegram can be pushed to (one notice per answered message); the web chat cannot: its
    # page shows the answers in the history.
    first, second = pushed(factory)
    assert (first.channel, first.target) == (Channel.TELEGRAM, "424242")
    assert first.body["event"] == "conversation.replies"
    assert "“đèn đường tắt”:\n\nĐáp: đèn đường tắt" in first.body["text"]
    assert second.body["text"].endswith("Đáp: ở kiệt 45 Phan Đình Phùng")
    assert outbound(factory, WEB)[1:] == ["Đáp: xin chào"]
    # Nothing left: the next pass does nothing and sends nothing again.
    assert Replayer(up, factory).run_once() == {}
    assert len(gateway.processed) == 3


def test_a_message_rasa_had_already_processed_is_not_run_again(up, factory, gateway):
    # Rasa processed it, but the service never got the answer (it timed out or the
    # connection dropped): the replay returns the replies Rasa gave, without running it.
    gateway.delay = 1.5
    slow = up.model_copy(update={"rasa_timeout_seconds": 0.5})
    assert send(slow, factory, TELEGRAM, "/affirm") is None
    time.sleep(1.2)  # Rasa finishes the turn
    assert gateway.processed == [(TELEGRAM, "/affirm")]
    gateway.delay = 0
    Replayer(up, factory).run_once()
    assert gateway.processed == [(TELEGRAM, "/affirm")]
    assert inbound(factory, TELEGRAM) == [("/affirm", MessageStatus.PROCESSED)]
    # A button press is not quoted back to the citizen.
    header, answer = outbound(factory, TELEGRAM)
    assert header.startswith("Trợ lý đã hoạt động trở lại") and "“" not in header
    assert answer == "Đáp: /affirm"


def test_a_message_that_fails_again_with_everything_up_is_given_up_and_said(up, factory, gateway):
    gateway.failing.add("ảnh lỗi")
    assert send(up, factory, TELEGRAM, "ảnh lỗi") is None
    assert inbound(factory, TELEGRAM) == [("ảnh lỗi", MessageStatus.FAILED)]
    assert Replayer(up, factory).run_once() == {"replayed_citizens": 1}
    assert inbound(factory, TELEGRAM) == [("ảnh lỗi", MessageStatus.NOT_PROCESSED)]
    [notice] = outbound(factory, TELEGRAM)
    assert "“ảnh lỗi” chưa được trợ lý xử lý" in notice and "gửi lại" in notice
    [push] = pushed(factory)
    assert push.body["text"] == notice
    # The citizen's next message is answered normally.
    assert texts(send(up, factory, TELEGRAM, "chào")) == ["Đáp: chào"]


def test_too_old_messages_are_not_answered_late_but_the_citizen_is_told(up, down, factory, gateway):
    assert send(down, factory, TELEGRAM, "hỏi cũ") is None
    age(factory, TELEGRAM, REPLAY_WINDOW + timedelta(minutes=1))
    assert Replayer(up, factory).run_once() == {"too_old": 1}
    assert gateway.processed == []
    assert inbound(factory, TELEGRAM) == [("hỏi cũ", MessageStatus.NOT_PROCESSED)]
    [notice] = outbound(factory, TELEGRAM)
    assert "chưa được trợ lý xử lý" in notice
    assert [p.body["text"] for p in pushed(factory)] == [notice]
    with factory() as session:
        [item, told] = conversation_history(session, TELEGRAM).messages
    assert item.text == "hỏi cũ (chưa được xử lý)" and told.text == notice


def test_a_message_sent_again_replaces_its_waiting_copy(up, down, factory, gateway):
    assert send(down, factory, WEB, "lệ phí hộ chiếu") is None
    with factory() as session:
        [item] = conversation_history(session, WEB).messages
    assert item.text == "lệ phí hộ chiếu (đang chờ trợ lý trả lời)"
    assert texts(send(up, factory, WEB, "lệ phí hộ chiếu")) == ["Đáp: lệ phí hộ chiếu"]
    assert gateway.processed == [(WEB, "lệ phí hộ chiếu")]
    assert [s for _, s in inbound(factory, WEB)] == [
        MessageStatus.NOT_PROCESSED,
        MessageStatus.PROCESSED,
    ]
    assert outbound(factory, WEB) == ["Đáp: lệ phí hộ chiếu"]  # no notice: it was answered


def interrupted(factory, sender: str, text: str, message_id_in_tracker: bool, gateway) -> int:
    """A message whose process died after storing it (received, never settled)."""
    with factory.begin() as session:
        message = Message(
            sender_id=sender, channel="telegram", direction=Direction.INBOUND,
            status=MessageStatus.RECEIVED, text=text, created_at=utcnow() - timedelta(minutes=3),
        )  # fmt: skip
        session.add(message)
        session.flush()
        message_id = message.id
    if message_id_in_tracker:
        gateway.tracker[str(message_id)] = [{"text": f"Đáp: {text}"}]
    return message_id


def test_a_message_cut_off_by_a_dying_process_is_looked_up_never_run_late(up, factory, gateway):
    interrupted(factory, TELEGRAM, "đã xử lý", True, gateway)
    interrupted(factory, "telegram:99", "chưa xử lý", False, gateway)
    counts = Replayer(up, factory).run_once()
    assert counts == {"interrupted_processed": 1, "interrupted_not_processed": 1}
    assert gateway.processed == []  # neither was run now
    assert inbound(factory, TELEGRAM) == [("đã xử lý", MessageStatus.PROCESSED)]
    assert outbound(factory, TELEGRAM) == ["Đáp: đã xử lý"]
    assert inbound(factory, "telegram:99") == [("chưa xử lý", MessageStatus.NOT_PROCESSED)]
    [notice] = outbound(factory, "telegram:99")
    assert "chưa được trợ lý xử lý" in notice
    assert [(p.target, p.body["text"]) for p in pushed(factory)] == [("99", notice)]


def test_two_processes_replaying_at_once_send_each_message_once(up, down, factory, gateway):
    for text in ("một", "hai", "ba"):
        assert send(down, factory, WEB, text) is None
    gateway.delay = 0.2

    async def both() -> None:
        async with open_rasa(up) as rasa, anyio.create_task_group() as group:
            for _ in range(2):
                group.start_soon(_drain_quietly, factory, rasa)

    anyio.run(both)
    assert gateway.processed == [(WEB, "một"), (WEB, "hai"), (WEB, "ba")]
    assert [s for _, s in inbound(factory, WEB)] == [MessageStatus.PROCESSED] * 3


async def _drain_quietly(factory, rasa) -> None:
    from bot.conversations.backlog import BacklogBlockedError

    try:
        await drain(factory, rasa, WEB)
    except BacklogBlockedError:
        pass  # the other one holds the message: it goes on


def test_a_live_message_waits_for_an_earlier_one_another_process_is_replaying(
    up, down, factory, gateway
):
    assert send(down, factory, WEB, "một") is None
    gateway.delay = 0.5
    replaying = threading.Thread(target=Replayer(up, factory).run_once)
    replaying.start()
    deadline = time.monotonic() + 10
    while inbound(factory, WEB)[0][1] is not MessageStatus.REPLAYING:  # the pass claimed it
        assert time.monotonic() < deadline
        time.sleep(0.02)
    assert texts(send(up, factory, WEB, "hai"))[-1] == "Đáp: hai"
    replaying.join()
    assert gateway.processed == [(WEB, "một"), (WEB, "hai")]


def test_the_chat_api_says_busy_in_vietnamese_when_an_action_fails(up, gateway):
    gateway.actions_up = False
    with TestClient(create_app(up)) as client:
        response = client.post("/api/v1/chat", json={"text": "đèn đường tắt"})
    assert response.status_code == 503
    assert "tin nhắn của bạn đã được lưu lại" in response.json()["error"]["message"]
