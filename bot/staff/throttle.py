"""Failed staff logins, counted per username and per client address, and the attempts log.

The counters live in the database, so every service process sees the same ones and a
restart forgets nothing. A username is counted whether or not an account has it: a lock then
tells an attacker nothing about which usernames exist. A username is locked after a few
failures in a row (a success starts it over); an address after many failures within an hour,
whatever the usernames (credential stuffing), and a success from it does not start it over.
Each lock lasts twice as long as the one before, up to a day; ``clear`` lifts one.
"""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass
from datetime import datetime, timedelta

import structlog
from sqlalchemy import and_, delete, or_, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session
from sqlalchemy.sql.dml import Insert

from bot.staff.models import LoginAttempt, LoginOutcome, LoginThrottle, ThrottleScope

ACCOUNT_WINDOW = timedelta(hours=24)  # a username's failures older than this are forgotten
ADDRESS_WINDOW = timedelta(hours=1)  # an address's failures are counted per hour
MAX_LOCKOUT = timedelta(hours=24)
LOCKOUTS_FORGOTTEN = timedelta(hours=24)  # a day after a lock ends, the next one is short again
SUBJECT_CHARS = 80


@dataclass(frozen=True)
class ThrottlePolicy:
    account_failures: int = 5
    address_failures: int = 20
    lockout: timedelta = timedelta(minutes=15)

    def limit(self, scope: ThrottleScope) -> int:
        return self.account_failures if scope is ThrottleScope.ACCOUNT else self.address_failures

    def lock_length(self, lockouts: int) -> timedelta:
        """The ``lockouts``-th lock (1, 2, …): the first lock, doubled each time, capped."""
        return min(self.lockout * (1 << min(max(lockouts - 1, 0), 16)), MAX_LOCKOUT)


def address_subject(address: str) -> str:
    """What an address is counted as: IPv4 as it is, IPv6 by its /64 (one subscriber's)."""
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return address[:SUBJECT_CHARS]
    if isinstance(ip, ipaddress.IPv6Address):
        if ip.ipv4_mapped is not None:
            return str(ip.ipv4_mapped)
        return str(ipaddress.ip_network(f"{ip}/64", strict=False))
    return str(ip)


def subjects(username: str, address: str) -> list[tuple[ThrottleScope, str]]:
    """The counters one attempt touches: its normalised username and its address."""
    return [
        (ThrottleScope.ACCOUNT, username.strip().lower()[:SUBJECT_CHARS]),
        (ThrottleScope.ADDRESS, address_subject(address)),
    ]


def locked(
    session: Session, keys: list[tuple[ThrottleScope, str]], now: datetime
) -> tuple[ThrottleScope, timedelta] | None:
    """The longest lock still running on any of ``keys`` (which, and how long it has left)."""
    rows = session.scalars(
        select(LoginThrottle).where(
            or_(*(and_(LoginThrottle.scope == s, LoginThrottle.subject == k) for s, k in keys)),
            LoginThrottle.locked_until > now,
        )
    ).all()
    if not rows:
        return None
    row = max(rows, key=lambda r: r.locked_until or now)
    return row.scope, (row.locked_until or now) - now


def _insert_missing(session: Session, scope: ThrottleScope, subject: str, now: datetime) -> None:
    dialect = session.get_bind().dialect.name
    statement: Insert
    if dialect == "postgresql":
        statement = postgresql.insert(LoginThrottle).on_conflict_do_nothing(
            index_elements=["scope", "subject"]
        )
    elif dialect == "sqlite":
        statement = sqlite.insert(LoginThrottle).on_conflict_do_nothing(
            index_elements=["scope", "subject"]
        )
    else:  # pragma: no cover - the service runs on SQLite or PostgreSQL only
        raise RuntimeError(f"unsupported database: {dialect}")
    session.execute(
        statement,
        {"scope": scope, "subject": subject, "failures": 0, "lockouts": 0,
         "window_started_at": now, "updated_at": now},
    )  # fmt: skip


def record_failure(
    session: Session, scope: ThrottleScope, subject: str, policy: ThrottlePolicy, now: datetime
) -> bool:
    """Count one failure; True when it starts a lock. The caller commits.

    The row is created if missing and then locked (PostgreSQL: FOR UPDATE; SQLite: the
    insert already holds the write lock), so concurrent processes never lose a count.
    """
    _insert_missing(session, scope, subject, now)
    row = session.scalars(
        select(LoginThrottle)
        .where(LoginThrottle.scope == scope, LoginThrottle.subject == subject)
        .with_for_update()
    ).one()
    window = ACCOUNT_WINDOW if scope is ThrottleScope.ACCOUNT else ADDRESS_WINDOW
    if now - row.window_started_at > window:
        row.failures, row.window_started_at = 0, now
    if row.locked_until is not None and now - row.locked_until > LOCKOUTS_FORGOTTEN:
        row.lockouts, row.locked_until = 0, None
    row.failures += 1
    row.updated_at = now
    if row.failures < policy.limit(scope):
        return False
    row.lockouts += 1
    row.locked_until = now + policy.lock_length(row.lockouts)
    row.failures, row.window_started_at = 0, now
    structlog.get_logger("bot.staff").warning(
        "staff_login_locked",
        scope=scope.value,
        subject=subject,
        lockouts=row.lockouts,
        until=row.locked_until.isoformat(),
    )
    return True


def clear(session: Session, scope: ThrottleScope, subject: str) -> int:
    """Forget a username's or an address's failures and lift its lock (the caller commits)."""
    if scope is ThrottleScope.ADDRESS:
        subject = address_subject(subject)
    result = session.execute(
        delete(LoginThrottle).where(LoginThrottle.scope == scope, LoginThrottle.subject == subject)
    )
    return int(getattr(result, "rowcount", 0) or 0)


def record_attempt(
    session: Session,
    *,
    username: str,
    user_id: int | None,
    address: str,
    outcome: LoginOutcome,
    now: datetime,
) -> None:
    """One row in staff_login_attempts and one log line (never the password; the caller commits)."""
    typed = username[:SUBJECT_CHARS]
    success = outcome is LoginOutcome.SUCCESS
    session.add(
        LoginAttempt(
            username=typed,
            user_id=user_id,
            client_address=address[:64],
            success=success,
            reason=outcome,
            created_at=now,
        )
    )
    logger = structlog.get_logger("bot.staff")
    (logger.info if success else logger.warning)(
        "staff_login",
        username=typed,
        user_id=user_id,
        client=address[:64],
        success=success,
        reason=outcome.value,
    )


def prune(session: Session, *, attempts_before: datetime, now: datetime) -> dict[str, int]:
    """Forget login attempts older than ``attempts_before`` and counters that no longer matter."""
    attempts = session.execute(
        delete(LoginAttempt).where(LoginAttempt.created_at < attempts_before)
    )
    stale = now - max(ACCOUNT_WINDOW, LOCKOUTS_FORGOTTEN)
    throttles = session.execute(
        delete(LoginThrottle).where(
            LoginThrottle.updated_at < stale,
            or_(LoginThrottle.locked_until.is_(None), LoginThrottle.locked_until < stale),
        )
    )
    return {
        "attempts": int(getattr(attempts, "rowcount", 0) or 0),
        "counters": int(getattr(throttles, "rowcount", 0) or 0),
    }
