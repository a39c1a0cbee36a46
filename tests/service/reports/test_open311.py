"""Open311 GeoReport v2: read through the third-party `georeport` client (PyPI) against the
service running on a local port; requests created over HTTP with an API key."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator

import httpx
import pytest
import requests
import uvicorn
from georeport import GeoReport

from bot.apiclients.models import ClientKind, create_client
from bot.app import create_app
from bot.db import make_engine, make_sessionmaker
from bot.reports.catalog import default_catalog
from bot.settings import Environment, Settings
from tests.service.conftest import SECRET, free_port


@pytest.fixture
def server(database_url, fake_rasa) -> Iterator[dict]:
    with make_sessionmaker(make_engine(database_url))() as session:
        _, key = create_client(session, "Ứng dụng thử nghiệm", ClientKind.OPEN311)
        _, host_key = create_client(session, "Host", ClientKind.HOST)
    settings = Settings(
        environment=Environment.TEST,
        database_url=database_url,
        rasa_url=fake_rasa.url,
        gateway_secret=SECRET,  # type: ignore[arg-type]
        _env_file=None,  # type: ignore[call-arg]
    )
    port = free_port()
    server = uvicorn.Server(
        uvicorn.Config(create_app(settings), host="127.0.0.1", port=port, log_level="warning")
    )
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    base = f"http://127.0.0.1:{port}/open311/v2"
    for _ in range(100):
        try:
            httpx.get(base + "/services.json")
            break
        except httpx.HTTPError:
            time.sleep(0.05)
    yield {"base": base, "key": key, "host_key": host_key}
    server.should_exit = True
    thread.join(timeout=5)


def post(server, **fields) -> httpx.Response:
    return httpx.post(server["base"] + "/requests.json", data=fields)


LIGHT = {
    "service_code": "street_lighting",
    "description": "Đèn đường kiệt 45 Phan Đình Phùng tắt mấy hôm rồi",
    "address_string": "Kiệt 45 Phan Đình Phùng, phường Thuận Hóa",
    "email": "citizen@example.invalid",
}


def test_the_client_lists_services_and_a_definition(server):
    client = GeoReport(server["base"])
    services = client.get_service_list()
    codes = {s["service_code"] for s in services}
    assert {"street_lighting", "traffic_infrastructure", "heritage_sites"} <= codes
    lighting = next(s for s in services if s["service_code"] == "street_lighting")
    assert lighting["service_name"] == default_catalog().categories["street_lighting"].name
    assert lighting["metadata"] is False and lighting["type"] == "realtime"
    assert client.get_service_definition("street_lighting") == {
        "service_code": "street_lighting",
        "attributes": [],
    }


def test_a_posted_request_is_routed_and_read_back_by_the_client(server):
    created = post(server, api_key=server["key"], **LIGHT)
    assert created.status_code == 200, created.text
    [receipt] = created.json()
    code = receipt["service_request_id"]
    assert (
        code.startswith("PA-") and "Ủy ban nhân dân phường Thuận Hóa" in receipt["service_notice"]
    )

    client = GeoReport(server["base"])
    one = client.get_service_request(code)
    assert one["status"] == "open"
    assert one["status_notes"].startswith("đã chuyển đơn vị xử lý")
    assert one["agency_responsible"] == "Ủy ban nhân dân phường Thuận Hóa"
    assert one["expected_datetime"] is not None
    assert "citizen@example.invalid" not in str(one)  # nothing personal is published

    assert [
        r["service_request_id"] for r in client.get_service_requests(service_request_id=code)
    ] == [code]
    assert [
        r["service_request_id"]
        for r in client.get_service_requests(service_code="street_lighting", status="open")
    ] == [code]
    assert client.get_service_requests(status="closed") == []
    assert client.get_service_requests(service_code="trees") == []


def test_a_token_resolves_to_its_request(server):
    [receipt] = post(server, api_key=server["key"], **LIGHT).json()
    code = receipt["service_request_id"]
    response = httpx.get(f"{server['base']}/tokens/{code}.json")
    assert response.json() == [{"service_request_id": code, "token": code}]


@pytest.mark.parametrize(
    ("fields", "status", "needle"),
    [
        ({}, 403, "Khóa API"),
        ({"api_key": "wrong"}, 403, "Khóa API"),
        ({"api_key": "HOST"}, 403, "Khóa API"),
        ({"api_key": "KEY", "service_code": "weather"}, 400, "service_code"),
        ({"api_key": "KEY", "address_string": None}, 400, "Cần vị trí"),
        ({"api_key": "KEY", "lat": "abc", "long": "107.5"}, 400, "lat/long"),
        ({"api_key": "KEY", "description": "ơ"}, 400, "mô tả"),
    ],
)
def test_bad_posts_get_the_specs_error_format_and_store_nothing(server, fields, status, needle):
    key = {"KEY": server["key"], "HOST": server["host_key"]}.get(
        fields.get("api_key"), fields.get("api_key")
    )
    body = {**LIGHT, **fields, "api_key": key}
    body = {k: v for k, v in body.items() if v is not None}
    response = post(server, **body)
    assert response.status_code == status
    [problem] = response.json()
    assert problem["code"] == status and needle in problem["description"]
    assert GeoReport(server["base"]).get_service_requests() == []


def test_unknown_ids_and_formats_are_errors_the_client_sees(server):
    client = GeoReport(server["base"])
    with pytest.raises(requests.HTTPError):
        client.get_service_request("PA-2026-999999")
    with pytest.raises(requests.HTTPError):
        client.get_service_definition("weather")
    xml = httpx.get(server["base"] + "/services.xml")
    assert xml.status_code == 400 and "json" in xml.json()[0]["description"]
    too_long = httpx.get(
        server["base"] + "/requests.json",
        params={"start_date": "2026-01-01T00:00:00Z", "end_date": "2026-06-01T00:00:00Z"},
    )
    assert too_long.status_code == 400
