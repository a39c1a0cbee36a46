"""The Telegram channel against a local fake Bot API server and the local Rasa stand-in."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from anyio.from_thread import BlockingPortal, start_blocking_portal
from pydantic import SecretStr

from bot.channels.telegram import texts
from bot.channels.telegram.runtime import TelegramBot, build_telegram
from bot.conversations.rasa import open_rasa
from bot.db import make_engine, make_sessionmaker
from bot.settings import Environment, Settings
from tests.service.conftest import SECRET, FakeRasa, echo
from tests.service.telegram.fake_telegram import TOKEN, FakeTelegram

WEBHOOK_SECRET = "webhook-secret_0123456789"


@pytest.fixture(scope="session")
def fake_telegram() -> Iterator[FakeTelegram]:
    with FakeTelegram() as server:
        yield server


def telegram_settings(
    database_url: str, rasa_url: str, api_base: str, media_dir: Path, **overrides: Any
) -> Settings:
    values: dict[str, Any] = {
        "environment": Environment.TEST,
        "database_url": database_url,
        "rasa_url": rasa_url,
        "gateway_secret": SecretStr(SECRET),
        "max_message_chars": 200,
        "telegram_bot_token": SecretStr(TOKEN),
        "telegram_api_base": api_base,
        "telegram_webhook_secret": SecretStr(WEBHOOK_SECRET),
        "telegram_messages_per_minute": 20,
        "media_dir": media_dir,
        "media_max_bytes": 64 * 1024,
        "public_base_url": "https://hue-s.example",
        **overrides,
    }
    return Settings(**values, _env_file=None)


@pytest.fixture
def tg_settings(
    database_url: str, fake_rasa: FakeRasa, fake_telegram: FakeTelegram, tmp_path: Path
) -> Settings:
    fake_rasa.calls.clear()
    fake_rasa.handler = echo
    fake_telegram.reset()
    return telegram_settings(database_url, fake_rasa.url, fake_telegram.url, tmp_path / "media")


class Harness:
    """The bot built as the app builds it, fed updates as Telegram sends them.

    Runs on an event loop in a thread (an anyio blocking portal), so the tests stay plain.
    """

    def __init__(self, settings: Settings, fake: FakeTelegram) -> None:
        self.settings = settings
        self.fake = fake
        self._portal_cm = start_blocking_portal()
        self.portal: BlockingPortal = self._portal_cm.__enter__()
        self.engine = make_engine(settings.database_url)
        self.factory = make_sessionmaker(self.engine)
        self._rasa_cm = self.portal.wrap_async_context_manager(open_rasa(settings))
        rasa = self._rasa_cm.__enter__()
        telegram = build_telegram(settings, self.factory, rasa)
        assert telegram is not None
        self.telegram: TelegramBot = telegram

    def feed(self, update: dict[str, Any], *, expect_error: bool = False) -> None:
        """Handle one update to the end, as the webhook does."""
        before = len(self.fake.texts())
        self.portal.call(self._feed, update)
        if not expect_error:
            assert texts.ERROR not in self.fake.texts()[before:], "a handler failed"

    async def _feed(self, update: dict[str, Any]) -> None:
        await self.telegram.dispatcher.feed_raw_update(self.telegram.bot, update)

    def close(self) -> None:
        try:
            self.portal.call(self.telegram.close)
            self._rasa_cm.__exit__(None, None, None)
        finally:
            self._portal_cm.__exit__(None, None, None)
            self.engine.dispose()


@pytest.fixture
def harness(tg_settings: Settings, fake_telegram: FakeTelegram) -> Iterator[Harness]:
    bot = Harness(tg_settings, fake_telegram)
    try:
        yield bot
    finally:
        bot.close()
