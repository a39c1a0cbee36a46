"""Building and running the bot: in the app (webhook), by long polling, registering a webhook.

Wiring (see docs/integration/telegram.md):
- bot/app.py lifespan: ``async with open_telegram(settings, factory, app.state.rasa) as
  app.state.telegram:`` around ``yield``, and ``app.include_router(telegram_router)``;
- bot/cli.py: ``hue-s telegram poll`` → run_polling(settings), ``hue-s telegram
  set-webhook`` → set_webhook(settings).
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager, suppress
from dataclasses import dataclass

from aiogram import Bot, Dispatcher
from aiogram.client.session.aiohttp import AiohttpSession
from aiogram.client.telegram import TelegramAPIServer
from aiogram.types import BotCommand, MenuButtonWebApp, WebAppInfo
from sqlalchemy.orm import Session, sessionmaker

from bot.channels.telegram.handlers import TelegramChannel
from bot.conversations.rasa import RasaClient, open_rasa
from bot.db import make_engine, make_sessionmaker
from bot.logs import configure_logging, log
from bot.settings import Settings

WEBHOOK_PATH = "/telegram/webhook"
# The update types the handlers use (a test checks them against the dispatcher's own list).
ALLOWED_UPDATES = ["message", "edited_message", "callback_query"]
POLLING_TIMEOUT = 30  # seconds a getUpdates request waits for news
CONCURRENT_UPDATES = 8  # updates handled at once when polling (one at a time per chat)
WEBHOOK_SECRET = re.compile(r"[A-Za-z0-9_-]{1,256}")
COMMANDS = [
    BotCommand(command="start", description="Bắt đầu trò chuyện với trợ lý"),
    BotCommand(command="help", description="Trợ lý giúp được gì"),
    BotCommand(command="status", description="Tra cứu tình trạng phản ánh"),
]
MINIAPP_PATH = "/app/"
MENU_BUTTON_TEXT = "Mở trợ lý"


class TelegramNotConfiguredError(RuntimeError):
    """A setting the asked-for mode needs is missing."""


@dataclass
class TelegramBot:
    """The bot (HTTP client of the Bot API), its dispatcher and the channel behind it."""

    bot: Bot
    dispatcher: Dispatcher
    channel: TelegramChannel

    async def close(self, drain_timeout: float = 30.0) -> None:
        """Let the updates being handled finish (at most ``drain_timeout``), then close."""
        await self.channel.gate.drain(drain_timeout)
        await self.bot.session.close()


def make_bot(settings: Settings) -> Bot:
    """A Bot talking to ``settings.telegram_api_base`` (Telegram, or a local server)."""
    if settings.telegram_bot_token is None:
        raise TelegramNotConfiguredError("TELEGRAM_BOT_TOKEN is not set")
    api = TelegramAPIServer.from_base(settings.telegram_api_base)
    return Bot(settings.telegram_bot_token.get_secret_value(), session=AiohttpSession(api=api))


def build_telegram(
    settings: Settings, session_factory: sessionmaker[Session], rasa: RasaClient
) -> TelegramBot | None:
    """The citizens' bot, or None when no TELEGRAM_BOT_TOKEN is set."""
    if settings.telegram_bot_token is None:
        return None
    channel = TelegramChannel(settings=settings, session_factory=session_factory, rasa=rasa)
    return TelegramBot(bot=make_bot(settings), dispatcher=channel.dispatcher(), channel=channel)


@asynccontextmanager
async def open_telegram(
    settings: Settings, session_factory: sessionmaker[Session], rasa: RasaClient
) -> AsyncIterator[TelegramBot | None]:
    """build_telegram for the app's lifespan: closed (after in-flight updates) on the way out."""
    telegram = build_telegram(settings, session_factory, rasa)
    try:
        yield telegram
    finally:
        if telegram is not None:
            await telegram.close(drain_timeout=settings.rasa_timeout_seconds + 5)


def webhook_url(settings: Settings) -> str:
    return settings.public_base_url.rstrip("/") + WEBHOOK_PATH


def miniapp_url(settings: Settings) -> str | None:
    """The mini-app's address for Telegram's menu button; Telegram opens only https pages."""
    if not settings.public_base_url.startswith("https://"):
        return None
    return settings.public_base_url.rstrip("/") + MINIAPP_PATH


async def register_menu(bot: Bot, settings: Settings) -> None:
    """The bot's commands, and a menu button opening the mini-app when it is served on https.

    Opened from the button, the mini-app signs the citizen in with Telegram's initData: the
    same conversation, reports and notices as in the chat (docs/integration/host-app.md).
    """
    await bot.set_my_commands(COMMANDS)
    url = miniapp_url(settings)
    if url is not None:
        await bot.set_chat_menu_button(
            menu_button=MenuButtonWebApp(text=MENU_BUTTON_TEXT, web_app=WebAppInfo(url=url))
        )


async def register_webhook(bot: Bot, settings: Settings) -> str:
    """Point Telegram at PUBLIC_BASE_URL/telegram/webhook with the secret; returns the URL."""
    if settings.telegram_webhook_secret is None:
        raise TelegramNotConfiguredError("TELEGRAM_WEBHOOK_SECRET is not set")
    secret = settings.telegram_webhook_secret.get_secret_value()
    if not WEBHOOK_SECRET.fullmatch(secret):
        raise TelegramNotConfiguredError(
            "TELEGRAM_WEBHOOK_SECRET must be 1-256 letters, digits, _ or -"
        )
    url = webhook_url(settings)
    await bot.set_webhook(url=url, secret_token=secret, allowed_updates=ALLOWED_UPDATES)
    await register_menu(bot, settings)
    return url


def set_webhook(settings: Settings) -> int:
    """CLI: register the webhook (production); prints the URL."""

    async def register() -> str:
        bot = make_bot(settings)
        try:
            return await register_webhook(bot, settings)
        finally:
            await bot.session.close()

    try:
        url = asyncio.run(register())
    except TelegramNotConfiguredError as exc:
        print(f"Telegram: {exc}")
        return 1
    print(f"Telegram webhook: {url}")
    return 0


async def polling(
    settings: Settings,
    *,
    stop: asyncio.Event | None = None,
    handle_signals: bool = True,
) -> None:
    """Long polling until SIGINT/SIGTERM (``handle_signals``) or ``stop`` is set.

    Removes a registered webhook first (Telegram serves getUpdates only without one).
    """
    engine = make_engine(settings.database_url)
    try:
        async with open_rasa(settings) as rasa:
            async with open_telegram(settings, make_sessionmaker(engine), rasa) as telegram:
                if telegram is None:
                    raise TelegramNotConfiguredError("TELEGRAM_BOT_TOKEN is not set")
                await _poll(telegram, settings, stop=stop, handle_signals=handle_signals)
    finally:
        engine.dispose()


async def _poll(
    telegram: TelegramBot,
    settings: Settings,
    *,
    stop: asyncio.Event | None,
    handle_signals: bool,
) -> None:
    bot, dispatcher = telegram.bot, telegram.dispatcher
    await bot.delete_webhook(drop_pending_updates=False)
    await register_menu(bot, settings)
    started = asyncio.Event()

    async def on_startup() -> None:
        started.set()

    dispatcher.startup.register(on_startup)
    run = asyncio.create_task(
        dispatcher.start_polling(
            bot,
            polling_timeout=POLLING_TIMEOUT,
            handle_signals=handle_signals,
            close_bot_session=False,
            allowed_updates=ALLOWED_UPDATES,
            tasks_concurrency_limit=CONCURRENT_UPDATES,
        )
    )
    if stop is not None:
        stopping = asyncio.create_task(stop.wait())
        done, _ = await asyncio.wait({run, stopping}, return_when=asyncio.FIRST_COMPLETED)
        if stopping in done:
            ready = asyncio.create_task(started.wait())
            await asyncio.wait({run, ready}, return_when=asyncio.FIRST_COMPLETED)
            ready.cancel()
            if not run.done():
                await dispatcher.stop_polling()
        else:
            stopping.cancel()
    await run


def run_polling(settings: Settings) -> int:
    """CLI: long polling for development (Ctrl-C to stop)."""
    configure_logging(level=settings.log_level, json=settings.log_json)
    log.info("telegram_polling", api=settings.telegram_api_base)
    try:
        with suppress(KeyboardInterrupt):
            asyncio.run(polling(settings))
    except TelegramNotConfiguredError as exc:
        print(f"Telegram: {exc}")
        return 1
    return 0
