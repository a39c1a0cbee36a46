"""The gateway use case: store the citizen's message, ask Rasa, store and return the replies.

A message the assistant could not answer (Rasa or the action server down) stays stored as
failed and is answered later, in order: by the citizen's next message, which first sends the
failed ones again (``bot.conversations.backlog``), or by the replay pass of the outbox worker
(``bot.conversations.replay``), which pushes the replies where the channel allows.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import partial
from typing import Any

import anyio
from sqlalchemy import exists, insert, select, update
from sqlalchemy.orm import Session, sessionmaker

from bot.conversations.backlog import (
    BacklogBlockedError,
    drain,
    rasa_metadata,
    store_replies,
    waiting_clause,
)
from bot.conversations.models import Direction, Message, MessageStatus
from bot.conversations.rasa import RasaClient, RasaUnavailableError
from bot.db import engine_of, utcnow
from bot.logs import log

# What Rasa is sent for a message with no words: a photo alone starts a report (or feeds the
# one being written); a shared location alone gives the place (the report form reads the
# coordinates from metadata.location whatever the intent).
PHOTO_ONLY = "/report_problem"
LOCATION_ONLY = "/inform_place"

BUSY = (
    "Trợ lý đang bận, tin nhắn của bạn đã được lưu lại và sẽ được trả lời khi trợ lý hoạt động "
    "trở lại (thường sau ít phút)."
)
"""What a citizen reads when their message could not be answered now (every channel)."""


@dataclass(frozen=True)
class Inbound:
    """A citizen's message as every channel hands it to the gateway."""

    sender_id: str
    channel: str
    text: str
    metadata: dict[str, Any]


class AssistantUnavailableError(RuntimeError):
    """The message was stored but the assistant could not answer it now.

    It is answered later (``bot.conversations.replay``); ``citizen_message`` says so.
    """

    citizen_message = BUSY

    def __init__(self, message_id: int) -> None:
        super().__init__(f"message {message_id} stored, assistant unavailable")
        self.message_id = message_id


# The two writes of every message are plain statements on a connection, not ORM objects in a
# session: for the replies that took 0.26 ms instead of 0.61 ms on this machine
# (docs/benchmarks.md), and every citizen's message pays it.


def record_inbound(session_factory: sessionmaker[Session], inbound: Inbound) -> int:
    """Store and commit the message before anything else happens to it."""
    return _record_inbound(session_factory, inbound, utcnow())[0]


def _record_inbound(
    session_factory: sessionmaker[Session], inbound: Inbound, received_at: datetime
) -> tuple[int, bool]:
    """Store the message; also say whether earlier messages of this citizen wait for replay."""
    with engine_of(session_factory).begin() as connection:
        message_id: int = connection.execute(
            insert(Message)
            .values(
                sender_id=inbound.sender_id,
                channel=inbound.channel,
                direction=Direction.INBOUND,
                status=MessageStatus.RECEIVED,
                text=inbound.text,
                payload=inbound.metadata or None,
                created_at=received_at,
            )
            .returning(Message.id)
        ).scalar_one()
        waiting = connection.execute(
            select(exists().where(waiting_clause(inbound.sender_id, before=message_id)))
        ).scalar_one()
    return message_id, bool(waiting)


def _record_outcome(
    session_factory: sessionmaker[Session],
    *,
    message_id: int,
    inbound: Inbound,
    replies: list[dict[str, Any]] | None,
    error: str | None,
    processed_at: datetime,
) -> None:
    """Mark the message answered (or failed) and store the replies, in one transaction."""
    with engine_of(session_factory).begin() as connection:
        connection.execute(
            update(Message)
            .where(Message.id == message_id)
            .values(
                processed_at=processed_at,
                status=MessageStatus.FAILED if replies is None else MessageStatus.PROCESSED,
                error=error,
            )
        )
        store_replies(
            connection,
            sender_id=inbound.sender_id,
            channel=inbound.channel,
            replies=replies or [],
            at=processed_at,
        )


Defer = Callable[..., None]
"""Runs a function after the citizen has been answered: FastAPI's ``BackgroundTasks.add_task``."""


async def handle_message(
    *,
    session_factory: sessionmaker[Session],
    rasa: RasaClient,
    inbound: Inbound,
    defer: Defer | None = None,
) -> list[dict[str, Any]]:
    """Store, forward to Rasa, store the replies; returns Rasa's replies.

    Earlier messages of this citizen that are waiting for replay are sent first, in order;
    their replies (each after a line saying which message it answers) come before this one's.
    Raises AssistantUnavailableError when Rasa fails, or an earlier message still cannot be
    answered: the message stays stored as failed, and is answered later.

    With ``defer`` the replies are stored after the citizen has them (an HTTP channel's
    background task), which takes the second write off every message's latency. The citizen's
    own message is always stored before Rasa sees it; the replies are also in Rasa's tracker,
    and the replies' time is taken when Rasa answered, so the history keeps its order.
    """
    # Database work runs in a worker thread so the event loop keeps serving other citizens.
    received_at = utcnow()
    message_id, waiting = await anyio.to_thread.run_sync(
        _record_inbound, session_factory, inbound, received_at
    )
    earlier: list[dict[str, Any]] = []
    try:
        if waiting:
            earlier = await drain(
                session_factory,
                rasa,
                inbound.sender_id,
                before=message_id,
                resent=(inbound.text, inbound.metadata),
                # In the history the earlier answers come before this message, as they do here.
                answer_at=received_at - timedelta(microseconds=1),
            )
        replies = await rasa.send(
            sender_id=inbound.sender_id,
            text=inbound.text,
            metadata=rasa_metadata(inbound.channel, message_id, inbound.metadata),
            message_id=str(message_id),
        )
    except (RasaUnavailableError, BacklogBlockedError) as exc:
        log.warning("assistant_unavailable", message_id=message_id, error=str(exc))
        await anyio.to_thread.run_sync(
            partial(
                _record_outcome,
                session_factory,
                message_id=message_id,
                inbound=inbound,
                replies=None,
                error=str(exc),
                processed_at=utcnow(),
            )
        )
        raise AssistantUnavailableError(message_id) from exc
    outcome = partial(
        _record_outcome,
        session_factory,
        message_id=message_id,
        inbound=inbound,
        replies=replies,
        error=None,
        processed_at=utcnow(),
    )
    if defer is None:
        await anyio.to_thread.run_sync(outcome)
    else:
        defer(outcome)
    log.info(
        "message_handled", message_id=message_id, channel=inbound.channel, replies=len(replies)
    )
    return earlier + replies
