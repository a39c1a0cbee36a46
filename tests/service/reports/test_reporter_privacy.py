"""Identifiers that grant access never leave the service (issue #13, holes 1, 2 and 6).

The web chat's session id is its only key: staff must never see it (nor anything that can be
sent back as one), the database keeps only its hash, a report can be followed only when the
chat offered it, and the web chat is rate-limited per session and per client address.
"""

from __future__ import annotations

import json

from fastapi.testclient import TestClient
from sqlalchemy import select

from bot.app import create_app
from bot.conversations.citizens import reporter_handle, web_sender_id
from bot.conversations.models import Message
from bot.reports.calendar import WorkingCalendar
from bot.reports.catalog import default_catalog
from bot.reports.models import Report, ReportFollower
from bot.reports.service import ReportDraft, submit_report
from bot.settings import Settings
from bot.staff.audit import StaffAction
from tests.service.conftest import STAFF_TOKEN_SECRET, staff_login

INTERNAL = "internal-token-for-tests-0123456789"


def _file_report(factory, reporter_id: str, commune: str = "Thuận Hóa", channel: str = "web"):
    with factory() as session:
        report = submit_report(
            session,
            ReportDraft(description="Cây xanh nghiêng sắp đổ trước cổng trường", channel=channel,
                        reporter_id=reporter_id, commune=commune, address="12 Lê Lợi"),
            default_catalog(), WorkingCalendar(),
        )  # fmt: skip
        return report.code


def test_the_web_session_id_is_never_stored_nor_shown_to_staff(world, fake_rasa):
    client, factory = world["client"], world["factory"]
    first = client.post("/api/v1/chat", json={"text": "cây sắp đổ trước trường"})
    session_id = first.json()["session_id"]
    sender = fake_rasa.calls[-1]["sender"]
    assert session_id not in sender and sender == web_sender_id(session_id)
    code = _file_report(factory, sender)

    operator = staff_login(client, "ioc")
    listed = client.get("/api/v1/staff/reports", headers=operator).text
    one = client.get(f"/api/v1/staff/reports/{code}", headers=operator).json()
    assert session_id not in listed and session_id not in json.dumps(one)
    assert sender.split(":")[1] not in listed
    assert one["reporter"] == {"handle": "Web · khách", "channel": "web"}
    with factory() as session:
        stored = [m.sender_id for m in session.scalars(select(Message))]
        stored += [r.reporter_id for r in session.scalars(select(Report))]
    assert stored and not any(session_id in s for s in stored)

    # What the database holds cannot be sent back as a session id: it is another conversation.
    ident = sender.split(":")[1]
    client.post("/api/v1/chat", json={"text": "xem phản ánh của tôi", "session_id": ident})
    assert fake_rasa.calls[-1]["sender"] != sender


def test_staff_see_a_masked_handle_and_operators_reveal_the_contact_with_a_logged_reason(world):
    client, factory = world["client"], world["factory"]
    code = _file_report(factory, "telegram:987654521", channel="telegram")
    operator = staff_login(client, "ioc")
    view = client.get(f"/api/v1/staff/reports/{code}", headers=operator).json()
    assert view["reporter"]["handle"] == "Telegram · ***4521"
    assert "987654521" not in json.dumps(view)

    url = f"/api/v1/staff/reports/{code}/reporter"
    assert client.post(url, json={"reason": ""}, headers=operator).status_code == 422
    shown = client.post(url, json={"reason": "Gọi lại hỏi vị trí cây"}, headers=operator)
    assert shown.status_code == 200
    assert shown.json()["contact"] == "987654521"
    with factory() as session:
        entries = list(session.scalars(select(StaffAction)))
    assert [(e.action, e.reason) for e in entries] == [
        ("reveal_reporter", "Gọi lại hỏi vị trí cây")
    ]

    agency = staff_login(client, "lan")  # the report is in their commune, but not the reporter
    refused = client.post(url, json={"reason": "tò mò muốn biết"}, headers=agency)
    assert refused.status_code == 403
    assert "Trung tâm" in refused.json()["error"]["message"]
    assert "987654521" not in client.get(f"/api/v1/staff/reports/{code}", headers=agency).text
    with factory() as session:
        assert len(list(session.scalars(select(StaffAction)))) == 1


def test_handles_mask_every_kind_of_sender():
    assert reporter_handle("web:" + "a" * 32) == "Web · khách"
    assert reporter_handle("open311:3:0905123456") == "Open311 · ***3456"
    assert reporter_handle("open311:3:lan.nguyen@gmail.com") == "Open311 · l***@gmail.com"
    assert reporter_handle("host:hue-s:citizen-778812") == "Ứng dụng hue-s · ***8812"


def _internal(world, database_url) -> TestClient:
    settings = Settings(
        environment="test", database_url=database_url,
        internal_api_token=INTERNAL, staff_token_secret=STAFF_TOKEN_SECRET,
        _env_file=None,
    )  # type: ignore[arg-type, call-arg]  # fmt: skip
    client = TestClient(create_app(settings))
    client.headers["Authorization"] = f"Bearer {INTERNAL}"
    return client


def test_a_report_is_followed_only_when_the_chat_offered_it(world, database_url):
    factory = world["factory"]
    code = _file_report(factory, "telegram:111")
    stranger = "web:" + "f" * 32
    with _internal(world, database_url) as client:
        # A forged button payload naming a report code is a request, not proof.
        forged = client.post(f"/api/v1/internal/reports/{code}/follow",
                             json={"citizen": stranger, "channel": "web"})  # fmt: skip
        assert forged.status_code == 404
        assert "Cây" not in forged.text and "Lê Lợi" not in forged.text
        with factory() as session:
            assert list(session.scalars(select(ReportFollower))) == []

        # The summary of a draft at the same place offers it; then following works.
        preview = client.post("/api/v1/internal/reports/preview", json={
            "description": "cây nghiêng sắp đổ trước cổng trường", "category": "trees",
            "address": "12 Lê Lợi", "commune": "Thuận Hóa", "citizen": stranger,
        })  # fmt: skip
        assert [d["code"] for d in preview.json()["duplicates"]] == [code]
        followed = client.post(f"/api/v1/internal/reports/{code}/follow",
                               json={"citizen": stranger, "channel": "web"})  # fmt: skip
        assert followed.status_code == 200

        # An offer to one citizen is not an offer to another.
        other = client.post(f"/api/v1/internal/reports/{code}/follow",
                            json={"citizen": "web:" + "e" * 32, "channel": "web"})  # fmt: skip
        assert other.status_code == 404


def test_the_web_chat_is_rate_limited_per_session_and_per_address(world):
    client = world["client"]
    app_state = client.app.state  # type: ignore[attr-defined]
    first = client.post("/api/v1/chat", json={"text": "xin chào"})
    session_id = first.json()["session_id"]
    statuses = [
        client.post("/api/v1/chat", json={"text": f"tin {i}", "session_id": session_id}).status_code
        for i in range(app_state.settings.citizen_messages_per_minute + 2)
    ]
    assert statuses.count(429) == 3  # the first message counted too
    refused = client.post("/api/v1/chat", json={"text": "nữa", "session_id": session_id})
    assert refused.json()["error"]["message"].startswith("Bạn gửi tin nhắn nhanh quá")

    # New sessions from the same address are counted together.
    limit = app_state.settings.web_messages_per_minute_per_address
    fresh = [client.post("/api/v1/chat", json={"text": "chào"}).status_code for _ in range(limit)]
    assert 429 in fresh
