"""The gateway use case: store the citizen's message, ask Rasa, store and return the replies."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from functools import partial
from typing import Any

import anyio
from sqlalchemy import insert, update
from sqlalchemy.orm import Session, sessionmaker

from bot.conversations.models import Direction, Message, MessageStatus
from bot.conversations.rasa import RasaClient, RasaUnavailableError
from bot.db import engine_of, utcnow
from bot.logs import log

# What Rasa is sent for a message with no words: a photo alone starts a report (or feeds the
# one being written); a shared location alone gives the place (the report form reads the
# coordinates from metadata.location whatever the intent).
PHOTO_ONLY = "/report_problem"
LOCATION_ONLY = "/inform_place"


@dataclass(frozen=True)
class Inbound:
    """A citizen's message as every channel hands it to the gateway."""

    sender_id: str
    channel: str
    text: str
    metadata: dict[str, Any]


class AssistantUnavailableError(RuntimeError):
    """The message was stored but the assistant could not answer it now."""

    def __init__(self, message_id: int) -> None:
        super().__init__(f"message {message_id} stored, assistant unavailable")
        self.message_id = message_id


# The two writes of every message are plain statements on a connection, not ORM objects in a
# session: for the replies that took 0.26 ms instead of 0.61 ms on this machine
# (docs/benchmarks.md), and every citizen's message pays it.


def record_inbound(session_factory: sessionmaker[Session], inbound: Inbound) -> int:
    """Store and commit the message before anything else happens to it."""
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
                created_at=utcnow(),
            )
            .returning(Message.id)
        ).scalar_one()
    return message_id


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
        if replies:
            connection.execute(
                insert(Message),
                [
                    {
                        "sender_id": inbound.sender_id,
                        "channel": inbound.channel,
                        "direction": Direction.OUTBOUND,
                        "status": MessageStatus.SENT,
                        "text": reply.get("text"),
                        "payload": {
                            k: v for k, v in reply.items() if k not in {"text", "recipient_id"}
                        }
                        or None,
                        "created_at": processed_at,
                        "processed_at": processed_at,
                    }
                    for reply in replies
                ],
            )


def merge_custom(replies: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Rasa sends a response's ``custom`` part as a separate message; put it back.

    A response such as the report form's "where is it?" carries text, buttons and
    ``custom: {request_location: true}``; channels render them as one message.
    """
    merged: list[dict[str, Any]] = []
    for reply in replies:
        only_custom = reply.get("custom") is not None and not any(
            reply.get(k) for k in ("text", "buttons", "image", "attachment")
        )
        if only_custom and merged and merged[-1].get("custom") is None:
            merged[-1] = {**merged[-1], "custom": reply["custom"]}
        else:
            merged.append(reply)
    return merged


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

    Raises AssistantUnavailableError when Rasa fails: the message stays stored as failed.

    With ``defer`` the replies are stored after the citizen has them (an HTTP channel's
    background task), which takes the second write off every message's latency. The citizen's
    own message is always stored before Rasa sees it; the replies are also in Rasa's tracker,
    and the replies' time is taken when Rasa answered, so the history keeps its order.
    """
    # Database work runs in a worker thread so the event loop keeps serving other citizens.
    message_id = await anyio.to_thread.run_sync(record_inbound, session_factory, inbound)
    metadata = {**inbound.metadata, "channel": inbound.channel, "message_id": message_id}
    try:
        replies = merge_custom(
            await rasa.send(
                sender_id=inbound.sender_id,
                text=inbound.text,
                metadata=metadata,
                message_id=str(message_id),
            )
        )
    except RasaUnavailableError as exc:
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
    return replies
