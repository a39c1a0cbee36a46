"""POST /telegram/webhook: updates from Telegram in production (see runtime.register_webhook).

Telegram sends the secret given to setWebhook in X-Telegram-Bot-Api-Secret-Token; a request
without it, or with another, is refused before anything is read. Without a configured secret
(or bot) the route does not exist (404), so a development setup never accepts updates here.
"""

from __future__ import annotations

import hmac

from aiogram.types import Update
from fastapi import APIRouter, Request

from bot.channels.telegram.handlers import UpdateNotClaimedError
from bot.channels.telegram.runtime import WEBHOOK_PATH, TelegramBot
from bot.conversations.schemas import ErrorResponse
from bot.deps import SettingsDep
from bot.errors import ApiError

SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"  # noqa: S105 - a header name, not a secret

router = APIRouter(tags=["telegram"])


def _telegram(request: Request) -> TelegramBot | None:
    telegram: TelegramBot | None = getattr(request.app.state, "telegram", None)
    return telegram


@router.post(
    WEBHOOK_PATH,
    responses={status: {"model": ErrorResponse} for status in (401, 404, 422, 503)},
    summary="Updates from the Telegram Bot API (webhook mode)",
)
async def telegram_webhook(request: Request, settings: SettingsDep) -> dict[str, bool]:
    """Handle one update; answered once it is handled (Telegram waits for the answer)."""
    telegram = _telegram(request)
    secret = settings.telegram_webhook_secret
    if telegram is None or secret is None:
        raise ApiError(404, "not_found", "Không tìm thấy địa chỉ này.")
    given = request.headers.get(SECRET_HEADER)
    if given is None or not hmac.compare_digest(given.encode(), secret.get_secret_value().encode()):
        raise ApiError(401, "invalid_secret", "Thiếu mã bí mật hoặc mã bí mật không đúng.")
    try:
        update = Update.model_validate(await request.json(), context={"bot": telegram.bot})
    except ValueError as exc:  # not JSON, or not an update (pydantic's error is a ValueError)
        raise ApiError(
            422, "invalid_request", "Dữ liệu gửi lên không hợp lệ. Vui lòng kiểm tra và gửi lại."
        ) from exc
    try:
        await telegram.dispatcher.feed_webhook_update(telegram.bot, update)
    except UpdateNotClaimedError as exc:
        # Not recorded, not handled: an error makes Telegram deliver it again later.
        raise ApiError(
            503, "unavailable", "Hệ thống đang bận, vui lòng thử lại sau ít phút."
        ) from exc
    return {"ok": True}
