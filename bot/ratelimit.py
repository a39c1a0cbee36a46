"""Messages per citizen per minute: a sliding window kept in this process's memory.

Used by every channel (Telegram, the mini-app, the host API). Each process counts on its
own (with several service processes, a citizen's allowance is multiplied by their number).
Refused messages are not counted, so a citizen who slows down is served again as soon as the
oldest counted message leaves the window.
"""

from __future__ import annotations

import time
from collections import deque
from collections.abc import Callable, Hashable
from enum import Enum

SWEEP_EVERY = 1000  # hits; idle users are forgotten then


class Verdict(Enum):
    ALLOWED = "allowed"
    REFUSED = "refused"  # over the limit: tell the user once
    REFUSED_AGAIN = "refused_again"  # over the limit, already told within this window


class RateLimiter:
    """At most ``limit`` allowed hits per key in any ``window`` seconds."""

    def __init__(
        self,
        limit: int,
        *,
        window: float = 60.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        if limit < 1:
            raise ValueError("limit must be at least 1")
        self.limit = limit
        self.window = window
        self._clock = clock
        self._hits: dict[Hashable, deque[float]] = {}
        self._told: dict[Hashable, float] = {}
        self._count = 0

    def hit(self, key: Hashable) -> Verdict:
        now = self._clock()
        self._count += 1
        if self._count % SWEEP_EVERY == 0:
            self._sweep(now)
        hits = self._hits.setdefault(key, deque())
        while hits and hits[0] <= now - self.window:
            hits.popleft()
        if len(hits) < self.limit:
            hits.append(now)
            return Verdict.ALLOWED
        told = self._told.get(key)
        if told is not None and told > now - self.window:
            return Verdict.REFUSED_AGAIN
        self._told[key] = now
        return Verdict.REFUSED

    def _sweep(self, now: float) -> None:
        horizon = now - self.window
        for key in [k for k, hits in self._hits.items() if not hits or hits[-1] <= horizon]:
            del self._hits[key]
        for key in [k for k, told in self._told.items() if told <= horizon]:
            del self._told[key]
