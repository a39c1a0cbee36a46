"""The input guard: text that cannot be stored or logged safely is refused at the edge.

One ASGI middleware in front of every route checks, before any route reads them, the path,
the query string and the text of JSON and URL-encoded form bodies: a lone surrogate
(``"\\ud800"`` is valid JSON), NUL or another control character (tab, line feed and carriage
return are allowed outside the path), or bytes that are not UTF-8, are answered with 422 and a
Vietnamese message in the API's error shape — the Open311 spec's list of errors under
``/open311/`` — and nothing is stored. Without it such a string reaches the database and fails
there (a 500, or a half-done request).

Multipart bodies (photo uploads) are not buffered here: their few text fields are checked by
their routes (a session id or a citizen id, each a strict pattern). Telegram's webhook body is
left to the bot, which answers a citizen in the chat rather than refusing Telegram's delivery
(``bot/channels/telegram/handlers.py``). Inspected bodies are read whole, so they are capped
(MAX_INSPECTED_BODY, 413).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any
from urllib.parse import unquote_to_bytes

import structlog
from starlette.datastructures import Headers
from starlette.responses import JSONResponse
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from bot.errors import SPEC_ERROR_PREFIXES, error_response
from vitext.validity import describe, invalid_character

log = structlog.get_logger(__name__)

MAX_INSPECTED_BODY = 1024 * 1024
INVALID_TEXT = (
    "Nội dung gửi lên có ký tự không hợp lệ (ký tự điều khiển hoặc mã Unicode lỗi). "
    "Bạn vui lòng xóa ký tự đó rồi gửi lại."
)
TOO_LARGE = "Dữ liệu gửi lên quá lớn. Bạn vui lòng gửi nội dung ngắn hơn."


@dataclass(frozen=True)
class Refusal:
    where: str  # "path", "query" or "body"
    char: str | None  # the offending character; None: the bytes are not UTF-8


class _NotUtf8(Exception):
    pass


class _TooLarge(Exception):
    pass


class _ClientGone(Exception):
    pass


def _text(raw: bytes) -> str:
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise _NotUtf8 from exc


def _check(text: str, where: str, *, free_form: bool = True) -> Refusal | None:
    char = invalid_character(text, free_form=free_form)
    return Refusal(where, char) if char is not None else None


def path_refusal(scope: Scope) -> Refusal | None:
    """The path as the client sent it, percent-decoded: UTF-8, no control character."""
    raw = scope.get("raw_path") or scope["path"].encode("utf-8", "surrogatepass")
    try:
        return _check(_text(unquote_to_bytes(raw)), "path", free_form=False)
    except _NotUtf8:
        return Refusal("path", None)


def form_refusal(raw: bytes, where: str) -> Refusal | None:
    """Every name and value of a query string or URL-encoded form, percent-decoded."""
    for pair in raw.split(b"&"):
        for part in pair.split(b"=", 1):
            try:
                text = _text(unquote_to_bytes(part.replace(b"+", b" ")))
            except _NotUtf8:
                return Refusal(where, None)
            if refusal := _check(text, where):
                return refusal
    return None


def json_refusal(raw: bytes) -> Refusal | None:
    """Every key and string of a JSON body; a body that is not JSON is left to the route."""
    if not raw.strip():
        return None
    try:
        # As FastAPI reads it: bytes in any UTF encoding, surrogates passed through.
        document = json.loads(raw)
    except UnicodeDecodeError:
        return Refusal("body", None)
    except (ValueError, RecursionError):
        return None
    pending: list[Any] = [document]
    while pending:  # no recursion: a deeply nested body cannot exhaust the stack
        item = pending.pop()
        if isinstance(item, str):
            if refusal := _check(item, "body"):
                return refusal
        elif isinstance(item, dict):
            pending.extend(item.keys())
            pending.extend(item.values())
        elif isinstance(item, list):
            pending.extend(item)
    return None


def _body_kind(headers: Headers) -> str | None:
    """How FastAPI will parse the body: "json", "form", or None (not inspected here)."""
    content_type = headers.get("content-type")
    if not content_type:
        return "json"  # FastAPI parses a body without a content type as JSON
    media_type = content_type.split(";", 1)[0].strip().lower()
    if media_type == "application/json" or (
        media_type.startswith("application/") and media_type.endswith("+json")
    ):
        return "json"
    if media_type == "application/x-www-form-urlencoded":
        return "form"
    return None


class InputGuard:
    """ASGI middleware: see the module's docstring. ``exempt_bodies``: paths whose body is
    passed on unread (checked by their own handler)."""

    def __init__(self, app: ASGIApp, exempt_bodies: frozenset[str] = frozenset()) -> None:
        self.app = app
        self.exempt_bodies = exempt_bodies

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        refusal = path_refusal(scope) or form_refusal(scope.get("query_string", b""), "query")
        if refusal is not None:
            await self._refuse(scope, receive, send, refusal)
            return
        kind = _body_kind(Headers(scope=scope))
        if kind is None or scope["path"] in self.exempt_bodies:
            await self.app(scope, receive, send)
            return
        try:
            body = await _read_body(receive, MAX_INSPECTED_BODY)
        except _ClientGone:
            return
        except _TooLarge:
            log.info("input_refused", where="body", reason="too_large")
            await _answer(scope, 413, "payload_too_large", TOO_LARGE)(scope, receive, send)
            return
        refusal = json_refusal(body) if kind == "json" else form_refusal(body, "body")
        if refusal is not None:
            await self._refuse(scope, receive, send, refusal)
            return
        await self.app(scope, _replay(body, receive), send)

    async def _refuse(self, scope: Scope, receive: Receive, send: Send, refusal: Refusal) -> None:
        log.info(
            "input_refused",
            where=refusal.where,
            char=describe(refusal.char) if refusal.char is not None else "not UTF-8",
        )
        await _answer(scope, 422, "invalid_text", INVALID_TEXT)(scope, receive, send)


def _answer(scope: Scope, status: int, code: str, message: str) -> JSONResponse:
    if scope["path"].startswith(SPEC_ERROR_PREFIXES):  # GeoReport v2: a list of errors
        return JSONResponse(status_code=status, content=[{"code": status, "description": message}])
    return error_response(status, code, message)


async def _read_body(receive: Receive, limit: int) -> bytes:
    """The whole request body; _TooLarge as soon as it is longer than ``limit``."""
    chunks: list[bytes] = []
    size = 0
    while True:
        message = await receive()
        if message["type"] != "http.request":
            raise _ClientGone
        chunk = message.get("body", b"")
        size += len(chunk)
        if size > limit:
            raise _TooLarge
        chunks.append(chunk)
        if not message.get("more_body", False):
            return b"".join(chunks)


def _replay(body: bytes, receive: Receive) -> Receive:
    """A receive that gives the body already read once, then waits as the original would."""
    sent = False

    async def replay() -> Message:
        nonlocal sent
        if not sent:
            sent = True
            return {"type": "http.request", "body": body, "more_body": False}
        return await receive()

    return replay
