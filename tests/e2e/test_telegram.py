"""Telegram end to end: the bot (aiogram) against a local fake Bot API server, and the real
Rasa, action server and service behind it — the flows a citizen has on Telegram."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from pydantic import SecretStr
from sqlalchemy import select

from bot.reports.models import Report
from tests.e2e.conftest import SECRET
from tests.service.telegram import updates
from tests.service.telegram.conftest import Harness, telegram_settings
from tests.service.telegram.fake_telegram import FakeTelegram

CHAT = 7_770_001


@pytest.fixture(scope="module")
def telegram(stack, tmp_path_factory) -> Iterator[tuple[Harness, FakeTelegram]]:
    with FakeTelegram() as fake:
        settings = telegram_settings(
            stack["settings"].database_url,
            f"http://127.0.0.1:{stack['rasa_port']}",
            fake.url,
            tmp_path_factory.mktemp("tg-media"),
            gateway_secret=SecretStr(SECRET),
            rasa_timeout_seconds=60,
            max_message_chars=2000,
        )
        harness = Harness(settings, fake)
        try:
            yield harness, fake
        finally:
            harness.close()


def said(fake: FakeTelegram, before: int) -> str:
    return "\n".join(m.get("text", "") for m in fake.sent(CHAT)[before:])


def button(fake: FakeTelegram, before: int, title: str) -> str:
    for message in fake.sent(CHAT)[before:]:
        for row in (message.get("reply_markup") or {}).get("inline_keyboard") or []:
            for key in row:
                if key["text"] == title:
                    return str(key["callback_data"])
    raise AssertionError(f"no button {title!r}")


def test_a_procedure_question_on_telegram(telegram):
    harness, fake = telegram
    before = len(fake.sent(CHAT))
    harness.feed(updates.text(CHAT, "làm giấy khai sinh cần giấy tờ gì"))
    answer = said(fake, before)
    assert "Mã thủ tục: 1.001193" in answer and "Giấy tờ cần nộp" in answer


def test_a_report_on_telegram_with_a_shared_location(telegram, stack):
    harness, fake = telegram
    before = len(fake.sent(CHAT))
    harness.feed(updates.text(CHAT, "đèn đường trước nhà tắt mấy hôm rồi, tối đi sợ lắm"))
    [question] = fake.sent(CHAT)[before:]
    assert "Sự việc ở đâu" in question["text"]
    assert question["reply_markup"]["keyboard"][0][0]["request_location"] is True
    before = len(fake.sent(CHAT))
    harness.feed(updates.location(CHAT, 16.4637, 107.5909))
    assert "ảnh chụp hiện trường" in said(fake, before)
    skip = button(fake, before, "Bỏ qua")
    before = len(fake.sent(CHAT))
    harness.feed(updates.button_press(CHAT, skip))
    assert "nguy hiểm cho người" in said(fake, before)
    safe = button(fake, before, "Không nguy hiểm")
    before = len(fake.sent(CHAT))
    harness.feed(updates.button_press(CHAT, safe))
    assert "• Lĩnh vực: Chiếu sáng công cộng" in said(fake, before)
    send = button(fake, before, "Gửi phản ánh")
    before = len(fake.sent(CHAT))
    harness.feed(updates.button_press(CHAT, send))
    filed = said(fake, before)
    with harness.factory() as session:
        [report] = session.scalars(
            select(Report).where(Report.reporter_id == f"telegram:{CHAT}")
        ).all()
    assert f"Mã theo dõi: {report.code}" in filed
    assert (report.latitude, report.longitude, report.reporter_channel) == (
        16.4637,
        107.5909,
        "telegram",
    )
    before = len(fake.sent(CHAT))
    harness.feed(updates.text(CHAT, "/status"))
    assert f"Phản ánh {report.code}" in said(fake, before)
