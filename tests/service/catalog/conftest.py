"""A database of each kind holding the full procedure catalogue, imported once per session."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import ExitStack
from dataclasses import dataclass

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session, sessionmaker

from bot.app import create_app
from bot.applications.seed import seed_demo
from bot.db import make_engine, make_sessionmaker
from bot.procedures.importer import ImportReport, import_catalog
from bot.settings import Environment, Settings
from tests.service.conftest import SECRET, migrate, postgres_url, temporary_postgres


@dataclass(frozen=True)
class CatalogDb:
    url: str
    first_import: ImportReport


@pytest.fixture(
    scope="session", params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)]
)
def catalog_db(request: pytest.FixtureRequest, tmp_path_factory) -> Iterator[CatalogDb]:
    with ExitStack() as stack:
        if request.param == "sqlite":
            url = f"sqlite:///{tmp_path_factory.mktemp('catalog') / 'catalog.db'}"
        else:
            url = postgres_url(stack.enter_context(temporary_postgres("hue_s_catalog")))
        migrate(url)
        factory = make_sessionmaker(make_engine(url))
        report = import_catalog(factory)
        assert report.failed == []
        seed_demo(factory)
        yield CatalogDb(url=url, first_import=report)


@pytest.fixture(scope="session")
def catalog(catalog_db: CatalogDb) -> sessionmaker[Session]:
    return make_sessionmaker(make_engine(catalog_db.url))


@pytest.fixture
def api(catalog_db: CatalogDb, fake_rasa) -> Iterator[TestClient]:
    settings = Settings(
        environment=Environment.TEST,
        database_url=catalog_db.url,
        rasa_url=fake_rasa.url,
        gateway_secret=SECRET,  # type: ignore[arg-type]
        _env_file=None,  # type: ignore[call-arg]
    )
    with TestClient(create_app(settings)) as client:
        yield client
