"""Text no database stores (a lone surrogate, NUL) arriving from Telegram: the citizen is told
in Vietnamese, nothing reaches Rasa or the message log, and Telegram's delivery succeeds (an
error would make Telegram send the same update again and again). SQLite and PostgreSQL."""

from __future__ import annotations

import json

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from bot.channels.telegram import texts
from bot.channels.telegram.runtime import WEBHOOK_PATH
from bot.channels.telegram.webhook import SECRET_HEADER
from bot.conversations.models import Message
from bot.settings import Settings
from tests.service.conftest import FakeRasa
from tests.service.media.images import phone_jpeg
from tests.service.telegram import updates
from tests.service.telegram.conftest import WEBHOOK_SECRET, Harness
from tests.service.telegram.fake_telegram import FakeTelegram
from tests.service.telegram.test_webhook import service_app

CHAT = 5_550_013
BAD = ["\ud800 abc", "đèn \udfff tắt", "a\x00b", "chuông\x07"]


def logged(harness: Harness) -> int:
    with harness.factory() as session:
        return int(session.scalar(select(func.count()).select_from(Message)) or 0)


@pytest.mark.parametrize("value", BAD, ids=["high", "low", "nul", "bell"])
def test_invalid_text_is_refused_in_the_chat(
    harness: Harness, fake_rasa: FakeRasa, fake_telegram: FakeTelegram, value: str
) -> None:
    harness.feed(updates.text(CHAT, value))
    assert fake_telegram.texts(CHAT) == [texts.INVALID_TEXT]
    assert fake_rasa.calls == []
    assert logged(harness) == 0


def test_an_invalid_caption_is_refused_before_the_photo_is_fetched(
    harness: Harness, fake_rasa: FakeRasa, fake_telegram: FakeTelegram
) -> None:
    file_id = fake_telegram.add_file(phone_jpeg())
    harness.feed(updates.photo(CHAT, file_id, file_size=None, caption="ổ gà \ud800"))
    assert fake_telegram.texts(CHAT) == [texts.INVALID_TEXT]
    assert fake_telegram.called("getFile") == []
    assert fake_rasa.calls == []


def test_a_forged_button_with_invalid_text_is_an_expired_button(
    harness: Harness, fake_telegram: FakeTelegram
) -> None:
    harness.feed(updates.button_press(CHAT, "b:\x00\ud800"))
    [answer] = fake_telegram.called("answerCallbackQuery")
    assert answer["text"] == texts.BUTTON_EXPIRED


def test_the_webhook_accepts_the_update_and_the_bot_answers_in_the_chat(
    tg_settings: Settings, fake_rasa: FakeRasa, fake_telegram: FakeTelegram
) -> None:
    update = updates.text(CHAT, "PLACEHOLDER")
    body = json.dumps(update).replace("PLACEHOLDER", "\\ud800 abc \\u0000").encode()
    with TestClient(service_app(tg_settings)) as client:
        response = client.post(
            WEBHOOK_PATH,
            content=body,
            headers={SECRET_HEADER: WEBHOOK_SECRET, "content-type": "application/json"},
        )
    assert response.status_code == 200, response.text
    assert fake_telegram.texts(CHAT) == [texts.INVALID_TEXT]
    assert fake_rasa.calls == []
