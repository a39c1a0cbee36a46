"""POST /api/v1/chat through the ASGI app on a migrated database, Rasa on a local socket."""

from __future__ import annotations

import unicodedata
from collections.abc import Callable

import anyio
from fastapi.testclient import TestClient
from pydantic import SecretStr
from sqlalchemy import select

from bot.conversations.citizens import web_sender_id
from bot.conversations.history import conversation_history
from bot.conversations.models import Direction, Message, MessageStatus
from bot.conversations.rasa import open_rasa
from bot.conversations.service import Inbound, handle_message, record_inbound
from bot.db import make_engine, make_sessionmaker
from bot.settings import Settings
from tests.service.conftest import echo


def stored(settings: Settings) -> list[Message]:
    factory = make_sessionmaker(make_engine(settings.database_url))
    with factory() as session:
        return list(session.scalars(select(Message).order_by(Message.id)))


def test_a_message_is_answered_and_both_sides_are_stored(client: TestClient, settings, fake_rasa):
    response = client.post("/api/v1/chat", json={"text": "làm căn cước ở mô rứa?"})
    assert response.status_code == 200
    body = response.json()
    assert len(body["session_id"]) == 32
    assert body["replies"] == [
        {
            "text": "Bạn vừa nói: làm căn cước ở mô rứa?",
            "buttons": [],
            "image": None,
            "custom": None,
        }
    ]
    [call] = fake_rasa.calls
    assert call["sender"] == web_sender_id(body["session_id"])  # the session id is never sent on
    assert call["metadata"]["channel"] == "web"
    inbound, outbound = stored(settings)
    assert (inbound.direction, inbound.status, inbound.text) == (
        Direction.INBOUND,
        MessageStatus.PROCESSED,
        "làm căn cước ở mô rứa?",
    )
    assert inbound.processed_at is not None and inbound.created_at.tzinfo is not None
    assert (outbound.direction, outbound.text) == (
        Direction.OUTBOUND,
        "Bạn vừa nói: làm căn cước ở mô rứa?",
    )
    assert call["message_id"] == str(inbound.id)


def test_the_message_is_committed_before_rasa_sees_it(client: TestClient, settings, fake_rasa):
    seen: list[tuple[str, MessageStatus]] = []

    def handler(body):
        [row] = [m for m in stored(settings) if m.id == int(body["message_id"])]
        seen.append((row.text, row.status))
        return []

    fake_rasa.handler = handler
    assert client.post("/api/v1/chat", json={"text": "alo"}).status_code == 200
    assert seen == [("alo", MessageStatus.RECEIVED)]


def test_text_is_normalised_to_nfc_at_the_edge(client: TestClient, fake_rasa):
    nfd = unicodedata.normalize("NFD", "  Đăng ký   khai sinh\u200b ")
    client.post("/api/v1/chat", json={"text": nfd})
    assert fake_rasa.calls[-1]["message"] == "Đăng ký khai sinh"


def test_the_session_continues_with_its_id(client: TestClient, fake_rasa):
    first = client.post("/api/v1/chat", json={"text": "xin chào"}).json()
    client.post("/api/v1/chat", json={"text": "cảm ơn", "session_id": first["session_id"]})
    assert fake_rasa.calls[0]["sender"] == fake_rasa.calls[1]["sender"]


def test_button_payload_and_location_are_forwarded(client: TestClient, fake_rasa):
    response = client.post(
        "/api/v1/chat",
        json={
            "payload": "/ask_procedure_fee",
            "location": {"latitude": 16.4637, "longitude": 107.5909},
        },
    )
    assert response.status_code == 200
    call = fake_rasa.calls[-1]
    assert call["message"] == "/ask_procedure_fee"
    assert call["metadata"]["location"] == {"latitude": 16.4637, "longitude": 107.5909}


def test_buttons_from_rasa_are_returned(client: TestClient, fake_rasa):
    fake_rasa.handler = lambda body: [
        {
            "text": "Bạn muốn gì?",
            "buttons": [{"title": "Hỏi lệ phí", "payload": "/ask_procedure_fee"}],
        }
    ]
    reply = client.post("/api/v1/chat", json={"text": "?"}).json()["replies"][0]
    assert reply["buttons"] == [{"title": "Hỏi lệ phí", "payload": "/ask_procedure_fee"}]


def assert_refused(response, status: int, code: str) -> None:
    assert response.status_code == status
    error = response.json()["error"]
    assert error["code"] == code
    assert error["message"]  # a Vietnamese sentence for the citizen


def test_empty_message_is_refused_and_nothing_is_stored(client: TestClient, settings, fake_rasa):
    assert_refused(client.post("/api/v1/chat", json={"text": "   \u200b "}), 422, "empty_message")
    assert_refused(client.post("/api/v1/chat", json={}), 422, "empty_message")
    assert stored(settings) == [] and fake_rasa.calls == []


def test_too_long_message_is_refused_politely(client: TestClient, settings):
    response = client.post("/api/v1/chat", json={"text": "ổ gà " * 100})
    assert_refused(response, 422, "message_too_long")
    assert "rút gọn" in response.json()["error"]["message"]
    assert stored(settings) == []


def test_malformed_json_and_bad_fields_are_refused(client: TestClient, settings):
    assert_refused(
        client.post(
            "/api/v1/chat", content=b"{not json", headers={"content-type": "application/json"}
        ),
        422,
        "invalid_request",
    )
    assert_refused(
        client.post("/api/v1/chat", json={"text": "hi", "session_id": "../../etc"}),
        422,
        "invalid_request",
    )
    assert_refused(client.post("/api/v1/chat", json={"payload": "hello"}), 422, "invalid_request")
    assert_refused(
        client.post(
            "/api/v1/chat", json={"text": "hi", "location": {"latitude": 200, "longitude": 0}}
        ),
        422,
        "invalid_request",
    )
    assert stored(settings) == []


def test_rasa_down_keeps_the_message_as_failed(settings: Settings):
    from bot.app import create_app
    from tests.service.conftest import free_port

    down = settings.model_copy(update={"rasa_url": f"http://127.0.0.1:{free_port()}"})
    with TestClient(create_app(down)) as client:
        response = client.post("/api/v1/chat", json={"text": "đèn đường tắt"})
    assert_refused(response, 503, "assistant_unavailable")
    assert "đã được lưu" in response.json()["error"]["message"]
    [message] = stored(settings)
    assert (message.text, message.status) == ("đèn đường tắt", MessageStatus.FAILED)
    assert message.error


def test_wrong_gateway_secret_is_a_failure_not_an_answer(settings: Settings):
    from bot.app import create_app

    wrong = settings.model_copy(update={"gateway_secret": SecretStr("another-secret-0123456789")})
    with TestClient(create_app(wrong)) as client:
        assert_refused(
            client.post("/api/v1/chat", json={"text": "alo"}), 503, "assistant_unavailable"
        )
    assert stored(settings)[0].status == MessageStatus.FAILED


def test_health_and_readiness(client: TestClient):
    assert client.get("/healthz").json() == {"status": "ok"}
    ready = client.get("/readyz")
    assert ready.status_code == 200
    assert ready.json() == {"ready": True, "database": "ok", "rasa": "ok"}


def test_unknown_route_is_a_vietnamese_404(client: TestClient):
    assert_refused(client.get("/api/v1/nothing"), 404, "not_found")


def test_openapi_documents_the_chat_endpoint(client: TestClient):
    schema = client.get("/openapi.json").json()
    assert "/api/v1/chat" in schema["paths"]


def test_a_responses_custom_part_comes_with_its_text(client: TestClient, fake_rasa):
    # Rasa sends a response's `custom` as a message of its own; the gateway puts it back.
    fake_rasa.handler = lambda body: [
        {"text": "Sự việc ở đâu ạ?"},
        {"custom": {"request_location": True}},
        {"text": "Thêm một câu."},
    ]
    replies = client.post("/api/v1/chat", json={"text": "đèn đường tắt"}).json()["replies"]
    assert [(r["text"], r["custom"]) for r in replies] == [
        ("Sự việc ở đâu ạ?", {"request_location": True}),
        ("Thêm một câu.", None),
    ]


def test_replies_written_after_a_later_message_keep_their_place(settings: Settings, fake_rasa):
    """An HTTP channel stores the replies after answering; the history still reads in order."""
    fake_rasa.handler = echo
    factory = make_sessionmaker(make_engine(settings.database_url))
    deferred: list[Callable[[], None]] = []

    async def first_message() -> None:
        async with open_rasa(settings) as rasa:
            await handle_message(
                session_factory=factory,
                rasa=rasa,
                inbound=Inbound(sender_id="web:order", channel="web", text="một", metadata={}),
                defer=deferred.append,
            )

    anyio.run(first_message)
    assert [m.text for m in stored(settings)] == ["một"]  # the reply is not written yet
    record_inbound(factory, Inbound(sender_id="web:order", channel="web", text="hai", metadata={}))
    [write_replies] = deferred
    write_replies()
    with factory() as session:
        history = conversation_history(session, "web:order")
    assert [(m.role, m.text) for m in history.messages] == [
        ("citizen", "một"),
        ("assistant", "Bạn vừa nói: một"),
        ("citizen", "hai"),
    ]
    first = stored(settings)[0]
    assert first.status is MessageStatus.PROCESSED and first.processed_at is not None
