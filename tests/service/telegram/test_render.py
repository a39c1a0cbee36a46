"""Rasa replies planned as Telegram messages (pure functions, no server)."""

from __future__ import annotations

from aiogram.types import InlineKeyboardMarkup, ReplyKeyboardMarkup, ReplyKeyboardRemove

from bot.channels.telegram import texts
from bot.channels.telegram.render import (
    MAX_TEXT,
    ButtonCallback,
    button_payloads,
    plan,
    shorten,
    split_text,
    utf16_length,
)
from bot.channels.telegram.store import payload_token


def test_short_text_is_one_piece() -> None:
    assert split_text("  Xin chào bạn!  ") == ["Xin chào bạn!"]
    assert split_text("") == []


def test_text_is_cut_at_paragraphs_then_lines_then_spaces() -> None:
    paragraphs = "Đoạn một dài.\n\nĐoạn hai dài hơn một chút."
    assert split_text(paragraphs, limit=30) == ["Đoạn một dài.", "Đoạn hai dài hơn một chút."]
    lines = "dòng thứ nhất\ndòng thứ hai\ndòng thứ ba"
    assert split_text(lines, limit=28) == ["dòng thứ nhất\ndòng thứ hai", "dòng thứ ba"]
    words = "một hai ba bốn năm sáu bảy tám"
    pieces = split_text(words, limit=12)
    assert all(len(p) <= 12 for p in pieces)
    assert " ".join(pieces) == words


def test_a_boundary_too_early_is_not_used() -> None:
    # Cutting at the early paragraph would leave a tiny piece: the last space is used.
    text = "A\n\n" + "chữ " * 20
    pieces = split_text(text, limit=40)
    assert len(pieces[0]) > 20
    assert all(len(p) <= 40 for p in pieces)


def test_a_word_longer_than_the_limit_is_cut_hard() -> None:
    assert split_text("x" * 25, limit=10) == ["x" * 10, "x" * 10, "x" * 5]


def test_length_is_counted_as_telegram_does_in_utf16() -> None:
    assert utf16_length("Huế") == 3
    assert utf16_length("📍") == 2
    pieces = split_text("📍" * 3000)
    assert [len(p) for p in pieces] == [2048, 952]
    assert all(utf16_length(p) <= MAX_TEXT for p in pieces)


def test_button_titles_are_shortened_to_64_characters() -> None:
    assert shorten("Ngắn") == "Ngắn"
    long = shorten("Thủ tục " * 20)
    assert len(long) == 64 and long.endswith("…")


def test_plan_puts_buttons_under_the_text_and_images_first() -> None:
    payload = '/report_problem{"report_category":"street_lighting"}'
    replies = [
        {
            "image": "https://example.org/a.png",
            "text": "Chọn loại sự việc:",
            "buttons": [
                {"title": "Đèn đường", "payload": payload},
                {"title": "Bản đồ", "url": "https://maps.example.org"},
            ],
        },
    ]
    assert button_payloads(replies) == [payload]
    photo, message = plan(replies, {payload: payload_token(payload)})

    assert photo.photo == "https://example.org/a.png"
    assert message.text == "Chọn loại sự việc:"
    assert isinstance(message.markup, InlineKeyboardMarkup)
    street, link = (row[0] for row in message.markup.inline_keyboard)
    assert street.callback_data == ButtonCallback(token=payload_token(payload)).pack()
    assert link.url == "https://maps.example.org"


def test_plan_without_text_still_has_something_to_say() -> None:
    (choose,) = plan([{"buttons": [{"title": "Có", "payload": "/affirm"}]}], {"/affirm": "t"})
    assert choose.text == texts.CHOOSE
    (ask,) = plan([{"custom": {"request_location": True}}], {})
    assert ask.text == texts.LOCATION_PROMPT
    assert isinstance(ask.markup, ReplyKeyboardMarkup)
    assert plan([{"custom": {"something": "else"}}], {}) == []


def test_the_location_keyboard_is_removed_by_the_next_plain_message() -> None:
    first, second = plan([{"text": "Đã nhận."}, {"text": "Cảm ơn bạn."}], {})
    assert isinstance(first.markup, ReplyKeyboardRemove)
    assert second.markup is None
    (asking,) = plan([{"text": "Ở đâu?", "custom": {"request_location": True}}], {})
    assert isinstance(asking.markup, ReplyKeyboardMarkup)
