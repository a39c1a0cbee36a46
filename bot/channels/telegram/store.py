"""Database side of the Telegram channel: claiming updates once, button payload tokens.

Plain synchronous functions on a session factory; the handlers call them in a worker thread.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from datetime import timedelta

from sqlalchemy import Insert, delete, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from bot.channels.telegram.models import TelegramButtonPayload, TelegramUpdate
from bot.db import utcnow

# Telegram re-sends an unacknowledged webhook update for at most a day, and picks update ids
# at random again after a week without updates: rows older than this are of no use.
KEEP_UPDATES = timedelta(days=7)
PRUNE_EVERY = 500  # update ids; prune when update_id % PRUNE_EVERY == 0

TOKEN_HEX_DIGITS = 16


def claim_update(factory: sessionmaker[Session], update_id: int) -> bool:
    """Record ``update_id``; False if it was recorded before (by this or another process).

    Relies on the primary key alone, so it holds across processes and machines.
    """
    with factory() as session:
        session.add(TelegramUpdate(update_id=update_id, received_at=utcnow()))
        try:
            session.commit()
        except IntegrityError:
            session.rollback()
            return False
        if update_id % PRUNE_EVERY == 0:
            prune_updates(session)
    return True


def prune_updates(session: Session, keep: timedelta = KEEP_UPDATES) -> int:
    """Forget updates received more than ``keep`` ago; returns how many, and commits."""
    result = session.execute(
        delete(TelegramUpdate).where(TelegramUpdate.received_at < utcnow() - keep)
    )
    session.commit()
    return int(getattr(result, "rowcount", 0) or 0)


def payload_token(payload: str) -> str:
    """The short, stable token of a button payload (16 hex digits of its SHA-256)."""
    return hashlib.sha256(payload.encode()).hexdigest()[:TOKEN_HEX_DIGITS]


def save_payloads(factory: sessionmaker[Session], payloads: Iterable[str]) -> dict[str, str]:
    """Store each payload under its token (an upsert: existing rows are kept).

    Returns payload → token.
    """
    tokens = {payload: payload_token(payload) for payload in dict.fromkeys(payloads)}
    if not tokens:
        return tokens
    rows = [{"token": token, "payload": payload} for payload, token in tokens.items()]
    with factory() as session:
        dialect = session.get_bind().dialect.name
        statement: Insert
        if dialect == "postgresql":
            statement = postgresql.insert(TelegramButtonPayload).on_conflict_do_nothing(
                index_elements=["token"]
            )
        elif dialect == "sqlite":
            statement = sqlite.insert(TelegramButtonPayload).on_conflict_do_nothing(
                index_elements=["token"]
            )
        else:  # pragma: no cover - the service runs on SQLite or PostgreSQL only
            raise RuntimeError(f"unsupported database: {dialect}")
        now = utcnow()
        session.execute(statement, [{**row, "created_at": now} for row in rows])
        session.commit()
    return tokens


def payload_for(factory: sessionmaker[Session], token: str) -> str | None:
    """The payload stored under ``token``, or None."""
    with factory() as session:
        return session.scalar(
            select(TelegramButtonPayload.payload).where(TelegramButtonPayload.token == token)
        )
