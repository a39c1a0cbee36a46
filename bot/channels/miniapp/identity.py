"""Who opened the mini-app: a host app's launch token, or a Telegram Mini App's initData.

Launch tokens are JWTs a host app signs for one citizen, just before it opens the page:

- ``iss``: the host's slug (``hue-s host add``), which selects the key that checks it: an
  HS256 shared secret or an RS256 public key, as that host is configured. The token's own
  ``alg`` must be exactly that algorithm (no "none", no HS256 signed with a public key).
- ``aud``: LAUNCH_TOKEN_AUDIENCE; ``sub``: the citizen's id at the host; ``jti``: unique.
- ``iat`` and ``exp``: at most LAUNCH_TOKEN_MAX_AGE_SECONDS old, not yet expired; 30 s of
  clock skew are allowed. Times (and ``nbf``, when present) are JSON numbers between 1970
  and 9999; anything else is refused as invalid.
- Each token is accepted once: a replayed ``jti`` is refused.

Telegram's initData is checked with the bot token (HMAC, as Telegram documents it, through
aiogram) and its ``auth_date`` must be at most TELEGRAM_INIT_DATA_MAX_AGE_SECONDS old. The
citizen then has the same identity as in the Telegram chat (``telegram:<user id>``).

Every refusal is an ApiError (401) whose code says what was wrong and whose message tells the
citizen, in Vietnamese, to open the assistant again from their app.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import jwt
from aiogram.utils.web_app import safe_parse_webapp_init_data
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from bot.apiclients.models import host_by_slug
from bot.channels.miniapp.models import UsedLaunchToken
from bot.channels.telegram.handlers import CHANNEL as TELEGRAM
from bot.channels.telegram.handlers import sender_id as telegram_sender
from bot.db import utcnow
from bot.errors import ApiError
from bot.settings import Settings
from vitext import invalid_character

CLOCK_SKEW = timedelta(seconds=30)
CITIZEN_ID = re.compile(r"[A-Za-z0-9_.@-]{1,128}")
ALGORITHMS = ("HS256", "RS256")
REOPEN = "Bạn mở lại trợ lý từ ứng dụng nhé."
MAX_TIMESTAMP = 253402300799  # 9999-12-31T23:59:59Z, the last second a datetime holds


@dataclass(frozen=True)
class Citizen:
    """The identity a mini-app session speaks for."""

    sender_id: str
    channel: str  # the host's slug, "telegram" or "web"
    name: str | None = None


def _refuse(code: str, message: str) -> ApiError:
    return ApiError(401, code, f"{message} {REOPEN}")


def _invalid() -> ApiError:
    return _refuse("launch_token_invalid", "Mã mở trợ lý không hợp lệ.")


def _claim_time(claims: dict[str, Any], name: str) -> datetime:
    """A NumericDate claim (RFC 7519: a JSON number of seconds) as a time, or a 401.

    PyJWT checks only that ``int(value)`` works: a numeric string, a boolean or a time past
    year 9999 would otherwise pass it and fail here.
    """
    value = claims.get(name)
    if (
        isinstance(value, bool)
        or not isinstance(value, int | float)
        or not 0 <= value <= MAX_TIMESTAMP  # also false for NaN
    ):
        raise _refuse("launch_token_invalid_time", "Thời điểm ghi trong mã mở trợ lý không hợp lệ.")
    return datetime.fromtimestamp(value, UTC)


def _display_name(value: object) -> str | None:
    """The name to greet the citizen by; one that could not be sent back (a lone surrogate,
    a control character) is dropped rather than failing the session."""
    if not isinstance(value, str) or invalid_character(value, free_form=False) is not None:
        return None
    return value[:80]


def host_sender(slug: str, citizen_id: str) -> str:
    return f"host:{slug}:{citizen_id}"


def verify_launch_token(
    session: Session, settings: Settings, token: str, *, now: datetime | None = None
) -> Citizen:
    """The citizen a host's launch token speaks for; the token is spent (used once)."""
    now = now or utcnow()
    try:
        header = jwt.get_unverified_header(token)
        unverified = jwt.decode(token, options={"verify_signature": False})
    except jwt.PyJWTError as exc:
        raise _invalid() from exc
    issuer = unverified.get("iss")
    host = host_by_slug(session, issuer) if isinstance(issuer, str) else None
    if host is None or host.launch_key is None or host.launch_algorithm not in ALGORITHMS:
        raise _invalid()
    if header.get("alg") != host.launch_algorithm:
        raise _invalid()
    try:
        claims: dict[str, Any] = jwt.decode(
            token,
            key=host.launch_key,
            algorithms=[host.launch_algorithm],
            audience=settings.launch_token_audience,
            issuer=host.slug,
            leeway=CLOCK_SKEW,
            options={"require": ["exp", "iat", "iss", "aud", "sub", "jti"]},
        )
    except jwt.ExpiredSignatureError as exc:
        raise _refuse("launch_token_expired", "Mã mở trợ lý đã hết hạn.") from exc
    except jwt.InvalidAudienceError as exc:
        raise _refuse(
            "launch_token_wrong_audience", "Mã mở trợ lý không dành cho trợ lý này."
        ) from exc
    except jwt.PyJWTError as exc:
        raise _invalid() from exc
    issued, expires = _claim_time(claims, "iat"), _claim_time(claims, "exp")
    if "nbf" in claims:
        _claim_time(claims, "nbf")
    max_age = timedelta(seconds=settings.launch_token_max_age_seconds)
    if now - issued > max_age + CLOCK_SKEW or expires - issued > max_age:
        raise _refuse("launch_token_expired", "Mã mở trợ lý đã quá cũ.")
    subject, token_id = claims["sub"], claims["jti"]
    if not (isinstance(subject, str) and CITIZEN_ID.fullmatch(subject)):
        raise _invalid()
    if not (isinstance(token_id, str) and 1 <= len(token_id) <= 200):
        raise _invalid()
    session.add(UsedLaunchToken(token_id=f"{host.id}:{token_id}", used_at=now, expires_at=expires))
    try:
        session.commit()
    except IntegrityError as exc:
        session.rollback()
        raise _refuse("launch_token_replayed", "Mã mở trợ lý này đã được dùng.") from exc
    assert host.slug is not None  # host_by_slug found it by slug
    return Citizen(
        sender_id=host_sender(host.slug, subject),
        channel=host.slug,
        name=_display_name(claims.get("name")),
    )


def verify_telegram_init_data(
    settings: Settings, init_data: str, *, now: datetime | None = None
) -> Citizen:
    """The Telegram user who opened the page as a Mini App of the citizens' bot."""
    if settings.telegram_bot_token is None:
        raise _refuse("telegram_not_configured", "Trợ lý chưa được kết nối với Telegram.")
    try:
        data = safe_parse_webapp_init_data(
            settings.telegram_bot_token.get_secret_value(), init_data
        )
    except (ValueError, TypeError) as exc:
        raise _refuse("telegram_init_data_invalid", "Dữ liệu Telegram không hợp lệ.") from exc
    age = (now or utcnow()) - data.auth_date.astimezone(UTC)
    if age > timedelta(seconds=settings.telegram_init_data_max_age_seconds) or age < -CLOCK_SKEW:
        raise _refuse("telegram_init_data_expired", "Dữ liệu Telegram đã hết hạn.")
    if data.user is None:
        raise _refuse("telegram_init_data_invalid", "Dữ liệu Telegram không có người dùng.")
    return Citizen(
        sender_id=telegram_sender(data.user.id),
        channel=TELEGRAM,
        name=_display_name(data.user.first_name),
    )
