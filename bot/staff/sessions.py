"""Staff login sessions: log in (with lockout), who a token speaks for, refresh, log out.

A login opens a session row; its access token (bot/staff/security.py) names the session by a
random ``jti``, of which only the SHA-256 is stored. Every request looks the session and its
account up, so logout, a disabled account or a reset password take effect at once, and the
role and agency are always the database's. A token lasts ``token_ttl`` (30 minutes by
default); a live one can be exchanged for the next (sliding renewal), never past the
session's ``session_max`` (12 hours): idle for a token's lifetime or working for 12 hours, the
staff member logs in again (ASVS 3.3.2, level 2).
"""

from __future__ import annotations

import hashlib
import math
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

import structlog
from sqlalchemy import delete, or_, select
from sqlalchemy.orm import Session

from bot.db import utcnow
from bot.settings import Settings
from bot.staff import throttle
from bot.staff.models import LoginOutcome, StaffSession, StaffUser, ThrottleScope
from bot.staff.security import (
    INVALID_TOKEN_MESSAGE,
    AuthError,
    StaffIdentity,
    check_password,
    end_all_sessions,
    issue_token,
    read_token,
    staff_by_username,
)

REFUSED_MESSAGE = "Tên đăng nhập hoặc mật khẩu không đúng."
ENDED_MESSAGE = "Phiên đăng nhập không còn hiệu lực, vui lòng đăng nhập lại."


@dataclass(frozen=True)
class SessionPolicy:
    token_ttl: timedelta = timedelta(minutes=30)
    session_max: timedelta = timedelta(hours=12)


def policies(settings: Settings) -> tuple[throttle.ThrottlePolicy, SessionPolicy]:
    return (
        throttle.ThrottlePolicy(
            account_failures=settings.staff_login_max_failures,
            address_failures=settings.staff_address_max_failures,
            lockout=timedelta(minutes=settings.staff_lockout_minutes),
        ),
        SessionPolicy(
            token_ttl=timedelta(minutes=settings.staff_token_minutes),
            session_max=timedelta(hours=settings.staff_session_hours),
        ),
    )


class LoginRefused(AuthError):
    """Wrong username or password, or locked: the same sentence for a username that exists
    and one that does not; a lock adds how long to wait (``retry_after`` seconds)."""

    def __init__(self, retry_after: timedelta | None = None) -> None:
        self.retry_after: int | None = None
        message = REFUSED_MESSAGE
        if retry_after is not None:
            self.retry_after = max(1, math.ceil(retry_after.total_seconds()))
            minutes = math.ceil(self.retry_after / 60)
            message = f"{REFUSED_MESSAGE} Vui lòng thử lại sau {minutes} phút."
        super().__init__("invalid_credentials", message)


@dataclass(frozen=True)
class IssuedToken:
    token: str
    expires_at: datetime
    session_ends_at: datetime
    identity: StaffIdentity


def _token_hash(token_id: str) -> str:
    return hashlib.sha256(token_id.encode()).hexdigest()


def log_in(
    session: Session,
    *,
    username: str,
    password: str,
    address: str,
    secret: str,
    throttle_policy: throttle.ThrottlePolicy,
    session_policy: SessionPolicy,
    now: datetime | None = None,
) -> IssuedToken:
    """A new session if the password is right and neither the username nor the address is
    locked; every attempt is recorded. Raises ``LoginRefused``."""
    now = now or utcnow()
    keys = throttle.subjects(username, address)
    lock = throttle.locked(session, keys, now)
    if lock is not None:
        scope, remaining = lock
        known = staff_by_username(session, username)
        throttle.record_attempt(
            session, username=username, user_id=known.id if known else None, address=address,
            outcome=LoginOutcome.LOCKED_ACCOUNT if scope is ThrottleScope.ACCOUNT
            else LoginOutcome.LOCKED_ADDRESS, now=now,
        )  # fmt: skip
        session.commit()
        raise LoginRefused(remaining)
    user, outcome = check_password(session, username, password)
    user_id = user.id if user is not None else None
    if user is None or outcome is not LoginOutcome.SUCCESS:
        for scope, subject in keys:
            throttle.record_failure(session, scope, subject, throttle_policy, now)
        throttle.record_attempt(
            session, username=username, user_id=user_id, address=address, outcome=outcome, now=now
        )
        session.commit()
        raise LoginRefused()
    throttle.clear(session, *keys[0])
    user.last_login_at = now
    throttle.record_attempt(
        session, username=username, user_id=user.id, address=address, outcome=outcome, now=now
    )
    return _open_session(session, user, address, secret, session_policy, now)


def _open_session(
    session: Session,
    user: StaffUser,
    address: str,
    secret: str,
    policy: SessionPolicy,
    now: datetime,
) -> IssuedToken:
    token_id = secrets.token_urlsafe(32)  # 256 random bits
    ends_at = now + policy.session_max
    expires_at = min(now + policy.token_ttl, ends_at)
    session.add(
        StaffSession(
            token_hash=_token_hash(token_id), user_id=user.id, token_version=user.token_version,
            client_address=address[:64], created_at=now, expires_at=expires_at, ends_at=ends_at,
        )
    )  # fmt: skip
    session.commit()
    token = issue_token(
        user_id=user.id, token_id=token_id, secret=secret, expires_at=expires_at, now=now
    )
    return IssuedToken(token, expires_at, ends_at, StaffIdentity.of(user))


def _live_session(
    session: Session, token: str, secret: str, now: datetime
) -> tuple[StaffSession, StaffUser, str]:
    """The session a token names, its account and the token's jti, if all still hold."""
    claims = read_token(token, secret, now)
    row = session.execute(
        select(StaffSession, StaffUser)
        .join(StaffUser, StaffUser.id == StaffSession.user_id)
        .where(StaffSession.token_hash == _token_hash(claims.token_id))
    ).first()
    if row is None or row[0].user_id != claims.user_id:
        raise AuthError("invalid_token", INVALID_TOKEN_MESSAGE)
    staff_session, user = row
    if (
        staff_session.revoked_at is not None
        or staff_session.expires_at <= now
        or staff_session.ends_at <= now
        or not user.active
        or staff_session.token_version != user.token_version
    ):
        raise AuthError("session_ended", ENDED_MESSAGE)
    return staff_session, user, claims.token_id


def identify(
    session: Session, token: str, secret: str, now: datetime | None = None
) -> StaffIdentity:
    """Who a token speaks for, as the database says now; raises ``AuthError``."""
    _, user, _ = _live_session(session, token, secret, now or utcnow())
    return StaffIdentity.of(user)


def refresh(
    session: Session,
    token: str,
    secret: str,
    policy: SessionPolicy,
    now: datetime | None = None,
) -> IssuedToken:
    """The next token of a live session (sliding renewal), never past the session's end."""
    now = now or utcnow()
    staff_session, user, token_id = _live_session(session, token, secret, now)
    expires_at = min(now + policy.token_ttl, staff_session.ends_at)
    staff_session.expires_at = expires_at
    session.commit()
    token = issue_token(
        user_id=user.id, token_id=token_id, secret=secret, expires_at=expires_at, now=now
    )
    return IssuedToken(token, expires_at, staff_session.ends_at, StaffIdentity.of(user))


def log_out(
    session: Session, token: str, secret: str, *, everywhere: bool, now: datetime | None = None
) -> None:
    """End this session (or every session of the account) at once."""
    now = now or utcnow()
    staff_session, user, _ = _live_session(session, token, secret, now)
    staff_session.revoked_at = now
    if everywhere:
        end_all_sessions(session, user)
    session.commit()
    structlog.get_logger("bot.staff").info(
        "staff_logout", user_id=user.id, session_id=staff_session.id, everywhere=everywhere
    )


def prune(session: Session, now: datetime | None = None) -> int:
    """Forget sessions that ended more than a day ago (the caller commits)."""
    horizon = (now or utcnow()) - timedelta(days=1)
    result = session.execute(
        delete(StaffSession).where(
            or_(StaffSession.expires_at < horizon, StaffSession.revoked_at < horizon)
        )
    )
    return int(getattr(result, "rowcount", 0) or 0)
