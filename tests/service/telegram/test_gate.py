"""An update is handled once, even by two processes; each user has a rate limit."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import func, select

from bot.channels.telegram import texts
from bot.channels.telegram.models import TelegramUpdate
from bot.channels.telegram.store import (
    claim_update,
    payload_for,
    payload_token,
    prune_updates,
    save_payloads,
)
from bot.db import utcnow
from bot.ratelimit import RateLimiter, Verdict
from bot.settings import Settings
from tests.service.conftest import FakeRasa
from tests.service.telegram import updates
from tests.service.telegram.conftest import Harness
from tests.service.telegram.fake_telegram import FakeTelegram

CHAT = 5_550_002


def test_the_same_update_twice_is_handled_once(
    harness: Harness, fake_rasa: FakeRasa, fake_telegram: FakeTelegram
) -> None:
    update = updates.text(CHAT, "xin chào")
    harness.feed(update)
    harness.feed(update)

    assert len(fake_rasa.calls) == 1
    assert fake_telegram.texts(CHAT) == ["Bạn vừa nói: xin chào"]
    with harness.factory() as session:
        assert session.scalar(select(func.count()).select_from(TelegramUpdate)) == 1


def test_two_processes_given_the_same_update_handle_it_once(
    tg_settings: Settings, fake_rasa: FakeRasa, fake_telegram: FakeTelegram
) -> None:
    # Two bots with nothing in common but the database (as two processes, or a webhook
    # and a poller): the unique update id decides.
    first, second = Harness(tg_settings, fake_telegram), Harness(tg_settings, fake_telegram)
    try:
        update = updates.button_press(CHAT, "b:" + "0" * 16)
        first.feed(update)
        second.feed(update)
        message = updates.text(CHAT, "cấp đổi giấy phép lái xe")
        second.feed(message)
        first.feed(message)
    finally:
        first.close()
        second.close()

    assert len(fake_telegram.called("answerCallbackQuery")) == 1
    assert [c["message"] for c in fake_rasa.calls] == ["cấp đổi giấy phép lái xe"]


def test_over_the_rate_limit_the_user_is_told_once_and_nothing_is_forwarded(
    tg_settings: Settings, fake_rasa: FakeRasa, fake_telegram: FakeTelegram
) -> None:
    settings = tg_settings.model_copy(update={"telegram_messages_per_minute": 3})
    bot = Harness(settings, fake_telegram)
    try:
        for i in range(5):
            bot.feed(updates.text(CHAT, f"tin nhắn {i}"))
        bot.feed(updates.button_press(CHAT, "b:" + "1" * 16))
        bot.feed(updates.text(CHAT + 1, "người khác"))  # another user is not slowed down
    finally:
        bot.close()

    assert [c["message"] for c in fake_rasa.calls] == [
        "tin nhắn 0",
        "tin nhắn 1",
        "tin nhắn 2",
        "người khác",
    ]
    assert fake_telegram.texts(CHAT) == [
        "Bạn vừa nói: tin nhắn 0",
        "Bạn vừa nói: tin nhắn 1",
        "Bạn vừa nói: tin nhắn 2",
        texts.SLOW_DOWN,
    ]
    (answer,) = fake_telegram.called("answerCallbackQuery")  # stops the spinner, no text
    assert "text" not in answer


def test_the_rate_limit_is_a_sliding_window() -> None:
    now = [0.0]
    limiter = RateLimiter(2, window=60, clock=lambda: now[0])

    def at(t: float, key: int = 1) -> Verdict:
        now[0] = t
        return limiter.hit(key)

    assert at(0) is Verdict.ALLOWED
    assert at(1) is Verdict.ALLOWED
    assert at(2) is Verdict.REFUSED
    assert at(3) is Verdict.REFUSED_AGAIN
    assert at(3, key=2) is Verdict.ALLOWED
    assert at(59) is Verdict.REFUSED_AGAIN
    assert at(60.5) is Verdict.ALLOWED  # the hit at 0 left the window
    assert at(61.5) is Verdict.ALLOWED
    assert at(62.5) is Verdict.REFUSED  # told again: the last notice is a window old


def test_payload_tokens_are_stable_and_stored_once(harness: Harness) -> None:
    payload = '/report_problem{"report_category":"street_lighting"}'
    tokens = save_payloads(harness.factory, [payload, payload])
    again = save_payloads(harness.factory, [payload, "/deny"])

    assert tokens == {payload: payload_token(payload)}
    assert again[payload] == tokens[payload]
    assert len(tokens[payload]) == 16
    assert payload_for(harness.factory, tokens[payload]) == payload
    assert payload_for(harness.factory, again["/deny"]) == "/deny"
    assert payload_for(harness.factory, "ffffffffffffffff") is None


def test_old_updates_are_forgotten(harness: Harness) -> None:
    assert claim_update(harness.factory, 1)
    assert not claim_update(harness.factory, 1)
    with harness.factory() as session:
        session.add(TelegramUpdate(update_id=2, received_at=utcnow() - timedelta(days=8)))
        session.commit()
        assert prune_updates(session) == 1
        assert session.scalars(select(TelegramUpdate.update_id)).all() == [1]
    assert claim_update(harness.factory, 2)  # an id Telegram may pick again after a week
