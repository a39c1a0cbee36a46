"""Rasa's replies as Telegram messages.

One Rasa reply ({text, buttons, image, custom}) becomes, in order: its image as a photo, its
text in pieces of at most 4096 characters, the buttons as an inline keyboard under the last
piece (one button a row), and, when ``custom`` asks for it, a one-time reply keyboard with a
location-request button. Messages are plain text (no parse mode): Rasa's text is shown as is.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from aiogram import Bot
from aiogram.exceptions import TelegramBadRequest
from aiogram.filters.callback_data import CallbackData
from aiogram.types import InlineKeyboardMarkup, ReplyKeyboardMarkup, ReplyKeyboardRemove
from aiogram.utils.keyboard import InlineKeyboardBuilder, ReplyKeyboardBuilder

from bot.channels.telegram import texts
from bot.logs import log

MAX_TEXT = 4096  # one message, in UTF-16 code units as Telegram counts
MAX_BUTTON_TITLE = 64  # characters shown on an inline button

Markup = InlineKeyboardMarkup | ReplyKeyboardMarkup | ReplyKeyboardRemove


class ButtonCallback(CallbackData, prefix="b"):
    """callback_data of an inline button: "b:<token>" (the payload is in the database)."""

    token: str


@dataclass(frozen=True)
class Outgoing:
    """One message to send: a text or a photo (by URL), with its keyboard."""

    text: str | None = None
    photo: str | None = None
    markup: Markup | None = None


def utf16_length(text: str) -> int:
    return len(text.encode("utf-16-le")) // 2


def _fitting_prefix(text: str, limit: int) -> int:
    """How many characters of ``text`` fit in ``limit`` UTF-16 code units."""
    used = 0
    for index, char in enumerate(text):
        used += 2 if ord(char) > 0xFFFF else 1
        if used > limit:
            return index
    return len(text)


def split_text(text: str, limit: int = MAX_TEXT) -> list[str]:
    """``text`` in pieces of at most ``limit``, cut at a paragraph, else a line, else a space.

    A boundary is used only if the piece keeps at least a quarter of the limit; a single
    word longer than that is cut where it must be.
    """
    pieces: list[str] = []
    rest = text.strip()
    while utf16_length(rest) > limit:
        window = rest[: _fitting_prefix(rest, limit)]
        cut = -1
        for boundary in ("\n\n", "\n", " "):
            position = window.rfind(boundary)
            if position >= len(window) // 4:
                cut = position
                break
        if cut <= 0:
            cut = len(window)
        piece = rest[:cut].rstrip()
        pieces.append(piece)
        rest = rest[cut:].lstrip()
    if rest:
        pieces.append(rest)
    return pieces


def shorten(title: str, limit: int = MAX_BUTTON_TITLE) -> str:
    title = " ".join(title.split())
    return title if len(title) <= limit else title[: limit - 1].rstrip() + "…"


def _buttons(reply: Mapping[str, Any]) -> list[dict[str, Any]]:
    buttons = reply.get("buttons") or []
    return [b for b in buttons if isinstance(b, dict) and (b.get("payload") or b.get("url"))]


def button_payloads(replies: Iterable[Mapping[str, Any]]) -> list[str]:
    """The payloads that need a token (every button but links)."""
    return [
        str(b["payload"])
        for reply in replies
        for b in _buttons(reply)
        if not b.get("url") and not str(b["payload"]).startswith(("http://", "https://"))
    ]


def _inline_keyboard(
    buttons: list[dict[str, Any]], tokens: Mapping[str, str]
) -> InlineKeyboardMarkup:
    builder = InlineKeyboardBuilder()
    for button in buttons:
        title = shorten(str(button.get("title") or button.get("payload") or "…"))
        target = str(button.get("url") or button["payload"])
        if target.startswith(("http://", "https://")):
            builder.button(text=title, url=target)
        else:
            builder.button(text=title, callback_data=ButtonCallback(token=tokens[target]))
    builder.adjust(1)
    return builder.as_markup()


def location_keyboard() -> ReplyKeyboardMarkup:
    builder = ReplyKeyboardBuilder()
    builder.button(text=texts.LOCATION_BUTTON, request_location=True)
    return builder.as_markup(
        resize_keyboard=True,
        one_time_keyboard=True,
        input_field_placeholder=texts.LOCATION_PLACEHOLDER,
    )


def _wants_location(reply: Mapping[str, Any]) -> bool:
    custom = reply.get("custom")
    return isinstance(custom, dict) and custom.get("request_location") is True


def _absolute(url: str, base_url: str) -> str:
    return base_url.rstrip("/") + url if url.startswith("/") else url


def plan(
    replies: Iterable[Mapping[str, Any]], tokens: Mapping[str, str], *, base_url: str = ""
) -> list[Outgoing]:
    """The messages that show ``replies`` (``tokens``: payload → token, see store.py).

    A location keyboard left from an earlier question is taken away by the first message
    without a keyboard, unless these replies ask for a location again.
    """
    planned: list[Outgoing] = []
    asks_location = False
    for reply in replies:
        image = reply.get("image")
        if isinstance(image, str) and image:
            planned.append(Outgoing(photo=_absolute(image, base_url)))
        text = str(reply.get("text") or "").strip()
        buttons = _buttons(reply)
        wants_location = _wants_location(reply)
        pieces = split_text(text) if text else []
        if not pieces and buttons:
            pieces = [texts.CHOOSE]
        if not pieces and wants_location:
            pieces = [texts.LOCATION_PROMPT]
        markup: Markup | None = None
        if buttons:
            markup = _inline_keyboard(buttons, tokens)
        elif wants_location:
            markup = location_keyboard()
        planned.extend(Outgoing(text=piece) for piece in pieces[:-1])
        if pieces:
            planned.append(Outgoing(text=pieces[-1], markup=markup))
        if wants_location and buttons:
            # One message has one keyboard: the location button comes in a message of its own.
            planned.append(Outgoing(text=texts.LOCATION_PROMPT, markup=location_keyboard()))
        asks_location = asks_location or wants_location
    if not asks_location:
        for index, outgoing in enumerate(planned):
            if outgoing.text is not None and outgoing.markup is None:
                planned[index] = Outgoing(text=outgoing.text, markup=ReplyKeyboardRemove())
                break
    return planned


async def send(bot: Bot, chat_id: int, messages: Iterable[Outgoing]) -> None:
    """Send the planned messages in order; a photo Telegram cannot fetch becomes a link."""
    for message in messages:
        if message.photo is not None:
            try:
                await bot.send_photo(chat_id, photo=message.photo, reply_markup=message.markup)
                continue
            except TelegramBadRequest as exc:
                log.warning("telegram_photo_refused", url=message.photo, error=str(exc))
                await bot.send_message(chat_id, texts.IMAGE_LINK.format(url=message.photo))
                continue
        if message.text is not None:
            await bot.send_message(chat_id, message.text, reply_markup=message.markup)
