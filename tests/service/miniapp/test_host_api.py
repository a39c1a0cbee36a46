"""The host API: keys, one identity shared with the mini-app, limits, photos, and notices
pushed to the host's webhook (signed with its own secret) through the outbox."""

from __future__ import annotations

import json

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from bot.apiclients.models import ClientKind, create_client
from bot.app import create_app
from bot.channels.host.push import HostWebhookSender
from bot.conversations.models import Message
from bot.db import make_engine, make_sessionmaker
from bot.outbox.models import Channel, Delivery, OutboxMessage
from bot.outbox.worker import deliver_due
from bot.reports.lifecycle import Actor, State
from bot.reports.service import change_state, report_by_code
from bot.settings import Settings
from tests.service.media.images import phone_jpeg
from tests.service.miniapp.hosts import add_host, file_report
from tests.service.outbox.test_delivery import Receiver, signed_with


def factory_of(settings: Settings):
    return make_sessionmaker(make_engine(settings.database_url))


def messages(settings: Settings) -> int:
    with factory_of(settings)() as session:
        return int(session.scalar(select(func.count()).select_from(Message)) or 0)


def say(client: TestClient, key: str | None, **body):
    headers = {"X-API-Key": key} if key is not None else {}
    return client.post("/api/v1/host/messages", json=body, headers=headers)


def test_a_host_sends_a_citizens_message_and_gets_the_replies(
    client: TestClient, settings, fake_rasa
):
    host = add_host(settings)
    response = say(client, host.api_key, citizen_id="c-1", text="làm căn cước ở mô rứa?")
    assert response.status_code == 200, response.text
    assert response.json()["replies"][0]["text"] == "Bạn vừa nói: làm căn cước ở mô rứa?"
    [call] = fake_rasa.calls
    assert (call["sender"], call["metadata"]["channel"]) == ("host:hue-s:c-1", "hue-s")


@pytest.mark.parametrize("key", [None, "", "hs_host_wrong", "open311"])
def test_a_missing_or_wrong_api_key_is_refused_and_nothing_is_stored(
    client: TestClient, settings, fake_rasa, key
):
    add_host(settings)
    if key == "open311":  # a real key, but of an Open311 client
        with factory_of(settings)() as session:
            _, key = create_client(session, "Open311 app", ClientKind.OPEN311)
    response = say(client, key, citizen_id="c-1", text="chào")
    assert response.status_code == 401
    assert response.json()["error"] == {
        "code": "invalid_api_key",
        "message": "Khóa API (X-API-Key) thiếu hoặc không hợp lệ.",
    }
    assert fake_rasa.calls == [] and messages(settings) == 0


def test_a_bad_citizen_id_is_refused(client: TestClient, settings):
    host = add_host(settings)
    for citizen_id in ("", "a b", "x" * 129, "<b>"):
        response = say(client, host.api_key, citizen_id=citizen_id, text="chào")
        assert response.status_code == 422
    history = client.get("/api/v1/host/citizens/a%20b/history", headers={"X-API-Key": host.api_key})
    assert history.json()["error"]["code"] == "invalid_citizen_id"
    assert messages(settings) == 0


def test_the_host_api_and_the_mini_app_share_one_conversation(client: TestClient, settings):
    host = add_host(settings)
    say(client, host.api_key, citizen_id="c-7", text="tra cứu hồ sơ")
    opened = client.post("/api/v1/miniapp/session", json={"launch_token": host.token("c-7")})
    headers = {"Authorization": f"Bearer {opened.json()['session_token']}"}
    history = client.get("/api/v1/miniapp/history", headers=headers).json()["messages"]
    assert [m["text"] for m in history] == ["tra cứu hồ sơ", "Bạn vừa nói: tra cứu hồ sơ"]
    same = client.get(
        "/api/v1/host/citizens/c-7/history", headers={"X-API-Key": host.api_key}
    ).json()
    assert same["messages"] == history


def test_hosts_do_not_see_each_others_citizens(client: TestClient, settings, fake_rasa):
    first, second = add_host(settings, "hue-s"), add_host(settings, "other-app")
    say(client, first.api_key, citizen_id="c-1", text="chào")
    say(client, second.api_key, citizen_id="c-1", text="chào")
    assert [c["sender"] for c in fake_rasa.calls] == ["host:hue-s:c-1", "host:other-app:c-1"]
    history = client.get(
        "/api/v1/host/citizens/c-1/history", headers={"X-API-Key": second.api_key}
    ).json()["messages"]
    assert len(history) == 2


def test_each_citizen_has_their_own_rate_limit(settings, fake_rasa):
    limited = settings.model_copy(update={"citizen_messages_per_minute": 3})
    host = add_host(settings)
    with TestClient(create_app(limited)) as client:
        codes = [say(client, host.api_key, citizen_id="busy", text="a").status_code for _ in "abcd"]
        assert codes == [200, 200, 200, 429]
        assert say(client, host.api_key, citizen_id="calm", text="a").status_code == 200


def test_a_citizens_photo_goes_with_their_message_and_no_one_elses(
    client: TestClient, settings, fake_rasa
):
    host = add_host(settings)
    upload = client.post(
        "/api/v1/host/media",
        data={"citizen_id": "c-1"},
        files={"file": ("p.jpg", phone_jpeg(), "image/jpeg")},
        headers={"X-API-Key": host.api_key},
    )
    assert upload.status_code == 201, upload.text
    media_id = upload.json()["id"]
    ok = say(client, host.api_key, citizen_id="c-1", attachments=[media_id])
    assert ok.status_code == 200
    assert fake_rasa.calls[-1]["metadata"]["attachments"][0]["media_id"] == media_id
    other = say(client, host.api_key, citizen_id="c-2", attachments=[media_id])
    assert other.json()["error"]["code"] == "unknown_attachment"


def test_a_report_state_change_is_pushed_to_the_hosts_webhook_signed_with_its_secret(settings):
    receiver = Receiver(failures=1)
    try:
        host = add_host(settings, webhook_url=receiver.url + "/hue-s/notify")
        factory = factory_of(settings)
        code = file_report(settings, "host:hue-s:c-9", "Cống nghẹt bốc mùi hôi ở kiệt 12 Chi Lăng")
        with factory() as session:
            report = report_by_code(session, code)
            assert report is not None
            change_state(
                session, report, State.IN_PROGRESS, Actor.AGENCY, message="Đã cử người tới."
            )
        senders = {Channel.HOST: HostWebhookSender(factory)}
        # Only the citizen's notice goes to the host (the agency has no webhook in the data).
        with factory() as session:
            [notice] = session.scalars(
                select(OutboxMessage).where(OutboxMessage.channel == Channel.HOST)
            ).all()
            assert notice.target == "hue-s:c-9"
        # The first attempt fails (HTTP 503) and is retried.
        deliver_due(factory, senders)
        with factory() as session:
            retried = session.get_one(OutboxMessage, notice.id)
            assert (retried.status, retried.attempts) == (Delivery.PENDING, 1)
        deliver_due(factory, senders, now=retried.next_attempt_at)
        with factory() as session:
            assert session.get_one(OutboxMessage, notice.id).status is Delivery.SENT
        headers, raw = receiver.received[-1]
        body = json.loads(raw)
        assert body["event"] == "report.updated"
        assert (body["code"], body["citizen_id"], body["state"]) == (code, "c-9", "in_progress")
        assert "Đã cử người tới." in body["text"]
        assert host.new.webhook_secret is not None
        assert signed_with(host.new.webhook_secret, headers, raw)
    finally:
        receiver.close()


def test_a_host_without_a_webhook_keeps_its_notices_for_retry(settings):
    add_host(settings)  # no webhook
    factory = factory_of(settings)
    with factory() as session:
        from bot.outbox.worker import enqueue

        enqueue(session, Channel.HOST, "hue-s:c-1", {"event": "report.updated", "text": "x"})
        session.commit()
    counts = deliver_due(factory, {Channel.HOST: HostWebhookSender(factory)})
    assert counts == {"sent": 0, "retry": 1, "failed": 0}
    with factory() as session:
        [kept] = session.scalars(select(OutboxMessage)).all()
        assert "no active webhook" in (kept.last_error or "")


def test_a_hosts_citizen_reads_their_reports(client: TestClient, settings):
    host = add_host(settings)
    file_report(settings, "host:hue-s:c-3", "Chó thả rông cắn người ở chợ Đông Ba")
    mine = client.get("/api/v1/host/citizens/c-3/reports", headers={"X-API-Key": host.api_key})
    [report] = mine.json()["reports"]
    assert report["category"] == "stray_animals"
    other = client.get("/api/v1/host/citizens/c-4/reports", headers={"X-API-Key": host.api_key})
    assert other.json()["reports"] == []
