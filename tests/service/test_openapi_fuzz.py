"""Schemathesis over the whole published OpenAPI: no request, however odd, is a server error.

Every operation of /openapi.json (chat, mini-app, host API, staff, Open311, procedures,
applications, media, Telegram's webhook) gets Schemathesis's explicit examples, its coverage
cases (boundaries, wrong types, missing and unexpected values) and FUZZ_MAX_EXAMPLES generated
requests, seeded (FUZZ_SEED) so that a run repeats. They are sent over HTTP to the service on a
migrated database — SQLite, then PostgreSQL, which refuses what SQLite stores (NUL) — holding a
slice of the procedure catalogue, the demo applications and reports, with the local Rasa
stand-in. The host API's key, a mini-app session and an operator's token are put on every
request of their routes, and Open311's POST gets a valid key, so that authenticated routes are
exercised beyond 401. No response may be a 5xx, and every one must conform to the schema
(status code documented, body and headers as declared).

Run it alone: PYTHONPATH=$PWD .venv/bin/python -m pytest tests/service/test_openapi_fuzz.py -q
(FUZZ_MAX_EXAMPLES=200 for a longer hunt, FUZZ_SEED to try other inputs).
"""

from __future__ import annotations

import gzip
import os
import threading
import time
from collections import Counter
from collections.abc import Iterator
from contextlib import ExitStack
from pathlib import Path
from typing import Any

import httpx
import pytest
import schemathesis
import uvicorn
from hypothesis import HealthCheck, settings

from bot.apiclients.models import ClientKind, create_client
from bot.app import create_app
from bot.applications.seed import seed_demo
from bot.db import make_engine, make_sessionmaker
from bot.procedures.importer import CATALOG_FILE, import_catalog
from bot.reports.calendar import WorkingCalendar
from bot.reports.catalog import default_catalog
from bot.reports.service import ReportDraft, submit_report
from bot.settings import Environment, Settings
from tests.service.conftest import (
    SECRET,
    STAFF_PASSWORD,
    STAFF_TOKEN_SECRET,
    add_staff,
    free_port,
    migrate,
    postgres_url,
    temporary_postgres,
)
from tests.service.miniapp.hosts import add_host

MAX_EXAMPLES = int(os.environ.get("FUZZ_MAX_EXAMPLES", "30"))
SEED = int(os.environ.get("FUZZ_SEED", "20261207"))
PROCEDURES = 40  # the first procedures of the catalogue, imported for the procedure routes

CONFIG = schemathesis.Config.from_dict(
    {
        "seed": SEED,
        "generation": {"max-examples": MAX_EXAMPLES, "deterministic": True, "database": "none"},
        "phases": {"stateful": {"enabled": False}},
        "cache": {"enabled": False},
        # A request the schema allows may still be refused by design with 422 and a reason
        # (text with a control character, an unknown attachment, a place outside Huế): the
        # schema describes shapes, not every business rule. Every other check stays on.
        "checks": {"positive_data_acceptance": {"enabled": False}},
    }
)


def _published_schema() -> dict[str, Any]:
    """The OpenAPI document the service publishes (it does not depend on the settings)."""
    return create_app(Settings(environment=Environment.TEST, _env_file=None)).openapi()  # type: ignore[call-arg]


schema = schemathesis.openapi.from_dict(_published_schema(), config=CONFIG)
SENT: Counter[str] = Counter()  # requests sent, per operation


def _catalog_slice(path: Path) -> Path:
    with gzip.open(CATALOG_FILE, "rt", encoding="utf-8") as source:
        lines = [line for _, line in zip(range(PROCEDURES), source, strict=False)]
    with gzip.open(path, "wt", encoding="utf-8") as sliced:
        sliced.writelines(lines)
    return path


def _seed(url: str, tmp: Path) -> dict[str, Any]:
    """The world the requests land in; the credentials they carry."""
    migrate(url)
    factory = make_sessionmaker(make_engine(url))
    assert import_catalog(factory, _catalog_slice(tmp / "procedures.jsonl.gz")).failed == []
    seed_demo(factory)
    with factory() as session:
        add_staff(session)
        _, open311_key = create_client(session, "Ứng dụng Open311", ClientKind.OPEN311)
        for commune in ("Thuận Hóa", "Vỹ Dạ"):
            draft = ReportDraft(description="Đèn đường tắt cả tuần nay", reporter_id="web:fuzz",
                                channel="web", commune=commune)  # fmt: skip
            submit_report(session, draft, default_catalog(), WorkingCalendar())
    return {"open311_key": open311_key}


@pytest.fixture(
    scope="module", params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)]
)
def service(
    tmp_path_factory: pytest.TempPathFactory, fake_rasa: Any, request: pytest.FixtureRequest
) -> Iterator[dict[str, Any]]:
    """The service on a database of each kind (PostgreSQL refuses what SQLite stores: NUL)."""
    tmp = tmp_path_factory.mktemp("fuzz")
    stack = ExitStack()
    request.addfinalizer(stack.close)
    if request.param == "postgresql":
        url = postgres_url(stack.enter_context(temporary_postgres("hue_s_fuzz")))
    else:
        url = f"sqlite:///{tmp / 'fuzz.db'}"
    world = _seed(url, tmp)
    SENT.clear()
    app_settings = Settings(
        environment=Environment.TEST,
        database_url=url,
        rasa_url=fake_rasa.url,
        gateway_secret=SECRET,  # type: ignore[arg-type]
        staff_token_secret=STAFF_TOKEN_SECRET,  # type: ignore[arg-type]
        citizen_messages_per_minute=1_000_000,  # the fuzzer is one very fast citizen
        media_dir=tmp / "media",
        _env_file=None,  # type: ignore[call-arg]
    )
    host = add_host(app_settings)
    port = free_port()
    server = uvicorn.Server(
        uvicorn.Config(create_app(app_settings), host="127.0.0.1", port=port, log_level="warning")
    )
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    base = f"http://127.0.0.1:{port}"
    for _ in range(200):
        try:
            httpx.get(base + "/healthz")
            break
        except httpx.HTTPError:
            time.sleep(0.05)
    login = httpx.post(
        base + "/api/v1/staff/login", json={"username": "ioc", "password": STAFF_PASSWORD}
    )
    assert login.status_code == 200, login.text
    miniapp = httpx.post(base + "/api/v1/miniapp/session", json={})
    assert miniapp.status_code == 201, miniapp.text
    yield {
        "base": base,
        "open311_key": world["open311_key"],
        "headers": {
            "/api/v1/staff/": {"authorization": f"Bearer {login.json()['token']}"},
            "/api/v1/miniapp/": {"authorization": f"Bearer {miniapp.json()['session_token']}"},
            "/api/v1/host/": {"x-api-key": host.api_key},
        },
    }
    server.should_exit = True
    thread.join(timeout=10)
    plugins = request.config.pluginmanager
    reporter, capture = plugins.get_plugin("terminalreporter"), plugins.get_plugin("capturemanager")
    if reporter is not None and capture is not None and SENT:
        with capture.global_and_fixture_disabled():  # shown even when every case passed
            reporter.write_line(
                f"\nschemathesis: {sum(SENT.values())} requests over {len(SENT)} operations "
                f"on {request.param} (FUZZ_MAX_EXAMPLES={MAX_EXAMPLES}, FUZZ_SEED={SEED})"
            )


def _authenticate(case: schemathesis.Case, service: dict[str, Any]) -> dict[str, str]:
    """The credentials of the operation's route; Open311's key in its POST body, and its
    format (anything but json is refused at once; tests/service/reports covers that)."""
    path = case.operation.path
    if path.startswith("/open311/"):
        case.path_parameters = {**(case.path_parameters or {}), "fmt": "json"}
    if path == "/open311/v2/requests.{fmt}" and case.method == "POST":
        if isinstance(case.body, dict):
            case.body["api_key"] = service["open311_key"]
    for prefix, headers in service["headers"].items():
        if path.startswith(prefix) and path != "/api/v1/staff/login":
            if case.headers:  # the generated value of the same header gives way
                for name in headers:
                    case.headers.pop(name, None)
                    case.headers.pop(name.title(), None)
            return dict(headers)
    return {}


@schema.parametrize()
@settings(deadline=None, suppress_health_check=list(HealthCheck), print_blob=True)
def test_no_request_is_a_server_error_and_every_response_matches_the_schema(
    case: schemathesis.Case, service: dict[str, Any]
) -> None:
    headers = _authenticate(case, service)
    SENT[case.operation.label] += 1
    case.call_and_validate(base_url=service["base"], headers=headers)
