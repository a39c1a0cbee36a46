"""Staff passwords (argon2id), account changes that end sessions, and the access token format.

An access token (JWT, HS256) only names a login session (``sub`` and ``jti``); what the
bearer may do — role, agency, whether the account is still active — is read from the
database on every request (bot/staff/sessions.py).
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from datetime import datetime

import jwt
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import select
from sqlalchemy.orm import Session

from bot.db import utcnow
from bot.staff import throttle
from bot.staff.models import LoginOutcome, Role, StaffUser, ThrottleScope

ISSUER = "hue-s"
AUDIENCE = "hue-s-staff"
MIN_PASSWORD_CHARS = 12
_hasher = PasswordHasher()  # argon2id with the library's current recommended parameters


class AuthError(ValueError):
    """Login or token refused; ``message`` is Vietnamese and says nothing about which part."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


def hash_password(password: str) -> str:
    if len(password) < MIN_PASSWORD_CHARS:
        raise AuthError("weak_password", f"Mật khẩu cần ít nhất {MIN_PASSWORD_CHARS} ký tự.")
    return _hasher.hash(password)


def normalise_username(username: str) -> str:
    return username.strip().lower()


def _check_role(role: Role, agency_code: str | None) -> None:
    if (role is Role.AGENCY_STAFF) != bool(agency_code):
        raise AuthError(
            "agency_required", "Tài khoản cán bộ đơn vị phải gắn với đúng một đơn vị xử lý."
        )


def create_staff(
    session: Session,
    *,
    username: str,
    display_name: str,
    password: str,
    role: Role,
    agency_code: str | None = None,
) -> StaffUser:
    username = normalise_username(username)
    if not re.fullmatch(r"[a-z0-9._-]{3,80}", username):
        raise AuthError("invalid_username", "Tên đăng nhập chỉ gồm chữ không dấu, số, . _ -")
    _check_role(role, agency_code)
    user = StaffUser(
        username=username,
        display_name=display_name.strip(),
        password_hash=hash_password(password),
        role=role,
        agency_code=agency_code,
        active=True,
        token_version=0,
    )
    session.add(user)
    session.commit()
    return user


def staff_by_username(session: Session, username: str) -> StaffUser | None:
    return session.scalars(
        select(StaffUser).where(StaffUser.username == normalise_username(username))
    ).first()


_REFUSED = AuthError("invalid_credentials", "Tên đăng nhập hoặc mật khẩu không đúng.")


def check_password(
    session: Session, username: str, password: str
) -> tuple[StaffUser | None, LoginOutcome]:
    """The account and the outcome; the same time is spent whether the account exists or not.

    Does not commit; on success the hash is upgraded if the parameters changed.
    """
    user = staff_by_username(session, username)
    if user is None or not user.active:
        # Spend the same time as a real check, so timing does not reveal which usernames exist.
        _hasher.hash(password or "-")
        return user, LoginOutcome.UNKNOWN_USER if user is None else LoginOutcome.DISABLED
    try:
        _hasher.verify(user.password_hash, password)
    except (VerificationError, InvalidHashError):
        return user, LoginOutcome.WRONG_PASSWORD
    if _hasher.check_needs_rehash(user.password_hash):
        user.password_hash = _hasher.hash(password)
    return user, LoginOutcome.SUCCESS


def authenticate(session: Session, username: str, password: str) -> StaffUser:
    """The account if the password is right (no lockout: sessions.log_in adds it)."""
    user, outcome = check_password(session, username, password)
    if user is None or outcome is not LoginOutcome.SUCCESS:
        raise _REFUSED
    user.last_login_at = utcnow()
    session.commit()
    return user


# Account changes. Each one raises the account's token version, so every session opened
# before it ends at the next request (ASVS 3.3.3 goes further than "offer to"): the holder of
# an old token must log in again and gets the account as it is now.


def _end_all_sessions(user: StaffUser) -> None:
    user.token_version += 1


def set_password(session: Session, user: StaffUser, password: str) -> None:
    """A new password (reset by an administrator): old sessions end, a lock is lifted."""
    user.password_hash = hash_password(password)
    _end_all_sessions(user)
    throttle.clear(session, ThrottleScope.ACCOUNT, user.username)
    session.commit()


def set_active(session: Session, user: StaffUser, active: bool) -> None:
    if user.active != active:
        user.active = active
        _end_all_sessions(user)
    session.commit()


def change_role(session: Session, user: StaffUser, role: Role, agency_code: str | None) -> None:
    _check_role(role, agency_code)
    if (user.role, user.agency_code) != (role, agency_code):
        user.role, user.agency_code = role, agency_code
        _end_all_sessions(user)
    session.commit()


def end_all_sessions(session: Session, user: StaffUser) -> None:
    """Log the account out everywhere."""
    _end_all_sessions(user)
    session.commit()


@dataclass(frozen=True)
class StaffIdentity:
    """Who is asking, as the database says now (never as a token claims)."""

    user_id: int
    role: Role
    agency_code: str | None

    @classmethod
    def of(cls, user: StaffUser) -> StaffIdentity:
        return cls(user_id=user.id, role=user.role, agency_code=user.agency_code)


@dataclass(frozen=True)
class TokenClaims:
    user_id: int
    token_id: str  # the session's jti


def issue_token(
    *, user_id: int, token_id: str, secret: str, expires_at: datetime, now: datetime
) -> str:
    claims = {
        "sub": str(user_id),
        "jti": token_id,
        "iss": ISSUER,
        "aud": AUDIENCE,
        "iat": int(now.timestamp()),
        "exp": int(expires_at.timestamp()),
    }
    return jwt.encode(claims, secret, algorithm="HS256")


INVALID_TOKEN_MESSAGE = "Phiên đăng nhập không hợp lệ, vui lòng đăng nhập lại."  # noqa: S105


def read_token(token: str, secret: str, now: datetime | None = None) -> TokenClaims:
    """The session a token names, if it is ours, unaltered and not expired.

    Expiry is compared as integers here (not by the JWT library), so an absurd ``exp`` such
    as 10**20 is simply a number, never an overflow.
    """
    try:
        claims = jwt.decode(
            token,
            secret,
            algorithms=["HS256"],
            audience=AUDIENCE,
            issuer=ISSUER,
            # exp is checked below; iat is only informative (another process's clock).
            options={
                "require": ["exp", "iat", "sub", "jti"],
                "verify_exp": False,
                "verify_iat": False,
            },
        )
        exp, sub, jti = claims["exp"], claims["sub"], claims["jti"]
        if not isinstance(exp, int | float) or not math.isfinite(exp):
            raise ValueError("malformed expiry")
        if not isinstance(jti, str) or not 0 < len(jti) < 100:
            raise ValueError("malformed token id")
        if not isinstance(sub, str) or not (sub.isascii() and sub.isdigit()) or len(sub) > 18:
            raise ValueError("malformed subject")
    except (jwt.InvalidTokenError, KeyError, ValueError) as exc:
        raise AuthError("invalid_token", INVALID_TOKEN_MESSAGE) from exc
    if exp <= (now or utcnow()).timestamp():
        raise AuthError("token_expired", "Phiên đăng nhập đã hết hạn, vui lòng đăng nhập lại.")
    return TokenClaims(user_id=int(sub), token_id=jti)
