"""Invalid text at every edge — lone surrogates, NUL and other controls, bytes that are not
UTF-8 — is a 422 with a Vietnamese message in the channel's error shape, stores nothing and
reaches no engine; launch-token times out of range are a 401 (SQLite and PostgreSQL)."""

from __future__ import annotations

import json
import re
import time
from collections.abc import Iterator
from typing import Any

import jwt
import pytest
import yaml
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from bot.apiclients.models import ClientKind, create_client
from bot.app import create_app
from bot.bounds import in_hue
from bot.conversations.models import Message
from bot.db import make_engine, make_sessionmaker
from bot.reports.models import Report
from bot.settings import ROOT, Environment, Settings
from bot.staff.security import AuthError, read_token
from tests.service.conftest import SECRET, STAFF_TOKEN_SECRET, add_staff
from tests.service.miniapp.hosts import add_host
from vitext import invalid_character

JSON = {"content-type": "application/json"}
# As a client would send them: JSON escapes (a lone surrogate is valid JSON), or raw bytes.
BAD_TEXTS = {
    "lone_surrogate": b'"\\ud800 abc"',
    "low_surrogate": b'"abc \\udfff"',
    "nul": b'"a\\u0000b"',
    "bell": b'"chu\\u0007ong"',
    "escape": b'"\\u001b[31mred"',
    "cesu8_surrogate": b'"\xed\xa0\x80 abc"',
    "not_utf8": b'"\xff\xfe abc"',
}


@pytest.fixture
def edges(database_url, fake_rasa) -> Iterator[dict[str, Any]]:
    factory = make_sessionmaker(make_engine(database_url))
    with factory() as session:
        add_staff(session)
        _, open311_key = create_client(session, "Ứng dụng Open311", ClientKind.OPEN311)
    settings = Settings(
        environment=Environment.TEST,
        database_url=database_url,
        rasa_url=fake_rasa.url,
        gateway_secret=SECRET,  # type: ignore[arg-type]
        staff_token_secret=STAFF_TOKEN_SECRET,  # type: ignore[arg-type]
        _env_file=None,  # type: ignore[call-arg]
    )
    host = add_host(settings)
    fake_rasa.calls.clear()
    with TestClient(create_app(settings)) as client:
        session = client.post("/api/v1/miniapp/session", json={}).json()["session_token"]
        yield {
            "client": client,
            "factory": factory,
            "settings": settings,
            "host": host,
            "open311_key": open311_key,
            "miniapp": {"Authorization": f"Bearer {session}"},
        }


def stored(factory, model) -> int:
    with factory() as session:
        return int(session.scalar(select(func.count()).select_from(model)) or 0)


def refused(response, status: int = 422) -> None:
    assert response.status_code == status, response.text
    error = response.json()["error"]
    assert error["code"] == "invalid_text"
    assert "ký tự không hợp lệ" in error["message"]


def json_body(template: str, bad: bytes) -> bytes:
    return template.encode().replace(b'"BAD"', bad)


@pytest.mark.parametrize("bad", BAD_TEXTS.values(), ids=BAD_TEXTS.keys())
def test_message_text_is_refused_on_every_http_channel_and_nothing_is_stored(edges, fake_rasa, bad):
    client, factory = edges["client"], edges["factory"]
    host = {"X-API-Key": edges["host"].api_key, **JSON}
    for path, template, headers in (
        ("/api/v1/chat", '{"text": "BAD"}', JSON),
        ("/api/v1/miniapp/messages", '{"text": "BAD"}', {**edges["miniapp"], **JSON}),
        ("/api/v1/host/messages", '{"citizen_id": "c-1", "text": "BAD"}', host),
    ):
        refused(client.post(path, content=json_body(template, bad), headers=headers))
    assert stored(factory, Message) == 0
    assert fake_rasa.calls == []


@pytest.mark.parametrize(
    ("path", "template"),
    [
        ("/api/v1/chat", '{"text": "chào", "payload": "BAD"}'),
        ("/api/v1/chat", '{"text": "chào", "attachments": ["BAD"]}'),
        ("/api/v1/chat", '{"text": "chào", "BAD": 1}'),  # a key, not a value
        ("/api/v1/chat", '{"text": "chào", "session_id": "BAD"}'),
        ("/api/v1/staff/login", '{"username": "BAD", "password": "x"}'),
        ("/api/v1/staff/login", '{"username": "lan", "password": "BAD"}'),
        ("/api/v1/miniapp/session", '{"launch_token": "BAD"}'),
        ("/api/v1/miniapp/session", '{"telegram_init_data": "BAD"}'),
    ],
)
def test_every_json_field_is_checked_not_only_the_text(edges, path, template):
    response = edges["client"].post(
        path, content=json_body(template, BAD_TEXTS["lone_surrogate"]), headers=JSON
    )
    refused(response)


def test_text_a_citizen_really_types_passes(edges, fake_rasa):
    """Tabs and line breaks, emoji (a surrogate pair in JSON), Vietnamese in NFD."""
    body = b'{"text": "\\u0111\\u00e8n \\ud83d\\ude00\\tt\\u1eaft\\r\\nm\\u1ea5y h\\u00f4m"}'
    response = edges["client"].post("/api/v1/chat", content=body, headers=JSON)
    assert response.status_code == 200, response.text
    assert "😀" in fake_rasa.calls[-1]["message"]
    assert invalid_character("đèn tắt\tmấy\nhôm\r\n😀") is None


@pytest.mark.parametrize(
    "url",
    [
        "/api/v1/procedures/search?q=%00",
        "/api/v1/procedures/search?q=lam%07cccd",
        "/api/v1/procedures/search?q=%ED%A0%80",  # a surrogate as UTF-8 bytes
        "/api/v1/procedures/search?q=%FF",
        "/api/v1/procedures/search?q%00=x",  # a name, not a value
        "/api/v1/procedures/1.001193/answer?commune=%00",
        "/api/v1/procedures/1.0011%0093",
        "/api/v1/procedures/1.001193%0A",  # no line break in a path
        "/api/v1/applications/%ED%A0%80",
        "/api/v1/staff/reports/PA%00",
        "/api/v1/host/citizens/c%00/history",
        "/api/v1/media/abc%00?session_id=0123456789abcdef0123456789abcdef",
    ],
)
def test_query_and_path_text_is_refused(edges, url):
    refused(edges["client"].get(url))


def test_a_search_with_a_line_break_in_its_query_still_works(edges):
    response = edges["client"].get("/api/v1/procedures/search?q=lam%0Acccd")
    assert response.status_code == 200, response.text


@pytest.mark.parametrize("field", ["description", "address_string", "email", "api_key"])
def test_open311_refuses_control_characters_with_the_specs_error_body(edges, field):
    client, factory = edges["client"], edges["factory"]
    form = {
        "api_key": edges["open311_key"],
        "service_code": "street_lighting",
        "description": "Đèn đường tắt",
        "address_string": "Kiệt 45 Phan Đình Phùng, phường Thuận Hóa",
        "email": "citizen@example.invalid",
    }
    form[field] += "\x00"
    response = client.post("/open311/v2/requests.json", data=form)
    assert response.status_code == 422, response.text
    [error] = response.json()
    assert error["code"] == 422 and "ký tự không hợp lệ" in error["description"]
    # The same in the query string (the spec lets a client put fields there), and in a
    # multipart body (which the guard does not read).
    response = client.post("/open311/v2/requests.json?description=%ED%A0%80", data=form)
    assert response.status_code == 422
    multipart = client.post("/open311/v2/requests.json", data=form, files={"x": ("x", b"x")})
    assert multipart.status_code == 422, multipart.text
    assert "ký tự không hợp lệ" in multipart.json()[0]["description"]
    assert stored(factory, Report) == 0


def test_upload_form_fields_are_checked_by_their_routes(edges):
    client = edges["client"]
    photo = {"file": ("a.jpg", b"not an image", "image/jpeg")}
    web = client.post("/api/v1/media", data={"session_id": "ab\x00"}, files=photo)
    assert web.status_code == 422 and web.json()["error"]["code"] == "invalid_session"
    host = client.post(
        "/api/v1/host/media",
        data={"citizen_id": "c\x00"},
        files=photo,
        headers={"X-API-Key": edges["host"].api_key},
    )
    assert host.status_code == 422 and host.json()["error"]["code"] == "invalid_citizen_id"
    # Bytes that are not UTF-8 in a form field (read as Latin-1 by the parser): the same.
    raw = client.post("/api/v1/media", data={"session_id": "\xed\xa0\x80"}, files=photo)
    assert raw.status_code == 422


def test_an_oversized_json_body_is_refused_before_it_is_parsed(edges):
    body = json.dumps({"text": "a" * (1024 * 1024 + 10)}).encode()
    response = edges["client"].post("/api/v1/chat", content=body, headers=JSON)
    assert response.status_code == 413
    assert response.json()["error"]["code"] == "payload_too_large"


def test_a_deeply_nested_body_is_an_ordinary_validation_error(edges):
    body = b"[" * 100_000 + b"]" * 100_000
    response = edges["client"].post("/api/v1/chat", content=body, headers=JSON)
    assert 400 <= response.status_code < 500


# -- launch tokens: times out of range are a 401, never a 500 -------------------------------


def launch(edges, **claims: Any):
    token = edges["host"].token(**claims)
    return edges["client"].post("/api/v1/miniapp/session", json={"launch_token": token})


@pytest.mark.parametrize(
    "claims",
    [
        {"exp": 10**20},
        {"exp": 1e300},
        {"exp": float("inf")},
        {"exp": float("nan")},
        {"iat": -(10**20)},
        {"iat": float("-inf")},
        {"nbf": 10**20},
        {"nbf": float("inf")},
        {"exp": "soon"},
        {"iat": "yesterday"},
        {"exp": [1]},
        {"iat": {"t": 1}},
        {"exp": True},
    ],
    ids=repr,
)
def test_launch_token_times_out_of_range_are_refused(edges, claims):
    response = launch(edges, **claims)
    assert response.status_code == 401, response.text
    error = response.json()["error"]
    assert error["code"].startswith("launch_token_")
    assert "mở lại trợ lý" in error["message"]


def test_a_launch_token_with_a_numeric_string_time_is_refused(edges):
    """RFC 7519 NumericDate is a JSON number; PyJWT alone would accept "1767225600"."""
    now = int(time.time())
    response = launch(edges, iat=str(now), exp=str(now + 60))
    assert response.status_code == 401, response.text


def test_a_launch_token_with_fractional_seconds_is_accepted(edges):
    now = time.time()
    response = launch(edges, iat=now, exp=now + 60.5)
    assert response.status_code == 201, response.text


def test_a_launch_token_name_that_cannot_be_sent_back_is_dropped(edges):
    response = launch(edges, name="Lan \ud800")
    assert response.status_code == 201, response.text
    assert response.json()["name"] is None


@pytest.mark.parametrize(
    "claims",
    [
        {"exp": 10**20},
        {"exp": float("inf")},
        {"iat": -(10**20)},
        {"nbf": float("inf")},
    ],
    ids=repr,
)
def test_staff_token_times_out_of_range_are_an_auth_error(claims):
    """read_token (bot/staff/security.py) never fails with anything but AuthError; a token
    that claims to live for ever is not accepted."""
    now = int(time.time())
    body = {
        "sub": "1",
        "role": "operator",
        "aud": "hue-s-staff",
        "iss": "hue-s",
        "iat": now,
        "exp": now + 60,
        **claims,
    }
    token = jwt.encode(body, STAFF_TOKEN_SECRET, algorithm="HS256")
    with pytest.raises(AuthError):
        read_token(token, STAFF_TOKEN_SECRET)


# -- places: a shared location must be in Huế -----------------------------------------------

PARIS = {"latitude": 48.8566, "longitude": 2.3522}
CITADEL = {"latitude": 16.4698, "longitude": 107.5786}


@pytest.mark.parametrize(
    "place",
    [PARIS, {"latitude": 16.0544, "longitude": 106.0}, {"latitude": 0, "longitude": 0}],
    ids=["paris", "laos", "null_island"],
)
def test_a_shared_location_outside_hue_is_refused_on_every_http_channel(edges, fake_rasa, place):
    client, factory = edges["client"], edges["factory"]
    host = {"X-API-Key": edges["host"].api_key}
    for path, body, headers in (
        ("/api/v1/chat", {"location": place}, {}),
        ("/api/v1/miniapp/messages", {"text": "ở đây", "location": place}, edges["miniapp"]),
        ("/api/v1/host/messages", {"citizen_id": "c-1", "location": place}, host),
    ):
        response = client.post(path, json=body, headers=headers)
        assert response.status_code == 422, response.text
        error = response.json()["error"]
        assert error["code"] == "location_outside_hue"
        assert "ngoài địa bàn thành phố Huế" in error["message"]
    assert stored(factory, Message) == 0
    assert fake_rasa.calls == []


def test_a_shared_location_in_hue_goes_to_the_assistant(edges, fake_rasa):
    response = edges["client"].post("/api/v1/chat", json={"location": CITADEL})
    assert response.status_code == 200, response.text
    assert fake_rasa.calls[-1]["metadata"]["location"] == CITADEL


def _degrees(dms: str) -> tuple[float, float]:
    values = [
        int(d) + int(m) / 60 + int(s) / 3600 for d, m, s in re.findall(r"(\d+)°(\d+)'(\d+)\"", dms)
    ]
    return values[0], values[1]


def test_the_box_is_the_four_extreme_points_of_its_data_file():
    raw = yaml.safe_load((ROOT / "data" / "catalog" / "city_bounds.yml").read_text("utf-8"))
    points = {side: _degrees(p["dms"]) for side, p in raw["extremes"].items()}
    assert raw["min_latitude"] == pytest.approx(points["south"][0], abs=1e-6)
    assert raw["max_latitude"] == pytest.approx(points["north"][0], abs=1e-6)
    assert raw["min_longitude"] == pytest.approx(points["west"][1], abs=1e-6)
    assert raw["max_longitude"] == pytest.approx(points["east"][1], abs=1e-6)
    # Every extreme point, the city centre and the far communes are inside; the neighbours'
    # capitals are not.
    for latitude, longitude in [*points.values(), (16.4637, 107.5909), (16.22, 107.28)]:
        assert in_hue(latitude, longitude), (latitude, longitude)
    for latitude, longitude in [(16.8163, 107.1003), (15.5736, 108.474), (21.0285, 105.8542)]:
        assert not in_hue(latitude, longitude), (latitude, longitude)


# -- what the fuzzer found: errors as the schema says ---------------------------------------


def test_a_405_names_every_method_of_the_path(edges):
    response = edges["client"].put("/api/v1/miniapp/session")
    assert response.status_code == 405
    assert response.headers["allow"] == "DELETE, POST"
    assert response.json()["error"]["code"] == "method_not_allowed"


def test_a_body_that_cannot_be_parsed_is_a_422(edges):
    broken = b"--b\r\n[]--b--\r\n"
    response = edges["client"].post(
        "/api/v1/miniapp/media",
        content=broken,
        headers={**edges["miniapp"], "content-type": "multipart/form-data; boundary=b"},
    )
    assert response.status_code == 422, response.text
    assert response.json()["error"]["code"] == "invalid_request"


def test_the_published_schema_documents_the_errors_the_api_returns(edges):
    schema = edges["client"].get("/openapi.json").json()
    for path, item in schema["paths"].items():
        for method, operation in item.items():
            refused = operation["responses"]["422"]["content"]["application/json"]["schema"]
            expected = "SpecError" if path.startswith("/open311/") else "ErrorResponse"
            assert expected in str(refused), (method, path)
    assert "HTTPValidationError" not in str(schema)
