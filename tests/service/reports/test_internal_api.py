"""The internal report API the action server uses: preview, submit once, status, follow, rate."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from bot.app import create_app
from bot.db import make_engine, make_sessionmaker
from bot.outbox.models import Channel, OutboxMessage
from bot.reports.calendar import WorkingCalendar
from bot.reports.catalog import default_catalog
from bot.reports.lifecycle import Actor, State
from bot.reports.models import Report
from bot.reports.notify import notify_agency
from bot.reports.service import ReportDraft, change_state, submit_report
from bot.settings import Environment, Settings
from tests.service.conftest import SECRET

TOKEN = "internal-token-for-tests-0123"
AUTH = {"Authorization": f"Bearer {TOKEN}"}
LIGHT = {
    "description": "Đèn đường kiệt 45 Phan Đình Phùng tắt mấy hôm rồi",
    "address": "Kiệt 45 Phan Đình Phùng, phường Thuận Hóa",
}


@pytest.fixture
def api(database_url, fake_rasa) -> Iterator[tuple[TestClient, object]]:
    settings = Settings(
        environment=Environment.TEST,
        database_url=database_url,
        rasa_url=fake_rasa.url,
        gateway_secret=SECRET,  # type: ignore[arg-type]
        internal_api_token=TOKEN,  # type: ignore[arg-type]
        _env_file=None,  # type: ignore[call-arg]
    )
    with TestClient(create_app(settings)) as client:
        yield client, make_sessionmaker(make_engine(database_url))


def submit(client: TestClient, key: str, citizen: str = "web:" + "a" * 32, **extra):
    body = {"submission_key": key, "citizen": citizen, "channel": "web", **LIGHT, **extra}
    return client.post("/api/v1/internal/reports", json=body, headers=AUTH)


@pytest.mark.parametrize("header", [None, "Bearer wrong-token-0123456789", TOKEN])
def test_the_internal_api_needs_the_action_servers_key(api, header):
    client, _ = api
    headers = {"Authorization": header} if header else {}
    response = client.post("/api/v1/internal/reports/preview", json=LIGHT, headers=headers)
    assert response.status_code == 401
    assert response.json()["error"]["message"].startswith("Thiếu hoặc sai khóa")


def test_preview_infers_category_urgency_and_commune(api):
    client, _ = api
    body = client.post("/api/v1/internal/reports/preview", json=LIGHT, headers=AUTH).json()
    assert body["categories"][0] == {
        "code": "street_lighting",
        "name": "Chiếu sáng công cộng",
        "score": 2,
    }  # keyword words matched ("đèn đường")
    assert (body["confident"], body["urgency"], body["commune"]) == (True, "normal", "Thuận Hóa")
    assert body["duplicates"] == []
    # The place written in the description comes back as typed, for the form to keep.
    assert body["place"] == "kiệt 45 Phan Đình Phùng"
    danger = {"description": "Cây ngã chắn ngang đường Lê Lợi, có người bị thương"}
    body = client.post("/api/v1/internal/reports/preview", json=danger, headers=AUTH).json()
    assert body["urgency"] == "urgent"
    # A former name of a commune still finds today's commune.
    former = {"description": "rác ứ đọng", "commune": "Vĩnh Ninh"}
    body = client.post("/api/v1/internal/reports/preview", json=former, headers=AUTH).json()
    assert body["commune"] == "Thuận Hóa"
    # Only a place, to find its commune: no category is guessed from nothing.
    place = {"address": "kiệt 3 Lê Lợi, phường Vĩnh Ninh"}
    body = client.post("/api/v1/internal/reports/preview", json=place, headers=AUTH).json()
    assert (body["commune"], body["categories"], body["urgency"]) == ("Thuận Hóa", [], "normal")


def test_a_confirmation_submitted_twice_files_one_report(api):
    client, factory = api
    first = submit(client, "web-aaaa-0001")
    second = submit(client, "web-aaaa-0001")
    assert first.status_code == second.status_code == 201
    assert first.json()["code"] == second.json()["code"]
    assert first.json()["deadline_label"]
    assert first.json()["agency_name"] == "Ủy ban nhân dân phường Thuận Hóa"
    with factory() as session:
        assert session.scalar(select(func.count()).select_from(Report)) == 1
    # Another citizen cannot take over someone else's submission key.
    stolen = submit(client, "web-aaaa-0001", citizen="web:" + "b" * 32)
    assert stolen.status_code == 409


def test_a_hundred_concurrent_submissions_give_a_hundred_unique_codes(api):
    client, factory = api
    barrier = threading.Barrier(10)

    def one(i: int) -> str:
        if i < 10:
            barrier.wait()
        response = submit(client, f"web-bulk-{i:04d}", citizen=f"web:{i:032x}")
        assert response.status_code == 201, response.text
        return str(response.json()["code"])

    with ThreadPoolExecutor(max_workers=10) as pool:
        codes = list(pool.map(one, range(100)))
    assert len(set(codes)) == 100
    with factory() as session:
        assert session.scalar(select(func.count()).select_from(Report)) == 100


def test_the_same_confirmation_racing_itself_files_one_report(api):
    client, factory = api
    barrier = threading.Barrier(8)

    def one(_: int) -> str:
        barrier.wait()
        response = submit(client, "web-race-0001")
        assert response.status_code == 201, response.text
        return str(response.json()["code"])

    with ThreadPoolExecutor(max_workers=8) as pool:
        codes = set(pool.map(one, range(8)))
    assert len(codes) == 1
    with factory() as session:
        assert session.scalar(select(func.count()).select_from(Report)) == 1


def test_bad_input_is_refused_with_a_vietnamese_message_and_stores_nothing(api):
    client, factory = api
    short = submit(client, "web-bad-00001", description="ơ")
    assert short.status_code == 422
    assert short.json()["error"]["message"] == "Bạn mô tả thêm một chút về sự việc nhé."
    unknown = submit(client, "web-bad-00002", category="ufo")
    assert unknown.json()["error"]["message"] == "Lĩnh vực phản ánh không hợp lệ."
    with factory() as session:
        assert session.scalar(select(func.count()).select_from(Report)) == 0


def test_only_the_reporter_or_a_follower_reads_a_report(api):
    client, _ = api
    reporter, other = "web:" + "a" * 32, "telegram:4242"
    code = submit(client, "web-own-00001", citizen=reporter).json()["code"]
    mine = client.get(
        f"/api/v1/internal/reports/{code}", params={"citizen": reporter}, headers=AUTH
    )
    assert mine.status_code == 200 and mine.json()["state"] == "assigned"
    theirs = client.get(f"/api/v1/internal/reports/{code}", params={"citizen": other}, headers=AUTH)
    assert theirs.status_code == 404
    missing = client.get(
        "/api/v1/internal/reports/PA-2026-999999", params={"citizen": other}, headers=AUTH
    )
    # Not found and not yours read the same, so codes cannot be probed.
    assert theirs.json()["error"]["code"] == missing.json()["error"]["code"] == "report_not_found"
    # The summary of the same problem offers the report to follow (only then may they).
    client.post(
        "/api/v1/internal/reports/preview",
        json={"citizen": other, **LIGHT},
        headers=AUTH,
    )
    followed = client.post(
        f"/api/v1/internal/reports/{code}/follow",
        json={"citizen": other, "channel": "telegram"},
        headers=AUTH,
    )
    assert followed.status_code == 200
    theirs = client.get(f"/api/v1/internal/reports/{code}", params={"citizen": other}, headers=AUTH)
    assert theirs.status_code == 200
    listed = client.get("/api/v1/internal/reports", params={"citizen": other}, headers=AUTH)
    assert [r["code"] for r in listed.json()["reports"]] == [code]
    # A follower may read but not rate or reopen.
    refused = client.post(
        f"/api/v1/internal/reports/{code}/rating",
        json={"citizen": other, "rating": 5},
        headers=AUTH,
    )
    assert refused.status_code == 403


def test_the_reporter_rates_or_reopens_only_a_resolved_report(api):
    client, factory = api
    reporter = "telegram:777"
    code = submit(client, "tg-777-000001", citizen=reporter, channel="telegram").json()["code"]
    early = client.post(
        f"/api/v1/internal/reports/{code}/rating",
        json={"citizen": reporter, "rating": 5},
        headers=AUTH,
    )
    assert early.status_code == 409
    assert "chưa đánh giá được" in early.json()["error"]["message"]
    with factory() as session:
        report = session.scalars(select(Report).where(Report.code == code)).one()
        change_state(session, report, State.RESOLVED, Actor.AGENCY, message="Đã thay bóng đèn.")
    status = client.get(
        f"/api/v1/internal/reports/{code}", params={"citizen": reporter}, headers=AUTH
    ).json()
    assert (status["state"], status["latest_reply"]) == ("resolved", "Đã thay bóng đèn.")
    reopened = client.post(
        f"/api/v1/internal/reports/{code}/reopen",
        json={"citizen": reporter, "reason": "Đèn vẫn chưa sáng"},
        headers=AUTH,
    )
    assert reopened.status_code == 200 and reopened.json()["state"] == "reopened"
    with factory() as session:
        report = session.scalars(select(Report).where(Report.code == code)).one()
        change_state(session, report, State.IN_PROGRESS, Actor.AGENCY)
        change_state(session, report, State.RESOLVED, Actor.AGENCY, message="Đã sửa đường dây.")
    rated = client.post(
        f"/api/v1/internal/reports/{code}/rating",
        json={"citizen": reporter, "rating": 4},
        headers=AUTH,
    )
    assert rated.status_code == 200 and rated.json()["rating"] == 4
    bad = client.post(
        f"/api/v1/internal/reports/{code}/rating",
        json={"citizen": reporter, "rating": 9},
        headers=AUTH,
    )
    assert bad.status_code == 422


def test_state_changes_reach_a_telegram_reporter_and_followers_through_the_outbox(database_url):
    factory = make_sessionmaker(make_engine(database_url))
    catalog, calendar = default_catalog(), WorkingCalendar()
    with factory() as session:
        report = submit_report(
            session,
            ReportDraft(
                description="Rác ứ đọng đầu kiệt 12 Nguyễn Trãi",
                reporter_id="telegram:1001",
                channel="telegram",
                commune="Thuận Hóa",
            ),
            catalog,
            calendar,
        )
        from bot.reports.service import follow_report

        follow_report(session, report, "telegram:2002", "telegram")
        follow_report(session, report, "web:" + "c" * 32, "web")
        change_state(session, report, State.IN_PROGRESS, Actor.AGENCY)
        messages = session.scalars(select(OutboxMessage).order_by(OutboxMessage.id)).all()
    assert [(m.channel, m.target) for m in messages] == [
        (Channel.TELEGRAM, "1001"),
        (Channel.TELEGRAM, "2002"),
    ]
    assert messages[0].body["text"].startswith(f"Phản ánh {report.code} của bạn: đang xử lý.")
    # The notice names no one: neither the reporter nor the staff member.
    assert "1001" not in messages[1].body["text"]


def test_a_new_report_notifies_every_contact_of_its_agency(database_url):
    base = default_catalog()
    agency = replace(
        base.agencies["ubnd_thuan_hoa"],
        email="thuanhoa@example.vn",
        webhook_url="http://127.0.0.1:9/hook",
        telegram_chat_id="-100123",
    )
    catalog = replace(base, agencies={**base.agencies, agency.code: agency})
    factory = make_sessionmaker(make_engine(database_url))
    with factory() as session:
        report = submit_report(
            session,
            ReportDraft(
                description="Đèn đường tắt <script>alert(1)</script>",
                reporter_id="web:" + "d" * 32,
                channel="web",
                commune="Thuận Hóa",
            ),
            catalog,
            WorkingCalendar(),
        )
        messages = session.scalars(select(OutboxMessage).order_by(OutboxMessage.id)).all()
        assert notify_agency(session, report, catalog) == 3
    assert [m.channel for m in messages] == [Channel.WEBHOOK, Channel.EMAIL, Channel.TELEGRAM]
    body = messages[0].body
    assert (body["event"], body["code"], body["agency"]) == (
        "report.assigned",
        report.code,
        agency.code,
    )
    # Stored and sent as text, exactly as written; never the reporter's identity.
    assert "<script>alert(1)</script>" in body["text"]
    assert "d" * 32 not in str(body)


def test_the_citizens_own_photos_are_attached_to_the_filed_report(api, tmp_path):
    from bot.media.models import MediaFile, MediaKind
    from bot.media.storage import store_image
    from tests.service.media.images import encode, two_colour

    client, factory = api
    citizen, other = "web:" + "a" * 32, "web:" + "b" * 32
    with factory() as session:
        mine, theirs = (
            store_image(session, encode(two_colour(), "PNG"), owner_id=owner,
                        kind=MediaKind.PHOTO, media_dir=tmp_path, max_bytes=10**6).id
            for owner in (citizen, other)
        )  # fmt: skip
    filed = submit(client, "web-photo-0001", citizen=citizen, photos=[mine, theirs])
    assert filed.status_code == 201
    with factory() as session:
        attached = session.scalars(select(MediaFile).where(MediaFile.report_id.is_not(None)))
        assert [m.id for m in attached] == [mine]
