"""Host API keys → the host app, remembered for a short while.

Every host API call carries the key; looking it up in the database cost each message a
thread hop and a query (~1.8 ms on this machine, docs/benchmarks.md). A valid key is
remembered for ``ttl`` seconds, so a key made inactive stops working within that time.
Unknown keys are not remembered (a stream of wrong keys cannot fill the memory).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass

import anyio
from sqlalchemy.orm import Session, sessionmaker

from bot.apiclients.models import ClientKind, client_for_key

TTL_SECONDS = 30.0
MAX_KEYS = 1000  # hosts are a handful; a bound all the same


@dataclass(frozen=True)
class KnownHost:
    slug: str
    until: float


class HostKeys:
    def __init__(
        self,
        factory: sessionmaker[Session],
        *,
        ttl: float = TTL_SECONDS,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._factory = factory
        self._ttl = ttl
        self._clock = clock
        self._known: dict[str, KnownHost] = {}

    async def slug_for(self, key: str | None) -> str | None:
        """The slug of the active host app this key belongs to, or None."""
        if not key:
            return None
        now = self._clock()
        known = self._known.get(key)
        if known is not None and known.until > now:
            return known.slug
        slug = await anyio.to_thread.run_sync(self._lookup, key)
        if slug is None:
            self._known.pop(key, None)
            return None
        if len(self._known) >= MAX_KEYS:
            self._known.clear()
        self._known[key] = KnownHost(slug, now + self._ttl)
        return slug

    def _lookup(self, key: str) -> str | None:
        with self._factory() as session:
            client = client_for_key(session, key, ClientKind.HOST)
            return client.slug if client is not None else None
