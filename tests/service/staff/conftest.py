"""The staff world of the authentication tests: the accounts of STAFF, a report in each of two
communes, and the app serving them; clients can come from different addresses."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session, sessionmaker

from bot.app import create_app
from bot.db import make_engine, make_sessionmaker
from bot.reports.calendar import WorkingCalendar
from bot.reports.catalog import default_catalog
from bot.reports.service import ReportDraft, submit_report
from bot.settings import Environment, Settings
from tests.service.conftest import SECRET, STAFF_TOKEN_SECRET, add_staff


@dataclass
class World:
    app: FastAPI
    client: TestClient  # from the default test address ("testclient")
    factory: sessionmaker[Session]
    settings: Settings
    codes: list[str]  # a report of ubnd_thuan_hoa (lan's agency), then one of ubnd_vy_da
    database_url: str

    def client_from(self, address: str) -> TestClient:
        """A client of the same running app whose requests come from ``address``."""
        return TestClient(self.app, client=(address, 50000))


@pytest.fixture
def world(database_url: str, fake_rasa) -> Iterator[World]:
    factory = make_sessionmaker(make_engine(database_url))
    with factory() as session:
        add_staff(session)
        codes = []
        for commune in ("Thuận Hóa", "Vỹ Dạ"):
            report = submit_report(
                session,
                ReportDraft(description="Đèn đường tắt cả tuần nay", reporter_id="web:a",
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
    app = create_app(settings)
    with TestClient(app) as client:
        yield World(app, client, factory, settings, codes, database_url)
