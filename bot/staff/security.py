"""Passwords (argon2id) and short-lived API tokens (JWT, HS256) for staff."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, timedelta

import jwt
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import select
from sqlalchemy.orm import Session

from bot.db import utcnow
from bot.staff.models import Role, StaffUser

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


def create_staff(
    session: Session,
    *,
    username: str,
    display_name: str,
    password: str,
    role: Role,
    agency_code: str | None = None,
) -> StaffUser:
    username = username.strip().lower()
    if not re.fullmatch(r"[a-z0-9._-]{3,80}", username):
        raise AuthError("invalid_username", "Tên đăng nhập chỉ gồm chữ không dấu, số, . _ -")
    if (role is Role.AGENCY_STAFF) != bool(agency_code):
        raise AuthError(
            "agency_required", "Tài khoản cán bộ đơn vị phải gắn với đúng một đơn vị xử lý."
        )
    user = StaffUser(
        username=username,
        display_name=display_name.strip(),
        password_hash=hash_password(password),
        role=role,
        agency_code=agency_code,
        active=True,
    )
    session.add(user)
    session.commit()
    return user


_REFUSED = AuthError("invalid_credentials", "Tên đăng nhập hoặc mật khẩu không đúng.")


def authenticate(session: Session, username: str, password: str) -> StaffUser:
    user = session.scalars(
        select(StaffUser).where(StaffUser.username == username.strip().lower())
    ).first()
    if user is None or not user.active:
        # Spend the same time as a real check, so timing does not reveal which usernames exist.
        _hasher.hash(password or "-")
        raise _REFUSED
    try:
        _hasher.verify(user.password_hash, password)
    except (VerificationError, InvalidHashError) as exc:
        raise _REFUSED from exc
    if _hasher.check_needs_rehash(user.password_hash):
        user.password_hash = _hasher.hash(password)
    user.last_login_at = utcnow()
    session.commit()
    return user


@dataclass(frozen=True)
class StaffIdentity:
    user_id: int
    role: Role
    agency_code: str | None


def issue_token(
    user: StaffUser, secret: str, ttl: timedelta = timedelta(hours=8), now: datetime | None = None
) -> str:
    now = now or utcnow()
    claims = {
        "sub": str(user.id),
        "role": user.role.value,
        "agency": user.agency_code,
        "iss": ISSUER,
        "aud": AUDIENCE,
        "iat": int(now.timestamp()),
        "exp": int((now + ttl).timestamp()),
    }
    return jwt.encode(claims, secret, algorithm="HS256")


def read_token(token: str, secret: str) -> StaffIdentity:
    try:
        claims = jwt.decode(
            token,
            secret,
            algorithms=["HS256"],
            audience=AUDIENCE,
            issuer=ISSUER,
            options={"require": ["exp", "iat", "sub", "aud", "iss"]},
        )
        return StaffIdentity(
            user_id=int(claims["sub"]), role=Role(claims["role"]), agency_code=claims.get("agency")
        )
    except jwt.ExpiredSignatureError as exc:
        raise AuthError(
            "token_expired", "Phiên đăng nhập đã hết hạn, vui lòng đăng nhập lại."
        ) from exc
    except (jwt.InvalidTokenError, KeyError, ValueError) as exc:
        raise AuthError(
            "invalid_token", "Phiên đăng nhập không hợp lệ, vui lòng đăng nhập lại."
        ) from exc
