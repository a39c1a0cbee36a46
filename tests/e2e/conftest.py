"""The whole assistant as `make run` starts it, shared by the end-to-end tests of this run.

Needs a trained model in models/ (scripts/test.sh trains it once per run).
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from bot import devserver, engine
from bot.applications.seed import seed_demo
from bot.db import make_engine, make_sessionmaker
from bot.procedures.importer import import_catalog
from bot.settings import Environment, Settings
from tests.service.conftest import free_port, migrate

SECRET = "e2e-gateway-secret-0123456789"


@pytest.fixture(scope="session")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, object]]:
    if engine.latest_model() is None:
        pytest.fail("no trained model in models/: run `make train` first")
    tmp = tmp_path_factory.mktemp("e2e")
    settings = Settings(
        environment=Environment.TEST,
        database_url=f"sqlite:///{tmp / 'service.db'}",
        tracker_store_url=f"sqlite:///{tmp / 'tracker.db'}",
        gateway_secret=SECRET,  # type: ignore[arg-type]
        _env_file=None,  # type: ignore[call-arg]
    )
    migrate(settings.database_url)
    factory = make_sessionmaker(make_engine(settings.database_url))
    assert import_catalog(factory).failed == []
    seed_demo(factory)
    ports = {"port": free_port(), "rasa_port": free_port(), "action_port": free_port()}
    children = devserver.build_children(settings, **ports)
    devserver.one_address_for_many_citizens(children)
    try:
        for child in children:
            child.start()
        dead = devserver.wait_healthy(children, timeout=240)
        assert dead is None, f"{dead.name} died while starting" if dead else ""
        yield {"settings": settings, "children": children, **ports}
    finally:
        devserver.stop_all(children)


@pytest.hookimpl(wrapper=True, tryfirst=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]):  # type: ignore[no-untyped-def]
    """Keep each phase's report on the test item (the browser tests screenshot failures)."""
    report = yield
    setattr(item, f"rep_{report.when}", report)
    return report
