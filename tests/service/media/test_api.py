"""The media API over HTTP, on SQLite and PostgreSQL: upload, fetch, and who may see what."""

from __future__ import annotations

import re
from collections.abc import Iterator
from io import BytesIO
from pathlib import Path

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from PIL import Image
from sqlalchemy import func, select

from bot.app import create_app
from bot.conversations.citizens import web_sender_id
from bot.db import make_engine, make_sessionmaker
from bot.media.models import MediaFile
from bot.media.routes import FORM_OVERHEAD
from bot.media.routes import router as media_router
from bot.media.storage import attach_photos
from bot.reports.calendar import WorkingCalendar
from bot.reports.catalog import default_catalog
from bot.reports.service import ReportDraft, submit_report
from bot.settings import Environment, Settings
from tests.service.conftest import SECRET, STAFF_TOKEN_SECRET, add_staff, staff_login
from tests.service.media.images import (
    CITADEL,
    ELF,
    SHELL_SCRIPT,
    encode,
    noise_jpeg,
    phone_jpeg,
    two_colour,
)

MAX_BYTES = 150_000
ALICE = "a" * 32  # web chat session ids
BOB = "b" * 32
UNSUPPORTED = "Tệp này không phải ảnh JPEG, PNG hoặc WebP nên mình không nhận được."


def app_with_media(settings: Settings) -> FastAPI:
    app = create_app(settings)
    if not any(getattr(route, "path", None) == "/api/v1/media" for route in app.routes):
        app.include_router(media_router)  # until bot/app.py includes it
    return app


@pytest.fixture
def world(database_url, fake_rasa, tmp_path) -> Iterator[dict]:
    factory = make_sessionmaker(make_engine(database_url))
    with factory() as session:
        add_staff(session)
        reports = []
        for commune in ("Thuận Hóa", "Vỹ Dạ"):
            draft = ReportDraft(
                description="Cây đổ chắn ngang đường sau bão",
                reporter_id=web_sender_id(ALICE),
                channel="web",
                commune=commune,
            )
            reports.append(submit_report(session, draft, default_catalog(), WorkingCalendar()))
    media_dir = tmp_path / "media"
    settings = Settings(
        environment=Environment.TEST,
        database_url=database_url,
        rasa_url=fake_rasa.url,
        gateway_secret=SECRET,  # type: ignore[arg-type]
        staff_token_secret=STAFF_TOKEN_SECRET,  # type: ignore[arg-type]
        media_dir=media_dir,
        media_max_bytes=MAX_BYTES,
        _env_file=None,  # type: ignore[call-arg]
    )
    with TestClient(app_with_media(settings)) as client:
        yield {
            "client": client,
            "factory": factory,
            "media_dir": media_dir,
            "reports": [(r.id, r.code) for r in reports],
        }


def upload(client: TestClient, data: bytes, session_id: str = ALICE, name: str = "photo.jpg"):
    return client.post(
        "/api/v1/media",
        data={"session_id": session_id},
        files={"file": (name, data, "image/jpeg")},
    )


def stored_files(media_dir: Path) -> list[Path]:
    return [p for p in media_dir.rglob("*") if p.is_file()] if media_dir.exists() else []


def assert_nothing_stored(world: dict) -> None:
    assert stored_files(world["media_dir"]) == []
    with world["factory"]() as session:
        assert session.scalar(select(func.count()).select_from(MediaFile)) == 0


def assert_error(response, status: int, code: str) -> str:
    assert response.status_code == status, response.text
    body = response.json()
    assert set(body) == {"error"} and body["error"]["code"] == code
    return str(body["error"]["message"])


def test_a_citizen_uploads_a_photo_and_only_their_session_can_fetch_it(world):
    client = world["client"]
    response = upload(client, phone_jpeg())
    assert response.status_code == 201, response.text
    body = response.json()
    assert re.fullmatch(r"[0-9a-f]{32}", body["id"])
    assert body["kind"] == "photo"
    assert (body["content_type"], body["width"], body["height"]) == ("image/jpeg", 20, 40)
    assert (body["gps"]["latitude"], body["gps"]["longitude"]) == pytest.approx(CITADEL)
    [stored] = stored_files(world["media_dir"])
    assert body["size_bytes"] == stored.stat().st_size

    mine = client.get(f"/api/v1/media/{body['id']}", params={"session_id": ALICE})
    assert mine.status_code == 200
    assert mine.content == stored.read_bytes()
    assert mine.headers["content-type"] == "image/jpeg"
    assert mine.headers["x-content-type-options"] == "nosniff"
    assert mine.headers["cache-control"] == "private"
    assert mine.headers["content-disposition"].startswith("inline")
    image = Image.open(BytesIO(mine.content))
    assert image.size == (20, 40) and image.getexif() == {}

    theirs = client.get(f"/api/v1/media/{body['id']}", params={"session_id": BOB})
    missing = client.get(f"/api/v1/media/{'0' * 32}", params={"session_id": ALICE})
    anonymous = client.get(f"/api/v1/media/{body['id']}")
    for refused in (theirs, missing, anonymous):
        assert_error(refused, 404, "media_not_found")
    assert theirs.json() == missing.json() == anonymous.json()


def test_a_photo_without_gps_says_so(world):
    response = upload(world["client"], encode(two_colour(), "PNG"), name="a.png")
    assert response.status_code == 201
    assert response.json()["gps"] is None
    assert response.json()["content_type"] == "image/png"


def test_an_oversized_image_is_refused_with_a_clear_message_and_nothing_stored(world):
    data = noise_jpeg((400, 400))
    assert MAX_BYTES < len(data) < MAX_BYTES + FORM_OVERHEAD  # the form fits, the file does not
    message = assert_error(upload(world["client"], data), 413, "too_large")
    assert re.fullmatch(r"Ảnh lớn quá \(\d+ KB\)\. Bạn gửi ảnh dưới 146 KB nhé\.", message)
    assert_nothing_stored(world)


def test_a_body_far_over_the_limit_is_refused_before_it_is_parsed(world):
    data = noise_jpeg((700, 700))
    assert len(data) > MAX_BYTES + FORM_OVERHEAD
    message = assert_error(upload(world["client"], data), 413, "too_large")
    assert message.startswith("Ảnh lớn quá (") and message.endswith("dưới 146 KB nhé.")
    # Without a Content-Length (chunked) the bytes are counted as they arrive.
    body = (
        b'--abc\r\nContent-Disposition: form-data; name="session_id"\r\n\r\n'
        + ALICE.encode()
        + b'\r\n--abc\r\nContent-Disposition: form-data; name="file"; filename="p.jpg"\r\n'
        + b"Content-Type: image/jpeg\r\n\r\n"
        + data
        + b"\r\n--abc--\r\n"
    )
    streamed = world["client"].post(
        "/api/v1/media",
        content=(body[i : i + 65_536] for i in range(0, len(body), 65_536)),
        headers={"Content-Type": "multipart/form-data; boundary=abc"},
    )
    assert "content-length" not in streamed.request.headers
    assert assert_error(streamed, 413, "too_large") == (
        "Ảnh lớn quá (trên 146 KB). Bạn gửi ảnh dưới 146 KB nhé."
    )
    assert_nothing_stored(world)


@pytest.mark.parametrize("data", [ELF, SHELL_SCRIPT])
def test_a_renamed_executable_is_refused_with_a_clear_message_and_nothing_stored(world, data):
    response = upload(world["client"], data, name="photo.jpg")
    assert assert_error(response, 415, "unsupported_type") == UNSUPPORTED
    assert_nothing_stored(world)


def test_a_gif_is_refused(world):
    response = upload(world["client"], encode(two_colour(), "GIF"), name="photo.png")
    assert assert_error(response, 415, "unsupported_type") == UNSUPPORTED


@pytest.mark.parametrize("session_id", ["", "abc", "A" * 32, "g" * 32, "a" * 33])
def test_a_bad_session_id_is_refused(world, session_id):
    message = assert_error(
        upload(world["client"], phone_jpeg(), session_id), 422, "invalid_session"
    )
    assert message == "Phiên trò chuyện không hợp lệ. Bạn tải lại trang rồi gửi ảnh lại nhé."
    assert_nothing_stored(world)


def test_an_upload_without_a_file_is_refused(world):
    response = world["client"].post("/api/v1/media", data={"session_id": ALICE})
    assert assert_error(response, 422, "file_required") == "Bạn chưa chọn ảnh để gửi."


def test_staff_see_the_photos_of_the_reports_they_may_see_only(world):
    client = world["client"]
    (report_id, code), (_, other_code) = world["reports"]
    photo = upload(client, phone_jpeg()).json()["id"]
    loose = upload(client, phone_jpeg()).json()["id"]  # never attached to a report
    with world["factory"]() as session:
        attached = attach_photos(session, [photo], report_id, web_sender_id(ALICE))
    assert [m.id for m in attached] == [photo]

    lan, minh, ioc = (staff_login(client, name) for name in ("lan", "minh", "ioc"))
    listed = client.get(f"/api/v1/staff/reports/{code}/media", headers=lan)
    assert [m["id"] for m in listed.json()] == [photo]
    url = f"/api/v1/staff/reports/{code}/media/{photo}"
    for headers in (lan, ioc):
        served = client.get(url, headers=headers)
        assert served.status_code == 200
        assert served.headers["content-type"] == "image/jpeg"
        assert served.headers["x-content-type-options"] == "nosniff"
        assert Image.open(BytesIO(served.content)).size == (20, 40)
    # Another agency: the report does not exist for them, nor do its photos.
    assert_error(client.get(url, headers=minh), 404, "report_not_found")
    assert_error(client.get(f"/api/v1/staff/reports/{code}/media", headers=minh), 404,
                 "report_not_found")  # fmt: skip
    # A photo that is not on that report is not served through it, even to the operator.
    assert_error(
        client.get(f"/api/v1/staff/reports/{code}/media/{loose}", headers=ioc),
        404,
        "media_not_found",
    )
    assert_error(
        client.get(f"/api/v1/staff/reports/{other_code}/media/{photo}", headers=ioc),
        404,
        "media_not_found",
    )
    assert_error(client.get(url), 401, "login_required")


def test_staff_add_evidence_to_their_reports_only(world):
    client = world["client"]
    (report_id, code), _ = world["reports"]
    lan, minh = staff_login(client, "lan"), staff_login(client, "minh")
    url = f"/api/v1/staff/reports/{code}/media"
    files = {"file": ("done.webp", encode(two_colour(), "WEBP"), "image/webp")}

    assert_error(client.post(url, files=files, headers=minh), 404, "report_not_found")
    assert_error(client.post(url, files=files), 401, "login_required")
    assert_nothing_stored(world)

    refused = client.post(url, files={"file": ("x.jpg", ELF, "image/jpeg")}, headers=lan)
    assert assert_error(refused, 415, "unsupported_type") == UNSUPPORTED
    assert_nothing_stored(world)

    added = client.post(url, files=files, headers=lan)
    assert added.status_code == 201, added.text
    evidence = added.json()
    assert (evidence["kind"], evidence["content_type"]) == ("evidence", "image/webp")
    with world["factory"]() as session:
        row = session.get(MediaFile, evidence["id"])
        assert row is not None and row.report_id == report_id
        assert row.owner_id.startswith("staff:")
    served = client.get(f"{url}/{evidence['id']}", headers=lan)
    assert served.status_code == 200 and served.headers["content-type"] == "image/webp"
    # Staff evidence is not the citizen's to fetch, nor to attach to a report of theirs.
    citizen = client.get(f"/api/v1/media/{evidence['id']}", params={"session_id": ALICE})
    assert_error(citizen, 404, "media_not_found")
    with world["factory"]() as session:
        assert attach_photos(session, [evidence["id"]], report_id, web_sender_id(ALICE)) == []


def test_a_photo_sent_in_the_chat_reaches_rasa_with_its_place(world, fake_rasa):
    client = world["client"]
    photo = upload(client, phone_jpeg()).json()
    fake_rasa.calls.clear()
    reply = client.post(
        "/api/v1/chat", json={"session_id": ALICE, "text": "", "attachments": [photo["id"]]}
    )
    assert reply.status_code == 200, reply.text
    call = fake_rasa.calls[-1]
    # A photo with no words starts a report (or feeds the one being written).
    assert call["message"] == "/report_problem"
    [attachment] = call["metadata"]["attachments"]
    assert attachment["media_id"] == photo["id"]
    assert attachment["gps"] == photo["gps"] and photo["gps"] is not None


def test_a_chat_cannot_attach_another_sessions_photo(world, fake_rasa):
    client = world["client"]
    photo = upload(client, phone_jpeg(), session_id=BOB).json()
    fake_rasa.calls.clear()
    refused = client.post(
        "/api/v1/chat",
        json={"session_id": ALICE, "text": "ảnh nè", "attachments": [photo["id"]]},
    )
    message = assert_error(refused, 422, "unknown_attachment")
    assert message == "Không tìm thấy ảnh bạn gửi kèm. Bạn tải ảnh lên lại rồi gửi nhé."
    assert fake_rasa.calls == []
