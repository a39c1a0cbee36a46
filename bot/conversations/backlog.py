"""Messages waiting for an answer: sent again once, in order per citizen, or given up on aloud.

A message the assistant could not answer is stored as failed. It is sent again (a *replay*)
before the citizen's next message, or by the outbox worker's replay pass
(``bot.conversations.replay``) once Rasa and the action server are back:

- in order: a citizen's waiting messages go oldest first, one at a time; whoever sends one
  claims it (failed → replaying, a conditional UPDATE), so two processes never send the same
  message, and a live message waits until the earlier ones are settled;
- once: Rasa's gateway channel does not run a message again whose user event is already in
  the tracker (it returns the replies it gave), and a turn cut short by a failed custom action
  was rewound there; a report is filed once whatever happens (its submission key);
- or said: a message older than ``REPLAY_WINDOW``, or one that fails again while Rasa and
  the action server are up, is not answered any more and the citizen reads why
  (``not processed``), as is a copy the citizen sent again (that copy is answered instead).
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import partial
from typing import Any
from zoneinfo import ZoneInfo

import anyio
from sqlalchemy import ColumnElement, Connection, and_, insert, or_, select, update
from sqlalchemy.orm import Session, sessionmaker

from bot.conversations.models import Direction, Message, MessageStatus
from bot.conversations.rasa import RasaClient, RasaUnavailableError
from bot.db import engine_of, utcnow
from bot.logs import log
from bot.outbox.models import Channel, Delivery, OutboxMessage
from bot.reports.notify import citizen_target

REPLAY_WINDOW = timedelta(minutes=10)
"""A message older than this is not answered any more: the citizen is told to send it again.
Well inside Rasa's session expiry (60 min, domain.yml), so the conversation is still there."""
LIVE_DRAIN_SECONDS = 20.0
"""How long a live message spends on earlier ones (sending them, or waiting for another
process that sends one): past this it waits in the queue too, and the replay pass goes on."""
CLAIM_LEASE = timedelta(seconds=90)
"""A message still in flight after this lost its process: longer than a live message can
take (``LIVE_DRAIN_SECONDS`` + the Rasa timeout, 30 s by default) or one replay, with room
for a machine under load (at 60 s, a CI run beside two trainings saw the replay give up on a
message a live request then answered)."""
WAITING = (MessageStatus.FAILED, MessageStatus.REPLAYING)
LOCAL = ZoneInfo("Asia/Ho_Chi_Minh")


class BacklogBlockedError(RuntimeError):
    """An earlier message of this citizen cannot be answered now, so neither can later ones."""


@dataclass(frozen=True)
class Waiting:
    """A stored inbound message that has not been answered."""

    id: int
    sender_id: str
    channel: str
    text: str | None
    payload: dict[str, Any] | None
    status: MessageStatus
    created_at: datetime
    processed_at: datetime | None


WAITING_COLUMNS = (
    Message.id,
    Message.sender_id,
    Message.channel,
    Message.text,
    Message.payload,
    Message.status,
    Message.created_at,
    Message.processed_at,
)


def waiting_clause(sender_id: str, *, before: int | None = None) -> ColumnElement[bool]:
    """This citizen's messages waiting for a replay (recent enough to be answered)."""
    clause = and_(
        Message.sender_id == sender_id,
        Message.created_at >= utcnow() - REPLAY_WINDOW,
        Message.direction == Direction.INBOUND,
        Message.status.in_(WAITING),
    )
    return clause if before is None else and_(clause, Message.id < before)


def rasa_metadata(channel: str, message_id: int, metadata: dict[str, Any]) -> dict[str, Any]:
    """The metadata Rasa gets with a message (the same when it is sent again)."""
    return {**metadata, "channel": channel, "message_id": message_id}


# -- what the citizen reads ----------------------------------------------------------------


def _sent_at(message: Waiting) -> str:
    local = message.created_at.astimezone(LOCAL)
    if local.date() == utcnow().astimezone(LOCAL).date():
        return local.strftime("%H:%M")
    return local.strftime("%H:%M ngày %d/%m")


def _quoted(message: Waiting) -> str:
    """The citizen's words (not a button's payload), shortened."""
    text = message.text or ""
    if not text or text.startswith("/"):
        return ""
    return f" “{text if len(text) <= 60 else text[:59] + '…'}”"


def answer_header(message: Waiting) -> dict[str, Any]:
    return {
        "text": f"Trợ lý đã hoạt động trở lại. Trả lời tin nhắn bạn gửi lúc "
        f"{_sent_at(message)}{_quoted(message)}:"
    }


def not_processed_notice(message: Waiting) -> dict[str, Any]:
    return {
        "text": f"Tin nhắn bạn gửi lúc {_sent_at(message)}{_quoted(message)} chưa được trợ lý "
        "xử lý do hệ thống gặp sự cố. Nếu vẫn cần, bạn vui lòng gửi lại nhé."
    }


# -- the message log -------------------------------------------------------------------------


def store_replies(
    connection: Connection,
    *,
    sender_id: str,
    channel: str,
    replies: list[dict[str, Any]],
    at: datetime,
) -> None:
    """Insert the assistant's replies to a citizen into the message log."""
    if not replies:
        return
    connection.execute(
        insert(Message),
        [
            {
                "sender_id": sender_id,
                "channel": channel,
                "direction": Direction.OUTBOUND,
                "status": MessageStatus.SENT,
                "text": reply.get("text"),
                "payload": {k: v for k, v in reply.items() if k not in {"text", "recipient_id"}}
                or None,
                "created_at": at,
                "processed_at": at,
            }
            for reply in replies
        ],
    )


def _push(connection: Connection, message: Waiting, replies: list[dict[str, Any]]) -> None:
    """Queue the replies for a citizen who can be reached outside the chat (Telegram, host)."""
    target = citizen_target(message.sender_id)
    if target is None or not replies:
        return
    body: dict[str, Any] = {
        "event": "conversation.replies",
        "message_id": message.id,
        "text": "\n\n".join(r["text"] for r in replies if r.get("text")),
    }
    if target[0] is Channel.HOST:
        body["replies"] = [
            {k: r.get(k) for k in ("text", "buttons", "image", "custom")} for r in replies
        ]
    now = utcnow()
    connection.execute(
        insert(OutboxMessage).values(
            channel=target[0],
            target=target[1],
            body=body,
            status=Delivery.PENDING,
            attempts=0,
            next_attempt_at=now,
            created_at=now,
        )
    )


def settle(
    factory: sessionmaker[Session],
    message: Waiting,
    *,
    status: MessageStatus,
    replies: list[dict[str, Any]],
    error: str | None = None,
    push: bool = False,
    replies_at: datetime | None = None,
    claimed_at: datetime | None = None,
) -> bool:
    """Move ``message`` on from the state it was read in, with its replies; False if it had
    moved already (another process settled it)."""
    now = utcnow()
    values: dict[str, Any] = {"status": status, "processed_at": now}
    if error is not None:
        values["error"] = error[:2000]
    expected = Message.status == message.status
    if claimed_at is not None:  # still ours: nobody took it over after the lease
        expected = and_(
            Message.status == MessageStatus.REPLAYING, Message.processed_at == claimed_at
        )
    with engine_of(factory).begin() as connection:
        moved = connection.execute(
            update(Message).where(Message.id == message.id, expected).values(**values)
        ).rowcount
        if not moved:
            return False
        store_replies(
            connection,
            sender_id=message.sender_id,
            channel=message.channel,
            replies=replies,
            at=replies_at or now,
        )
        if push:
            _push(connection, message, replies)
    return True


def _oldest_waiting(
    factory: sessionmaker[Session], sender_id: str, before: int | None
) -> tuple[Waiting | None, int]:
    """The citizen's oldest waiting message and how many are waiting."""
    with factory() as session:
        rows = session.execute(
            select(*WAITING_COLUMNS)
            .where(waiting_clause(sender_id, before=before))
            .order_by(Message.id)
        ).all()
    return (Waiting(*rows[0]) if rows else None), len(rows)


def _claim(factory: sessionmaker[Session], message_id: int, at: datetime) -> bool:
    """Take a waiting message for sending (or one whose sender died)."""
    with engine_of(factory).begin() as connection:
        return bool(
            connection.execute(
                update(Message)
                .where(
                    Message.id == message_id,
                    or_(
                        Message.status == MessageStatus.FAILED,
                        and_(
                            Message.status == MessageStatus.REPLAYING,
                            Message.processed_at < at - CLAIM_LEASE,
                        ),
                    ),
                )
                .values(status=MessageStatus.REPLAYING, processed_at=at)
            ).rowcount
        )


# -- sending again -------------------------------------------------------------------------


async def drain(
    factory: sessionmaker[Session],
    rasa: RasaClient,
    sender_id: str,
    *,
    before: int | None = None,
    resent: tuple[str, dict[str, Any]] | None = None,
    push: bool = False,
    answer_at: datetime | None = None,
) -> list[dict[str, Any]]:
    """Send this citizen's waiting messages (older than ``before``) again, oldest first.

    Returns what the citizen is to read, in order: each answer after a line saying which
    message it answers, or a notice that a message was not processed. ``resent`` is the live
    message's (text, metadata): a last waiting message equal to it is dropped (the citizen
    sent it again). The answers are logged at ``answer_at`` (default: now). Raises
    BacklogBlockedError when one cannot be answered now (then the later ones wait too); with
    ``before`` (a live message) it waits for one that another process is sending, and gives
    up after ``LIVE_DRAIN_SECONDS``.
    """
    out: list[dict[str, Any]] = []
    give_up_at = time.monotonic() + (LIVE_DRAIN_SECONDS if before is not None else 0)
    while True:
        message, count = await anyio.to_thread.run_sync(_oldest_waiting, factory, sender_id, before)
        if message is None:
            return out
        if (
            resent is not None
            and count == 1
            and message.status is MessageStatus.FAILED
            and (message.text, message.payload or {}) == resent
        ):
            await anyio.to_thread.run_sync(
                partial(
                    settle,
                    factory,
                    message,
                    status=MessageStatus.NOT_PROCESSED,
                    replies=[],
                    error=f"sent again as message {before}",
                )
            )
            continue
        if before is not None and time.monotonic() >= give_up_at:
            raise BacklogBlockedError(f"message {message.id} and later ones: no time left")
        claimed_at = utcnow()
        if not await anyio.to_thread.run_sync(_claim, factory, message.id, claimed_at):
            if time.monotonic() >= give_up_at:
                raise BacklogBlockedError(f"message {message.id} is being sent by another process")
            await anyio.sleep(0.2)
            continue
        out += await _send_again(
            factory, rasa, message, claimed_at=claimed_at, push=push, answer_at=answer_at
        )


async def _send_again(
    factory: sessionmaker[Session],
    rasa: RasaClient,
    message: Waiting,
    *,
    claimed_at: datetime,
    push: bool,
    answer_at: datetime | None,
) -> list[dict[str, Any]]:
    settled = partial(
        settle, factory, message, claimed_at=claimed_at, push=push, replies_at=answer_at
    )
    try:
        result = await rasa.replay(
            sender_id=message.sender_id,
            text=message.text or "",
            metadata=rasa_metadata(message.channel, message.id, message.payload or {}),
            message_id=str(message.id),
            mode="once",
        )
    except RasaUnavailableError as exc:
        if exc.reached and await rasa.ready():
            # It failed again with everything up: it would fail for ever. Say so instead.
            log.warning("replay_given_up", message_id=message.id, error=str(exc))
            notice = [not_processed_notice(message)]
            await anyio.to_thread.run_sync(
                partial(settled, status=MessageStatus.NOT_PROCESSED, replies=notice, error=str(exc))
            )
            return notice
        await anyio.to_thread.run_sync(
            partial(settled, status=MessageStatus.FAILED, replies=[], error=str(exc))
        )
        raise BacklogBlockedError(f"message {message.id} cannot be answered yet: {exc}") from exc
    answer = [answer_header(message), *result.messages] if result.messages else []
    await anyio.to_thread.run_sync(partial(settled, status=MessageStatus.PROCESSED, replies=answer))
    log.info(
        "message_replayed",
        message_id=message.id,
        replies=len(result.messages),
        already_processed=result.already_processed,
    )
    return answer
