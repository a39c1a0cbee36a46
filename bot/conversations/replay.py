"""The replay pass: messages the assistant could not answer are answered when it is back.

Run by the outbox worker every round (``hue-s outbox run``), so the replies it pushes are
delivered in the same round. One pass:

1. messages waiting longer than ``REPLAY_WINDOW`` are given up on: the citizen is told to send
   them again;
2. messages left in flight by a process that died (received, never settled, older than
   ``CLAIM_LEASE``) are looked up in Rasa's tracker: answered there → their replies are put in
   the log; not → the citizen is told they were not processed (the citizen saw the connection
   fail, and may have sent them again: they are never run late);
3. when Rasa and the action server are both up, each citizen's waiting messages are sent
   again, oldest first (``bot.conversations.backlog.drain``).

Replies and notices go into the message log (the web chat and mini-app show them in their
history) and, for citizens who can be reached outside the chat (Telegram, a host app's
webhook), into the outbox.

The pass scans message ids above a watermark (the oldest row it has not seen settled), not
the whole log: no index on ``status`` is needed.
"""

from __future__ import annotations

import time
from collections import Counter
from datetime import datetime
from functools import partial

import anyio
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from bot.conversations.backlog import (
    CLAIM_LEASE,
    REPLAY_WINDOW,
    WAITING,
    WAITING_COLUMNS,
    BacklogBlockedError,
    Waiting,
    drain,
    not_processed_notice,
    rasa_metadata,
    settle,
)
from bot.conversations.models import Direction, Message, MessageStatus
from bot.conversations.rasa import RasaClient, RasaUnavailableError, open_rasa
from bot.db import utcnow
from bot.logs import log
from bot.settings import Settings

UNSETTLED = (MessageStatus.RECEIVED, *WAITING)
BATCH = 500
PASS_SECONDS = 30.0  # a pass starts on no more citizens after this: the worker has other work


class Replayer:
    """The replay pass, called by a worker loop; remembers where its scan starts."""

    def __init__(self, settings: Settings, factory: sessionmaker[Session]) -> None:
        self.settings = settings
        self.factory = factory
        self._low: int | None = None  # every unsettled inbound message has a larger id
        self._previous_top = 0

    def run_once(self) -> dict[str, int]:
        """One pass (synchronous, for the worker's loop); what it did, by outcome."""
        rows = self._unsettled()
        if not rows:
            return {}
        return anyio.run(self.replay, rows)

    def _unsettled(self) -> list[Waiting]:
        with self.factory() as session:
            inbound = (Message.direction == Direction.INBOUND, Message.status.in_(UNSETTLED))
            if self._low is None:  # once per process: a full scan
                first = session.scalar(select(func.min(Message.id)).where(*inbound))
                top = session.scalar(select(func.max(Message.id))) or 0
                self._low, self._previous_top = (top if first is None else first - 1), top
            top = session.scalar(select(func.max(Message.id))) or 0
            rows = [
                Waiting(*row)
                for row in session.execute(
                    select(*WAITING_COLUMNS)
                    .where(Message.id > self._low, *inbound)
                    .order_by(Message.id)
                    .limit(BATCH)
                )
            ]
        # Next time from the oldest row not settled yet, and never above the top seen a round
        # ago: a row committed late under a lower id than the top is still found.
        self._low = min(rows[0].id - 1 if rows else top, self._previous_top)
        self._previous_top = top
        return rows

    async def replay(self, rows: list[Waiting]) -> dict[str, int]:
        counts: Counter[str] = Counter()
        now = utcnow()
        async with open_rasa(self.settings) as rasa:
            for row in rows:
                if row.status in WAITING and row.created_at < now - REPLAY_WINDOW:
                    if row.status is MessageStatus.FAILED or _stale(row, now):
                        counts["too_old"] += await self._give_up(row, "too old to answer")
            interrupted = [
                r
                for r in rows
                if r.status is MessageStatus.RECEIVED and r.created_at < now - CLAIM_LEASE
            ]
            if interrupted and await rasa.healthy():
                for row in interrupted:
                    counts[await self._interrupted(rasa, row)] += 1
            senders = dict.fromkeys(
                r.sender_id
                for r in rows
                if r.status in WAITING and r.created_at >= now - REPLAY_WINDOW
            )
            if senders and await rasa.ready():
                stop_at = time.monotonic() + PASS_SECONDS
                for sender_id in senders:
                    if time.monotonic() > stop_at:
                        counts["left_for_next_pass"] += 1
                        continue
                    try:
                        await drain(self.factory, rasa, sender_id, push=True)
                        counts["replayed_citizens"] += 1
                    except BacklogBlockedError as exc:
                        log.info("replay_blocked", sender=sender_id, reason=str(exc))
                        counts["blocked"] += 1
            elif senders:
                counts["waiting_for_engine"] += len(senders)
        return dict(counts)

    async def _give_up(self, row: Waiting, reason: str) -> int:
        done = await anyio.to_thread.run_sync(
            partial(
                settle,
                self.factory,
                row,
                status=MessageStatus.NOT_PROCESSED,
                replies=[not_processed_notice(row)],
                error=reason,
                push=True,
            )
        )
        return int(done)

    async def _interrupted(self, rasa: RasaClient, row: Waiting) -> str:
        """A message whose process died before it was settled: did Rasa process it?"""
        try:
            result = await rasa.replay(
                sender_id=row.sender_id,
                text=row.text or "",
                metadata=rasa_metadata(row.channel, row.id, row.payload or {}),
                message_id=str(row.id),
                mode="check",
            )
        except RasaUnavailableError:
            return "interrupted_unknown"
        if not result.already_processed:
            await self._give_up(row, "interrupted before the assistant processed it")
            return "interrupted_not_processed"
        # The citizen may have had these replies before the process died: logged, not pushed,
        # at the message's own time so the history reads in order.
        await anyio.to_thread.run_sync(
            partial(
                settle,
                self.factory,
                row,
                status=MessageStatus.PROCESSED,
                replies=result.messages,
                error="interrupted; replies read back from Rasa's tracker",
                replies_at=row.created_at,
            )
        )
        return "interrupted_processed"


def _stale(row: Waiting, now: datetime) -> bool:
    """A replay claim whose process died (its lease ran out)."""
    return row.processed_at is None or row.processed_at < now - CLAIM_LEASE
