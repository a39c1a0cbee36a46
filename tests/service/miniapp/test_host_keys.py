"""Host API keys are remembered for a short while; an inactive key stops working after it."""

from __future__ import annotations

import anyio
from sqlalchemy import update

from bot.apiclients.models import ApiClient, create_host
from bot.channels.host.keys import HostKeys
from bot.db import make_engine, make_sessionmaker


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_a_key_is_remembered_until_its_time_is_up(database_url: str):
    factory = make_sessionmaker(make_engine(database_url))
    with factory() as session:
        key = create_host(session, name="Hue-S", slug="hues").api_key
    clock = Clock()
    keys = HostKeys(factory, ttl=30, clock=clock)
    assert anyio.run(keys.slug_for, key) == "hues"

    with factory() as session:
        session.execute(update(ApiClient).values(active=False))
        session.commit()
    clock.now += 29
    assert anyio.run(keys.slug_for, key) == "hues"  # remembered: no database call
    clock.now += 2
    assert anyio.run(keys.slug_for, key) is None  # looked up again: inactive
    assert anyio.run(keys.slug_for, key) is None


def test_unknown_and_missing_keys_are_refused(database_url: str):
    factory = make_sessionmaker(make_engine(database_url))
    keys = HostKeys(factory)
    assert anyio.run(keys.slug_for, "not-a-key") is None
    assert anyio.run(keys.slug_for, None) is None
    assert anyio.run(keys.slug_for, "") is None
