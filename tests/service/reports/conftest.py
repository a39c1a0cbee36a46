"""The staff world of the agency-side API tests: the three accounts of STAFF, a report in each
of two communes, and the app serving them (SQLite and PostgreSQL)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient

from bot.app import create_app
from bot.db import make_engine, make_sessionmaker
from bot.reports.calendar import WorkingCalendar
from bot.reports.catalog import default_catalog
from bot.reports.service import ReportDraft, submit_report
from bot.settings import Environment, Settings
from tests.service.conftest import SECRET, STAFF_TOKEN_SECRET, add_staff


@pytest.fixture
def world(database_url, fake_rasa) -> Iterator[dict]:
    factory = make_sessionmaker(make_engine(database_url))
    with factory() as session:
        add_staff(session)
        codes = []
        for commune, who in (("Thuận Hóa", "web:a"), ("Vỹ Dạ", "web:b")):
            report = submit_report(
                session,
                ReportDraft(description="Đèn đường tắt cả tuần nay", reporter_id=who,
                            channel="web", commune=commune),
                default_catalog(), WorkingCalendar(),
            )  # fmt: skip
            codes.append(report.code)
    settings = Settings(
        environment=Environment.TEST,
        database_url=database_url,
        rasa_url=fake_rasa.url,
        gateway_secret=SECRET,  # type: ignore[arg-type]
        staff_token_secret=STAFF_TOKEN_SECRET,  # type: ignore[arg-type]
        _env_file=None,  # type: ignore[call-arg]
    )
    with TestClient(create_app(settings)) as client:
        yield {"client": client, "codes": codes, "factory": factory}
