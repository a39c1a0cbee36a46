"""The mini-app's page and JSON API: sessions, messages, history, photos, reports, limits."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from bot.app import create_app
from bot.channels.miniapp.models import MiniAppSession
from bot.channels.miniapp.routes import STATIC
from bot.channels.miniapp.sessions import prune_expired
from bot.conversations.models import Message
from bot.db import make_engine, make_sessionmaker, utcnow
from bot.settings import Settings
from tests.service.media.images import CITADEL, phone_jpeg
from tests.service.miniapp.hosts import file_report


def factory_of(settings: Settings):
    return make_sessionmaker(make_engine(settings.database_url))


def guest(client: TestClient) -> dict[str, str]:
    response = client.post("/api/v1/miniapp/session", json={})
    assert response.status_code == 201, response.text
    return {"Authorization": f"Bearer {response.json()['session_token']}"}


def sender_of(settings: Settings, headers: dict[str, str]) -> str:
    from bot.channels.miniapp.sessions import session_for_token

    with factory_of(settings)() as session:
        return session_for_token(session, headers["Authorization"].split()[1]).sender_id


def messages(settings: Settings) -> int:
    with factory_of(settings)() as session:
        return int(session.scalar(select(func.count()).select_from(Message)) or 0)


# ---- the page -------------------------------------------------------------------------------


def test_the_page_and_its_files_come_from_the_service_only(client: TestClient):
    page = client.get("/app/")
    assert page.status_code == 200
    assert page.headers["content-type"].startswith("text/html")
    csp = page.headers["content-security-policy"]
    assert "default-src 'none'" in csp and "script-src 'self'" in csp
    assert "connect-src 'self'" in csp
    html = page.text
    assert '<html lang="vi">' in html and "Trợ lý Hue-S" in html
    # Every script, style and image the page names is one of ours.
    for url in re.findall(r'(?:src|href)="([^"#]+)"', html):
        assert url.startswith("/app/static/"), url
        assert client.get(url).status_code == 200
    for name in ("app.js", "app.css", "index.html"):
        text = (STATIC / name).read_text(encoding="utf-8")
        assert not re.search(r"(?:src|href|url)\s*[=(]\s*[\"']?https?://", text), name
        assert "@import" not in text


# ---- sessions ----------------------------------------------------------------------------------


def test_calls_without_a_live_session_are_refused(client: TestClient, settings):
    for headers, code in (
        ({}, "session_required"),
        ({"Authorization": "Bearer something-else"}, "session_required"),
        ({"Authorization": "Bearer ms_not-a-session"}, "session_expired"),
    ):
        response = client.post("/api/v1/miniapp/messages", json={"text": "chào"}, headers=headers)
        assert response.status_code == 401
        assert response.json()["error"]["code"] == code
        assert response.json()["error"]["message"].startswith(("Bạn cần", "Phiên"))
    assert messages(settings) == 0


def test_an_expired_session_is_refused_and_pruned(client: TestClient, settings):
    headers = guest(client)
    with factory_of(settings)() as session:
        row = session.scalars(select(MiniAppSession)).one()
        row.expires_at = utcnow() - timedelta(seconds=1)
        session.commit()
    response = client.get("/api/v1/miniapp/history", headers=headers)
    assert response.json()["error"]["code"] == "session_expired"
    with factory_of(settings)() as session:
        assert prune_expired(session) == 1
        assert session.scalar(select(func.count()).select_from(MiniAppSession)) == 0


def test_a_closed_session_no_longer_works(client: TestClient):
    headers = guest(client)
    assert client.delete("/api/v1/miniapp/session", headers=headers).status_code == 204
    response = client.get("/api/v1/miniapp/history", headers=headers)
    assert response.status_code == 401


# ---- conversation -------------------------------------------------------------------------------


def test_the_conversation_is_there_again_after_a_reload(client: TestClient, fake_rasa):
    def assistant(body):
        if body["message"] == "/report_problem":
            return [{"recipient_id": body["sender"], "text": "Sự việc xảy ra ở đâu?"}]
        return [
            {
                "recipient_id": body["sender"],
                "text": "Bạn muốn làm gì?",
                "buttons": [{"title": "Phản ánh hiện trường", "payload": "/report_problem"}],
            },
            {"recipient_id": body["sender"], "custom": {"request_location": True}},
        ]

    fake_rasa.handler = assistant
    headers = guest(client)
    first = client.post("/api/v1/miniapp/messages", json={"text": "xin chào"}, headers=headers)
    assert first.status_code == 200
    [reply] = first.json()["replies"]
    assert reply["buttons"] == [{"title": "Phản ánh hiện trường", "payload": "/report_problem"}]
    assert reply["custom"] == {"request_location": True}
    client.post("/api/v1/miniapp/messages", json={"payload": "/report_problem"}, headers=headers)
    client.post(
        "/api/v1/miniapp/messages",
        json={"location": {"latitude": CITADEL[0], "longitude": CITADEL[1]}},
        headers=headers,
    )
    assert fake_rasa.calls[-1]["message"] == "/inform_place"
    assert fake_rasa.calls[-1]["metadata"]["location"] == {
        "latitude": CITADEL[0],
        "longitude": CITADEL[1],
    }

    history = client.get("/api/v1/miniapp/history", headers=headers).json()["messages"]
    assert [(m["role"], m["text"]) for m in history] == [
        ("citizen", "xin chào"),
        ("assistant", "Bạn muốn làm gì?"),
        ("citizen", "Phản ánh hiện trường"),  # the button's title, not its payload
        ("assistant", "Sự việc xảy ra ở đâu?"),
        ("citizen", "📍 Đã chia sẻ vị trí"),
        ("assistant", "Bạn muốn làm gì?"),
    ]
    assert history[1]["custom"] == {"request_location": True}
    # Another session sees none of it.
    assert client.get("/api/v1/miniapp/history", headers=guest(client)).json()["messages"] == []


def test_bad_messages_are_refused_in_vietnamese_and_store_nothing(client: TestClient, settings):
    headers = guest(client)
    for body, code in (
        ({"text": "   "}, "empty_message"),
        ({"text": "x" * 201}, "message_too_long"),
        ({"payload": "<script>"}, "invalid_request"),
        ({"text": "ảnh", "attachments": ["0" * 32]}, "unknown_attachment"),
    ):
        response = client.post("/api/v1/miniapp/messages", json=body, headers=headers)
        assert response.status_code == 422
        assert response.json()["error"]["code"] == code
    assert messages(settings) == 0


def test_a_citizen_sending_too_fast_is_asked_to_slow_down(settings, fake_rasa):
    limited = settings.model_copy(update={"citizen_messages_per_minute": 2})
    with TestClient(create_app(limited)) as client:
        one, other = guest(client), guest(client)
        for _ in range(2):
            ok = client.post("/api/v1/miniapp/messages", json={"text": "a"}, headers=one)
            assert ok.status_code == 200
        refused = client.post("/api/v1/miniapp/messages", json={"text": "a"}, headers=one)
        assert refused.status_code == 429
        assert refused.json()["error"]["code"] == "too_many_messages"
        # Only that citizen is slowed down.
        assert (
            client.post("/api/v1/miniapp/messages", json={"text": "a"}, headers=other).status_code
            == 200
        )
    assert messages(settings) == 6  # 3 answered messages, in and out; the refused one not kept


# ---- photos and reports -----------------------------------------------------------------------


def test_a_photo_is_uploaded_sent_with_a_message_and_shown_only_to_its_sender(
    client: TestClient, fake_rasa
):
    headers = guest(client)
    upload = client.post(
        "/api/v1/miniapp/media",
        files={"file": ("IMG_0001.jpg", phone_jpeg(), "image/jpeg")},
        headers=headers,
    )
    assert upload.status_code == 201, upload.text
    media = upload.json()
    assert media["gps"] == pytest.approx({"latitude": CITADEL[0], "longitude": CITADEL[1]}, 1e-3)
    sent = client.post(
        "/api/v1/miniapp/messages", json={"attachments": [media["id"]]}, headers=headers
    )
    assert sent.status_code == 200
    call = fake_rasa.calls[-1]
    assert call["message"] == "/report_problem"
    assert call["metadata"]["attachments"][0]["media_id"] == media["id"]

    own = client.get(f"/api/v1/miniapp/media/{media['id']}", headers=headers)
    assert (own.status_code, own.headers["content-type"]) == (200, "image/jpeg")
    stranger = guest(client)
    assert client.get(f"/api/v1/miniapp/media/{media['id']}", headers=stranger).status_code == 404
    # Nor may another session send it as theirs.
    stolen = client.post(
        "/api/v1/miniapp/messages", json={"attachments": [media["id"]]}, headers=stranger
    )
    assert stolen.json()["error"]["code"] == "unknown_attachment"
    history = client.get("/api/v1/miniapp/history", headers=headers).json()["messages"]
    assert history[0]["role"] == "citizen" and history[0]["photos"] == [media["id"]]


def test_a_renamed_executable_is_refused_as_a_photo(client: TestClient):
    headers = guest(client)
    response = client.post(
        "/api/v1/miniapp/media",
        files={"file": ("anh.jpg", b"MZ\x90\x00" + b"\x00" * 200, "image/jpeg")},
        headers=headers,
    )
    assert response.status_code == 415
    assert "ảnh" in response.json()["error"]["message"]


def test_my_reports_lists_the_citizens_own_reports_with_their_state(client: TestClient, settings):
    headers = guest(client)
    sender = sender_of(settings, headers)
    for reporter in (sender, "web:someone-else"):
        file_report(settings, reporter, "Đèn đường kiệt 45 Phan Đình Phùng tắt", "Thuận Hóa")
    [report] = client.get("/api/v1/miniapp/reports", headers=headers).json()["reports"]
    assert report["code"].startswith("PA-")
    assert (report["state_label"], report["category_name"]) == (
        "đã chuyển đơn vị xử lý",
        "Chiếu sáng công cộng",
    )
    assert "reporter_id" not in report
