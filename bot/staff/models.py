"""Staff accounts: agency staff (one agency), operations operators, administrators; their login
sessions, the failed-login counters that lock them, and the log of every login attempt."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import Boolean, ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from bot.db import Base, UTCDateTime, str_enum, utcnow


class Role(StrEnum):
    AGENCY_STAFF = "agency_staff"  # sees and handles its own agency's reports only
    OPERATOR = "operator"  # operations centre: sees all, reassigns, sees who reported
    ADMIN = "admin"  # manages accounts and the assistant


class StaffUser(Base):
    __tablename__ = "staff_users"

    id: Mapped[int] = mapped_column(primary_key=True)
    username: Mapped[str] = mapped_column(String(80), unique=True)
    display_name: Mapped[str] = mapped_column(Text)
    password_hash: Mapped[str] = mapped_column(Text)
    role: Mapped[Role] = mapped_column(str_enum(Role))
    agency_code: Mapped[str | None] = mapped_column(String(60))
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    last_login_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    # Raised by every change that must end all of the account's sessions (password reset,
    # disabled, role or agency changed, "log out everywhere"): a session opened at an older
    # version is refused.
    token_version: Mapped[int] = mapped_column(Integer, default=0, server_default="0")


class StaffSession(Base):
    """One login. Its access tokens name it by ``jti``; only the jti's SHA-256 is stored.

    A session lives while its latest token does (``expires_at``, moved on by a refresh) and
    never past ``ends_at``; logout or a newer account version ends it at once.
    """

    __tablename__ = "staff_sessions"

    id: Mapped[int] = mapped_column(primary_key=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    user_id: Mapped[int] = mapped_column(
        ForeignKey("staff_users.id", ondelete="CASCADE"), index=True
    )
    token_version: Mapped[int] = mapped_column(Integer)
    client_address: Mapped[str | None] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime(), index=True)
    ends_at: Mapped[datetime] = mapped_column(UTCDateTime())
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime())


class ThrottleScope(StrEnum):
    ACCOUNT = "account"  # the username as typed, normalised (known or not: same treatment)
    ADDRESS = "address"  # the client's address (IPv6: its /64)


class LoginThrottle(Base):
    """Failed logins counted for one username or one address, and the lock they led to."""

    __tablename__ = "staff_login_throttles"
    __table_args__ = (UniqueConstraint("scope", "subject"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    scope: Mapped[ThrottleScope] = mapped_column(str_enum(ThrottleScope))
    subject: Mapped[str] = mapped_column(String(80))
    failures: Mapped[int] = mapped_column(Integer, default=0)  # in the current window
    window_started_at: Mapped[datetime] = mapped_column(UTCDateTime())
    lockouts: Mapped[int] = mapped_column(Integer, default=0)  # each lock doubles the next
    locked_until: Mapped[datetime | None] = mapped_column(UTCDateTime())
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class LoginOutcome(StrEnum):
    SUCCESS = "success"
    WRONG_PASSWORD = "wrong_password"  # noqa: S105 (an outcome, not a password)
    UNKNOWN_USER = "unknown_user"
    DISABLED = "disabled"
    LOCKED_ACCOUNT = "locked_account"
    LOCKED_ADDRESS = "locked_address"


class LoginAttempt(Base):
    """Every login attempt (never the password); the reason is for the logs, not the client."""

    __tablename__ = "staff_login_attempts"

    id: Mapped[int] = mapped_column(primary_key=True)
    username: Mapped[str] = mapped_column(String(80))  # as typed, truncated
    user_id: Mapped[int | None] = mapped_column(
        ForeignKey("staff_users.id", ondelete="SET NULL"), index=True
    )
    client_address: Mapped[str] = mapped_column(String(64))
    success: Mapped[bool] = mapped_column(Boolean)
    reason: Mapped[LoginOutcome] = mapped_column(str_enum(LoginOutcome))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, index=True)
