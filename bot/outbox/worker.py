"""Delivering the outbox: due messages are sent, failures retried with backoff, then given up.

Messages are enqueued with ``enqueue`` inside the transaction that makes the change they
announce, so a crash can lose neither: either both are stored or neither. The worker (run by
`hue-s outbox`) picks due messages; on PostgreSQL several workers can run at once (rows are
claimed with FOR UPDATE SKIP LOCKED).
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

import bot.models  # noqa: F401  (every table, so the message's report foreign key resolves)
from bot.db import utcnow
from bot.outbox.models import Channel, Delivery, OutboxMessage
from bot.outbox.senders import DeliveryError, Sender

MAX_ATTEMPTS = 8
BASE_DELAY = timedelta(seconds=30)
MAX_DELAY = timedelta(hours=1)


def backoff(attempts: int) -> timedelta:
    """30 s, 1 min, 2 min, 4 min… up to an hour between attempts."""
    delay: timedelta = BASE_DELAY * (2 ** max(attempts - 1, 0))
    return min(delay, MAX_DELAY)


def enqueue(
    session: Session,
    channel: Channel,
    target: str,
    body: dict[str, Any],
    *,
    subject: str | None = None,
    report_id: int | None = None,
    now: datetime | None = None,
) -> OutboxMessage:
    """Add a message to the outbox in the caller's transaction (the caller commits)."""
    message = OutboxMessage(
        channel=channel,
        target=target,
        subject=subject,
        body=body,
        report_id=report_id,
        status=Delivery.PENDING,
        attempts=0,
        next_attempt_at=now or utcnow(),
        created_at=now or utcnow(),
    )
    session.add(message)
    return message


def deliver_due(
    factory: sessionmaker[Session],
    senders: Mapping[Channel, Sender],
    *,
    now: datetime | None = None,
    limit: int = 50,
) -> dict[str, int]:
    """Try every due message once; returns how many were sent, retried and given up."""
    now = now or utcnow()
    counts = {"sent": 0, "retry": 0, "failed": 0}
    with factory() as session:
        query = (
            select(OutboxMessage)
            .where(OutboxMessage.status == Delivery.PENDING, OutboxMessage.next_attempt_at <= now)
            .order_by(OutboxMessage.next_attempt_at, OutboxMessage.id)
            .limit(1)
        )
        if session.get_bind().dialect.name == "postgresql":
            query = query.with_for_update(skip_locked=True)
        for _ in range(limit):
            # One message per transaction: claimed, sent, recorded, committed.
            message = session.scalars(query).first()
            if message is None:
                break
            message.attempts += 1
            sender = senders.get(message.channel)
            try:
                if sender is None:
                    raise DeliveryError(f"no sender configured for {message.channel.value}")
                # The id lets a receiver drop a repeat: delivery is at least once (a worker
                # that dies after sending but before recording it sends it again).
                sender.send(
                    message.target, message.subject, {**message.body, "delivery_id": message.id}
                )
            except DeliveryError as exc:
                message.last_error = str(exc)[:2000]
                if message.attempts >= MAX_ATTEMPTS:
                    message.status = Delivery.FAILED
                    counts["failed"] += 1
                else:
                    message.next_attempt_at = now + backoff(message.attempts)
                    counts["retry"] += 1
            else:
                message.status = Delivery.SENT
                message.sent_at = now
                message.last_error = None
                counts["sent"] += 1
            session.commit()  # one message at a time: a crash loses no delivery record
    return counts
