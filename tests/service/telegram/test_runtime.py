"""Long polling against the fake server's getUpdates, and registering the webhook."""

from __future__ import annotations

import asyncio
import time

import pytest
from pydantic import SecretStr

from bot.channels.telegram.runtime import (
    ALLOWED_UPDATES,
    COMMANDS,
    TelegramNotConfiguredError,
    polling,
    set_webhook,
)
from bot.settings import Settings
from tests.service.conftest import FakeRasa
from tests.service.telegram import updates
from tests.service.telegram.conftest import WEBHOOK_SECRET, Harness
from tests.service.telegram.fake_telegram import FakeTelegram

CHAT = 5_550_004


def test_long_polling_answers_and_stops_cleanly(
    tg_settings: Settings, fake_rasa: FakeRasa, fake_telegram: FakeTelegram
) -> None:
    first = updates.text(CHAT, "giờ làm việc của bộ phận một cửa")
    fake_telegram.queue_update(first)
    fake_telegram.queue_update(first)  # served twice (e.g. after a crash): handled once
    fake_telegram.queue_update(updates.text(CHAT, "cảm ơn"))

    async def scenario() -> None:
        stop = asyncio.Event()
        run = asyncio.create_task(polling(tg_settings, stop=stop, handle_signals=False))
        deadline = time.monotonic() + 20
        while len(fake_telegram.texts(CHAT)) < 2 and time.monotonic() < deadline:
            assert not run.done(), run.exception()
            await asyncio.sleep(0.05)
        await asyncio.sleep(0.3)  # time for a wrong extra reply to show
        stop.set()
        await asyncio.wait_for(run, timeout=10)

    asyncio.run(scenario())

    assert fake_telegram.texts(CHAT) == [
        "Bạn vừa nói: giờ làm việc của bộ phận một cửa",
        "Bạn vừa nói: cảm ơn",
    ]
    assert [c["message"] for c in fake_rasa.calls] == [
        "giờ làm việc của bộ phận một cửa",
        "cảm ơn",
    ]
    assert fake_telegram.called("deleteWebhook")  # getUpdates only works without a webhook
    (menu,) = fake_telegram.called("setChatMenuButton")
    assert menu["menu_button"]["web_app"] == {"url": "https://hue-s.example/app/"}
    polls = fake_telegram.called("getUpdates")
    assert polls[0]["timeout"] == "30"
    assert polls[-1]["allowed_updates"] == ALLOWED_UPDATES
    assert int(polls[-1]["offset"]) > first["update_id"]  # what was handled is confirmed


def test_polling_without_a_token_is_refused(tg_settings: Settings) -> None:
    settings = tg_settings.model_copy(update={"telegram_bot_token": None})
    with pytest.raises(TelegramNotConfiguredError):
        asyncio.run(polling(settings, handle_signals=False))


def test_set_webhook_registers_the_public_url_with_the_secret(
    tg_settings: Settings, fake_telegram: FakeTelegram, capsys: pytest.CaptureFixture[str]
) -> None:
    assert set_webhook(tg_settings) == 0

    (call,) = fake_telegram.called("setWebhook")
    assert call["url"] == "https://hue-s.example/telegram/webhook"
    assert call["secret_token"] == WEBHOOK_SECRET
    assert call["allowed_updates"] == ALLOWED_UPDATES
    (commands,) = fake_telegram.called("setMyCommands")
    assert [c["command"] for c in commands["commands"]] == [c.command for c in COMMANDS]
    assert "https://hue-s.example/telegram/webhook" in capsys.readouterr().out
    (menu,) = fake_telegram.called("setChatMenuButton")
    assert menu["menu_button"] == {
        "type": "web_app",
        "text": "Mở trợ lý",
        "web_app": {"url": "https://hue-s.example/app/"},
    }


def test_without_https_no_menu_button_opens_the_mini_app(
    tg_settings: Settings, fake_telegram: FakeTelegram
) -> None:
    """Telegram opens only https pages in a Mini App: a plain-http address gets no button."""
    settings = tg_settings.model_copy(update={"public_base_url": "http://127.0.0.1:8000"})
    assert set_webhook(settings) == 0
    assert fake_telegram.called("setMyCommands")
    assert fake_telegram.called("setChatMenuButton") == []


@pytest.mark.parametrize("secret", [None, "có dấu không được"])
def test_set_webhook_needs_a_valid_secret(
    secret: str | None, tg_settings: Settings, fake_telegram: FakeTelegram
) -> None:
    settings = tg_settings.model_copy(
        update={"telegram_webhook_secret": None if secret is None else SecretStr(secret)}
    )
    assert set_webhook(settings) == 1
    assert fake_telegram.called("setWebhook") == []


def test_the_allowed_updates_are_those_the_handlers_use(harness: Harness) -> None:
    used = harness.telegram.dispatcher.resolve_used_update_types()
    assert sorted(used) == sorted(ALLOWED_UPDATES)
