"""Mini-app sessions: an opaque token for the page, a stored hash, an expiry."""

from __future__ import annotations

import hashlib
import secrets
from datetime import datetime, timedelta

from sqlalchemy import delete
from sqlalchemy.orm import Session

from bot.channels.miniapp.identity import Citizen
from bot.channels.miniapp.models import MiniAppSession, UsedLaunchToken
from bot.db import utcnow
from bot.errors import ApiError

TOKEN_PREFIX = "ms_"  # noqa: S105 (a prefix, not a secret)


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def open_session(
    session: Session, citizen: Citizen, *, hours: float, now: datetime | None = None
) -> tuple[str, MiniAppSession]:
    """A new session for this citizen; the token is returned once (only its hash is kept)."""
    now = now or utcnow()
    token = TOKEN_PREFIX + secrets.token_urlsafe(32)
    row = MiniAppSession(
        token_hash=_digest(token),
        sender_id=citizen.sender_id,
        channel=citizen.channel,
        created_at=now,
        expires_at=now + timedelta(hours=hours),
    )
    session.add(row)
    session.commit()
    return token, row


def session_for_token(
    session: Session, token: str | None, *, now: datetime | None = None
) -> MiniAppSession:
    """The live session behind a token, or a 401 telling the citizen to open the app again."""
    if not token or not token.startswith(TOKEN_PREFIX):
        raise ApiError(
            401, "session_required", "Bạn cần mở trợ lý từ ứng dụng để bắt đầu trò chuyện."
        )
    row = session.get(MiniAppSession, _digest(token))
    if row is None or row.expires_at <= (now or utcnow()):
        raise ApiError(
            401,
            "session_expired",
            "Phiên trò chuyện đã hết hạn. Bạn mở lại trợ lý từ ứng dụng nhé.",
        )
    return row


def close_session(session: Session, token: str) -> None:
    session.execute(delete(MiniAppSession).where(MiniAppSession.token_hash == _digest(token)))
    session.commit()


def prune_expired(session: Session, now: datetime | None = None) -> int:
    """Forget expired sessions and launch-token ids that could no longer be replayed."""
    now = now or utcnow()
    removed = 0
    for table in (MiniAppSession, UsedLaunchToken):
        result = session.execute(delete(table).where(table.expires_at <= now))
        removed += result.rowcount  # type: ignore[attr-defined]
    session.commit()
    return removed
