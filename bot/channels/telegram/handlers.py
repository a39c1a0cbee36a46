"""What the bot does with each update: citizens' private chats go to the gateway.

Identity: a citizen is ``telegram:<chat id>`` (private chats only, where the chat id is the
user's id; the outbox reaches reporters there). In groups (the bot also posts to agencies'
groups) it answers /start and /help with a pointer to a private chat and ignores the rest.

Every update passes the UpdateGate first: it is recorded in telegram_updates (a repeat is
skipped), and the updates of one chat are handled one at a time, in order, within a process.
Handlers that answer a private chat are rate limited per user (RateLimit).
"""

from __future__ import annotations

import asyncio
import json
import re
from collections.abc import Awaitable, Callable
from contextlib import AbstractAsyncContextManager, nullcontext, suppress
from functools import partial
from typing import Any, cast
from weakref import WeakValueDictionary

import aiohttp
import anyio
from aiogram import BaseMiddleware, Bot, Dispatcher, F, Router
from aiogram.dispatcher.middlewares.user_context import UserContextMiddleware
from aiogram.enums import ChatAction, ChatType
from aiogram.exceptions import TelegramAPIError
from aiogram.filters import Command, CommandObject, CommandStart, ExceptionTypeFilter
from aiogram.types import CallbackQuery, Chat, ErrorEvent, Message, TelegramObject, Update, User
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session, sessionmaker

from bot.channels.telegram import render, texts
from bot.channels.telegram.store import claim_update, payload_for, save_payloads
from bot.conversations.rasa import RasaClient
from bot.conversations.service import (
    BUSY,
    LOCATION_ONLY,
    PHOTO_ONLY,
    AssistantUnavailableError,
    Inbound,
    handle_message,
)
from bot.logs import log
from bot.media.images import CONTENT_TYPES, MediaError, too_large
from bot.media.models import MediaFile, MediaKind
from bot.media.storage import store_image
from bot.ratelimit import RateLimiter, Verdict
from bot.settings import Settings
from vitext import MessageTooLongError, invalid_character, normalize_message

CHANNEL = "telegram"
GREETING = "/greet"
HELP = "/help"
STATUS = "/check_report_status"
# /start <payload> (t.me/<bot>?start=<payload>): where a deep link leads; others greet.
DEEP_LINKS = {"report": "/report_problem", "status": STATUS, "help": HELP}
REPORT_CODE = re.compile(r"[A-Za-z0-9][A-Za-z0-9 -]{2,29}")
DOWNLOAD_TIMEOUT = 60  # seconds

Handler = Callable[[TelegramObject, dict[str, Any]], Awaitable[Any]]


def sender_id(chat_id: int) -> str:
    """The gateway's sender id of a Telegram citizen (see bot/reports/notify.py)."""
    return f"{CHANNEL}:{chat_id}"


class UpdateNotClaimedError(RuntimeError):
    """The update could not be recorded (database down): it was not handled.

    Left to propagate, so that a webhook answers with an error and Telegram sends the
    update again later.
    """

    def __init__(self, update_id: int) -> None:
        super().__init__(f"update {update_id} could not be recorded")
        self.update_id = update_id


class UpdateGate(BaseMiddleware):
    """Outer middleware of every update: handled once, one at a time per chat, tracked."""

    def __init__(self, session_factory: sessionmaker[Session]) -> None:
        self.session_factory = session_factory
        self.in_flight: set[asyncio.Task[Any]] = set()
        self._chat_locks: WeakValueDictionary[int, asyncio.Lock] = WeakValueDictionary()

    def _lock(self, chat: Chat | None) -> AbstractAsyncContextManager[Any]:
        if chat is None:
            return nullcontext()
        lock = self._chat_locks.get(chat.id)
        if lock is None:
            lock = self._chat_locks[chat.id] = asyncio.Lock()
        return lock

    async def __call__(self, handler: Handler, event: TelegramObject, data: dict[str, Any]) -> Any:
        update = cast(Update, event)
        task = asyncio.current_task()
        if task is not None:
            self.in_flight.add(task)
        try:
            # Taken before the first await: the updates of a chat keep their order.
            async with self._lock(data.get("event_chat")):
                try:
                    fresh = await anyio.to_thread.run_sync(
                        claim_update, self.session_factory, update.update_id
                    )
                except SQLAlchemyError as exc:
                    raise UpdateNotClaimedError(update.update_id) from exc
                if not fresh:
                    log.info("telegram_update_repeated", update_id=update.update_id)
                    return None
                return await handler(event, data)
        finally:
            if task is not None:
                self.in_flight.discard(task)

    async def drain(self, timeout: float) -> None:
        """Wait (at most ``timeout`` seconds) for the updates being handled."""
        current = asyncio.current_task()
        pending = {task for task in self.in_flight if task is not current}
        if pending:
            await asyncio.wait(pending, timeout=timeout)


class RateLimit(BaseMiddleware):
    """Inner middleware of the private chat handlers: over the limit, not handled."""

    def __init__(self, limiter: RateLimiter) -> None:
        self.limiter = limiter

    async def __call__(self, handler: Handler, event: TelegramObject, data: dict[str, Any]) -> Any:
        user: User | None = data.get("event_from_user")
        if user is None:
            return await handler(event, data)
        verdict = self.limiter.hit(user.id)
        if verdict is Verdict.ALLOWED:
            return await handler(event, data)
        log.info("telegram_rate_limited", told=verdict is Verdict.REFUSED)
        bot: Bot = data["bot"]
        text = texts.SLOW_DOWN if verdict is Verdict.REFUSED else None
        if isinstance(event, CallbackQuery):
            await bot.answer_callback_query(event.id, text=text)
        elif isinstance(event, Message) and text is not None:
            await bot.send_message(event.chat.id, text)
        return None


def _private_chat_id(update: Update) -> int | None:
    chat = UserContextMiddleware.resolve_event_context(update).chat
    return chat.id if chat is not None and chat.type == ChatType.PRIVATE else None


class TelegramChannel:
    """The citizens' Telegram bot: handlers over the gateway, with its gate and limiter."""

    def __init__(
        self,
        *,
        settings: Settings,
        session_factory: sessionmaker[Session],
        rasa: RasaClient,
        limiter: RateLimiter | None = None,
    ) -> None:
        self.settings = settings
        self.session_factory = session_factory
        self.rasa = rasa
        self.limiter = limiter or RateLimiter(settings.telegram_messages_per_minute)
        self.gate = UpdateGate(session_factory)

    # -- wiring ------------------------------------------------------------------------

    def dispatcher(self) -> Dispatcher:
        """A Dispatcher with the gate, the error handler and both routers."""
        dispatcher = Dispatcher(disable_fsm=True, name="hue-s-telegram")
        dispatcher.update.outer_middleware(self.gate)
        dispatcher.errors.register(self.on_error, ~ExceptionTypeFilter(UpdateNotClaimedError))
        dispatcher.include_routers(self.private_router(), self.group_router())
        return dispatcher

    def private_router(self) -> Router:
        router = Router(name="private")
        private = F.chat.type == ChatType.PRIVATE
        router.message.filter(private)
        router.edited_message.filter(private)
        router.callback_query.filter(F.message.chat.type == ChatType.PRIVATE)
        limit = RateLimit(self.limiter)
        router.message.middleware(limit)
        router.edited_message.middleware(limit)
        router.callback_query.middleware(limit)

        router.message.register(self.on_start_link, CommandStart(deep_link=True))
        router.message.register(self.on_start, CommandStart())
        router.message.register(self.on_help, Command("help"))
        router.message.register(self.on_status, Command("status"))
        router.message.register(self.on_unknown_command, F.text.startswith("/"))
        router.message.register(self.on_text, F.text)
        router.message.register(self.on_location, F.location)
        router.message.register(self.on_photo, F.photo)
        router.message.register(self.on_image_document, F.document.mime_type.in_(CONTENT_TYPES))
        router.message.register(self.on_other)
        # Live locations arrive as edits of the location message: nothing to answer.
        router.edited_message.register(self.on_edited, ~F.location)
        router.callback_query.register(self.on_button, render.ButtonCallback.filter())
        router.callback_query.register(self.on_other_callback)
        return router

    def group_router(self) -> Router:
        router = Router(name="groups")
        router.message.filter(F.chat.type != ChatType.PRIVATE)
        router.message.register(self.on_group_command, Command("start", "help"))
        return router

    # -- the gateway -------------------------------------------------------------------

    async def converse(self, bot: Bot, chat_id: int, text: str, metadata: dict[str, Any]) -> None:
        """Forward one message to the assistant and show its replies."""
        inbound = Inbound(
            sender_id=sender_id(chat_id), channel=CHANNEL, text=text, metadata=metadata
        )
        with suppress(TelegramAPIError):
            await bot.send_chat_action(chat_id, ChatAction.TYPING)
        try:
            replies = await handle_message(
                session_factory=self.session_factory, rasa=self.rasa, inbound=inbound
            )
        except AssistantUnavailableError:
            await bot.send_message(chat_id, BUSY)
            return
        tokens = await anyio.to_thread.run_sync(
            save_payloads, self.session_factory, render.button_payloads(replies)
        )
        messages = render.plan(replies, tokens, base_url=self.settings.public_base_url)
        await render.send(bot, chat_id, messages)

    def _normalized(self, text: str) -> tuple[str | None, str | None]:
        """(the text to forward, None) or (None, the refusal to send).

        Telegram's JSON may carry what no database stores (a lone surrogate, NUL): refused
        here in the chat, as the HTTP channels refuse it (bot/inputguard.py), not left to fail.
        """
        if invalid_character(text) is not None:
            return None, texts.INVALID_TEXT
        try:
            clean = normalize_message(text, max_chars=self.settings.max_message_chars)
        except MessageTooLongError as exc:
            return None, texts.too_long(exc.length, exc.limit)
        return clean, None

    # -- commands ----------------------------------------------------------------------

    async def on_start_link(self, message: Message, command: CommandObject, bot: Bot) -> None:
        target = DEEP_LINKS.get((command.args or "").strip().lower(), GREETING)
        await self.converse(bot, message.chat.id, target, {})

    async def on_start(self, message: Message, bot: Bot) -> None:
        await self.converse(bot, message.chat.id, GREETING, {})

    async def on_help(self, message: Message, bot: Bot) -> None:
        await self.converse(bot, message.chat.id, HELP, {})

    async def on_status(self, message: Message, command: CommandObject, bot: Bot) -> None:
        """/status, or /status <report code> to look one up at once."""
        code = " ".join((command.args or "").split())
        text = STATUS
        if REPORT_CODE.fullmatch(code):
            text += json.dumps({"report_code": code.upper()}, separators=(",", ":"))
        await self.converse(bot, message.chat.id, text, {})

    async def on_unknown_command(self, message: Message, bot: Bot) -> None:
        # Also keeps typed "/intent{...}" payloads from reaching Rasa.
        await bot.send_message(message.chat.id, texts.UNKNOWN_COMMAND)

    async def on_group_command(self, message: Message, bot: Bot) -> None:
        me = await bot.me()
        await bot.send_message(message.chat.id, texts.private_only(me.username))

    # -- content -----------------------------------------------------------------------

    async def on_text(self, message: Message, bot: Bot) -> None:
        text, refusal = self._normalized(message.text or "")
        if refusal is not None:
            await bot.send_message(message.chat.id, refusal)
            return
        if not text:
            await bot.send_message(message.chat.id, texts.EMPTY)
            return
        await self.converse(bot, message.chat.id, text, {})

    async def on_location(self, message: Message, bot: Bot) -> None:
        location = message.location
        assert location is not None  # the filter
        metadata = {"location": {"latitude": location.latitude, "longitude": location.longitude}}
        await self.converse(bot, message.chat.id, LOCATION_ONLY, metadata)

    async def on_photo(self, message: Message, bot: Bot) -> None:
        assert message.photo  # the filter
        largest = max(message.photo, key=lambda p: (p.width * p.height, p.file_size or 0))
        await self._forward_image(message, bot, largest.file_id, largest.file_size)

    async def on_image_document(self, message: Message, bot: Bot) -> None:
        """A photo sent "as a file" (uncompressed, with its EXIF and so its position)."""
        document = message.document
        assert document is not None  # the filter
        await self._forward_image(message, bot, document.file_id, document.file_size)

    async def _forward_image(
        self, message: Message, bot: Bot, file_id: str, file_size: int | None
    ) -> None:
        chat_id = message.chat.id
        caption, refusal = self._normalized(message.caption or "")
        if refusal is not None:
            await bot.send_message(chat_id, refusal)
            return
        max_bytes = self.settings.media_max_bytes
        if file_size is not None and file_size > max_bytes:
            await bot.send_message(chat_id, too_large(file_size, max_bytes).message)
            return
        try:
            downloaded = await bot.download(file_id, timeout=DOWNLOAD_TIMEOUT)
        except (TelegramAPIError, aiohttp.ClientError, TimeoutError) as exc:
            log.warning("telegram_download_failed", error=f"{type(exc).__name__}: {exc}")
            await bot.send_message(chat_id, texts.DOWNLOAD_FAILED)
            return
        data = downloaded.read() if downloaded is not None else b""
        try:
            media = await anyio.to_thread.run_sync(
                partial(self._store_image, data, owner_id=sender_id(chat_id))
            )
        except MediaError as exc:
            await bot.send_message(chat_id, exc.message)
            return
        gps = None
        if media.gps_latitude is not None and media.gps_longitude is not None:
            gps = {"latitude": media.gps_latitude, "longitude": media.gps_longitude}
        attachment = {"media_id": media.id, "content_type": media.content_type, "gps": gps}
        # A photo with no words starts a report, or feeds the one being written.
        await self.converse(bot, chat_id, caption or PHOTO_ONLY, {"attachments": [attachment]})

    def _store_image(self, data: bytes, *, owner_id: str) -> MediaFile:
        with self.session_factory() as session:
            return store_image(
                session,
                data,
                owner_id=owner_id,
                kind=MediaKind.PHOTO,
                media_dir=self.settings.media_dir,
                max_bytes=self.settings.media_max_bytes,
            )

    async def on_other(self, message: Message, bot: Bot) -> None:
        if message.content_type in texts.ANSWERED_KINDS:
            await bot.send_message(message.chat.id, texts.unsupported(message.content_type))

    async def on_edited(self, message: Message, bot: Bot) -> None:
        await bot.send_message(message.chat.id, texts.EDITED)

    # -- buttons -----------------------------------------------------------------------

    async def on_button(
        self, query: CallbackQuery, callback_data: render.ButtonCallback, bot: Bot
    ) -> None:
        payload = None
        if invalid_character(callback_data.token, free_form=False) is None:
            payload = await anyio.to_thread.run_sync(
                payload_for, self.session_factory, callback_data.token
            )
        if payload is None or query.message is None:
            await bot.answer_callback_query(query.id, text=texts.BUTTON_EXPIRED, show_alert=True)
            return
        try:
            await self.converse(bot, query.message.chat.id, payload, {})
        finally:
            # Telegram shows a spinner on the button until this; a late answer is refused.
            with suppress(TelegramAPIError):
                await bot.answer_callback_query(query.id)

    async def on_other_callback(self, query: CallbackQuery, bot: Bot) -> None:
        await bot.answer_callback_query(query.id)

    # -- errors ------------------------------------------------------------------------

    async def on_error(self, event: ErrorEvent, bot: Bot) -> bool:
        """A handler failed: log it and apologise in the chat (the message may be stored)."""
        exc = event.exception
        log.error(
            "telegram_update_failed",
            update_id=event.update.update_id,
            error=f"{type(exc).__name__}: {exc}",
            exc_info=exc,
        )
        chat_id = _private_chat_id(event.update)
        if chat_id is not None:
            with suppress(TelegramAPIError):
                await bot.send_message(chat_id, texts.ERROR)
        return True
