"""Open311 GeoReport v2: read through the third-party `georeport` client (PyPI) against the
service running on a local port; requests created over HTTP with an API key."""

from __future__ import annotations

import os
import subprocess
import sys
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
from bot.settings import ROOT, Environment, Settings
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


# -- issue #13: jurisdiction, coordinates, keys in logs ------------------------------------

PARIS = {"lat": "48.8566", "long": "2.3522"}
CITADEL = {"lat": "16.4698", "long": "107.5786"}


def reports_filed(server) -> list:
    return GeoReport(server["base"]).get_service_requests()


def spec_error(response: httpx.Response, status: int, needle: str) -> None:
    assert response.status_code == status, response.text
    [problem] = response.json()
    assert problem["code"] == status and needle in problem["description"]


def test_discovery_names_the_jurisdiction_and_the_client_may_give_it(server):
    discovery = httpx.get(server["base"] + "/discovery.json").json()
    assert discovery["jurisdiction_id"] == "hue.gov.vn"
    client = GeoReport(server["base"], jurisdiction="hue.gov.vn")
    assert client.get_service_list()
    created = post(server, api_key=server["key"], jurisdiction_id="hue.gov.vn", **LIGHT)
    assert created.status_code == 200, created.text
    code = created.json()[0]["service_request_id"]
    assert client.get_service_request(code)["service_request_id"] == code


def test_an_unknown_jurisdiction_is_a_400_everywhere_and_files_nothing(server):
    base, other = server["base"], {"jurisdiction_id": "paris.fr"}
    [receipt] = post(server, api_key=server["key"], **LIGHT).json()
    code = receipt["service_request_id"]
    for path in (
        "/services.json",
        "/services/street_lighting.json",
        "/requests.json",
        f"/requests/{code}.json",
        f"/tokens/{code}.json",
    ):
        spec_error(httpx.get(base + path, params=other), 400, "hue.gov.vn")
    spec_error(post(server, api_key=server["key"], **other, **LIGHT), 400, "jurisdiction_id")
    # In the query string of a POST too.
    response = httpx.post(
        base + "/requests.json", params=other, data={"api_key": server["key"], **LIGHT}
    )
    spec_error(response, 400, "jurisdiction_id")
    assert [r["service_request_id"] for r in reports_filed(server)] == [code]


@pytest.mark.parametrize(
    "place",
    [PARIS, {"lat": "21.0285", "long": "105.8542"}, {"lat": "0", "long": "0"},
     {"lat": "16.47", "long": "-107.58"}, {"lat": "-16.47", "long": "107.58"}],
    ids=["paris", "hanoi", "null_island", "west", "south"],
)  # fmt: skip
def test_coordinates_outside_hue_are_refused_and_nothing_is_filed(server, place):
    response = post(server, api_key=server["key"], **LIGHT, **place)
    spec_error(response, 400, "ngoài địa bàn thành phố Huế")
    assert reports_filed(server) == []


@pytest.mark.parametrize("value", ["nan", "inf", "-inf", "1e999"])
def test_coordinates_that_are_not_finite_numbers_are_refused(server, value):
    spec_error(
        post(server, api_key=server["key"], **LIGHT, lat=value, long="107.5"), 400, "lat/long"
    )
    assert reports_filed(server) == []


def test_coordinates_in_hue_alone_are_a_place(server):
    fields = {k: v for k, v in LIGHT.items() if k != "address_string"}
    created = post(server, api_key=server["key"], **fields, **CITADEL)
    assert created.status_code == 200, created.text
    [one] = reports_filed(server)
    assert (one["lat"], one["long"]) == (16.4698, 107.5786)


@pytest.mark.parametrize(
    "params",
    [{"start_date": "0001-01-01T00:00:00Z"}, {"end_date": "0001-01-01T00:00:00Z"},
     {"start_date": "9999-12-31T23:59:59-23:59", "end_date": "9999-12-31T23:59:59+23:59"},
     {"service_request_id": ",".join(f"PA-2026-{i:06d}" for i in range(101))}],
    ids=["start_year_1", "end_year_1", "offsets", "too_many_ids"],
)  # fmt: skip
def test_listing_limits_are_400s(server, params):
    assert httpx.get(server["base"] + "/requests.json", params=params).status_code == 400


@pytest.fixture
def logged_service(database_url, fake_rasa, tmp_path) -> Iterator[dict]:
    """The service as `make run` starts it (uvicorn's own logging), its output in a file."""
    with make_sessionmaker(make_engine(database_url))() as session:
        _, key = create_client(session, "Ứng dụng thử nghiệm", ClientKind.OPEN311)
    port, log = free_port(), tmp_path / "service.log"
    env = {
        **os.environ,
        "PYTHONPATH": str(ROOT),
        "ENVIRONMENT": "test",
        "DATABASE_URL": database_url,
        "RASA_URL": fake_rasa.url,
        "GATEWAY_SECRET": SECRET,
        "MEDIA_DIR": str(tmp_path / "media"),
    }
    command = [sys.executable, "-m", "uvicorn", "bot.app:create_app", "--factory",
               "--host", "127.0.0.1", "--port", str(port)]  # fmt: skip
    with log.open("wb") as out:
        process = subprocess.Popen(command, cwd=tmp_path, env=env, stdout=out, stderr=out)
    base = f"http://127.0.0.1:{port}"
    try:
        for _ in range(200):
            try:
                httpx.get(base + "/healthz")
                break
            except httpx.HTTPError:
                time.sleep(0.05)
        yield {"base": base, "key": key, "log": log, "process": process}
    finally:
        process.terminate()
        process.wait(timeout=10)


def test_api_keys_in_the_query_string_never_reach_the_log(logged_service):
    base, key = logged_service["base"] + "/open311/v2", logged_service["key"]
    created = httpx.post(base + "/requests.json", params={"api_key": key}, data=LIGHT)
    assert created.status_code == 200, created.text
    httpx.get(base + "/services.json", params={"api_key": key, "jurisdiction_id": "hue.gov.vn"})
    httpx.post(base + "/requests.json", params={"api_key": key, "jurisdiction_id": "x"}, data=LIGHT)
    session_id = "0123456789abcdef0123456789abcdef"
    httpx.get(logged_service["base"] + "/api/v1/media/abc", params={"session_id": session_id})
    logged_service["process"].terminate()
    logged_service["process"].wait(timeout=10)
    output = logged_service["log"].read_text("utf-8")
    assert '"POST /open311/v2/requests.json?api_key=*** HTTP/1.1" 200' in output, output
    assert "/services.json?api_key=***&jurisdiction_id=***" in output
    assert key not in output and key[12:] not in output
    assert session_id not in output
