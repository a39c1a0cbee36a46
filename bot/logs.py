"""Structured logging: key=value lines in development, JSON lines in production.

Secrets never reach a log line: uvicorn's access log shows a request's query parameters by
name only (``?api_key=***&service_code=***``; Open311 clients may put their key there, a web
chat's photo link carries its session id), and every structlog value has the secret
parameters of any URL in it (``api_key=``, ``token=``, ``session_id=``…) and Telegram bot
tokens masked — tracebacks too, which are plain text, never rendered with their local
variables (as structlog's console renderer would when the ``rich`` package is installed).
"""

from __future__ import annotations

import logging
import re
from collections.abc import MutableMapping
from typing import Any

import structlog

MASK = "***"
ACCESS_LOGGER = "uvicorn.access"
# A secret query parameter in any text: its value is masked.
_SECRET_PARAMETER = re.compile(
    r"(?i)\b((?:api_?key|key|token|access_token|secret|password|session_id|signature|"
    r"init_?data|launch(?:_token)?)=)[^&\s\"'#]+"
)
# A Telegram bot token, as in the Bot API's URLs (/bot<id>:<secret>/method).
_BOT_TOKEN = re.compile(r"\b(bot)?\d{5,}:[A-Za-z0-9_-]{30,}")


def scrub_text(text: str) -> str:
    """``text`` with the values of secret query parameters and bot tokens masked."""
    text = _SECRET_PARAMETER.sub(lambda m: m.group(1) + MASK, text)
    return _BOT_TOKEN.sub(lambda m: (m.group(1) or "") + MASK, text)


def scrub_target(target: str) -> str:
    """A request target (path?query) with every query value masked, names kept."""
    path, separator, query = target.partition("?")
    if not separator:
        return target
    names = (part.split("=", 1)[0] for part in query.split("&") if part)
    return path + "?" + "&".join(f"{name}={MASK}" for name in names)


class AccessLogScrubber(logging.Filter):
    """On uvicorn's access logger: its record's arguments are (client, method, target,
    http version, status); the target's query values are masked before any handler runs."""

    def filter(self, record: logging.LogRecord) -> bool:
        args = record.args
        if isinstance(args, tuple) and len(args) >= 3 and isinstance(args[2], str):
            record.args = (*args[:2], scrub_target(args[2]), *args[3:])
        return True


def _scrub_event(_: Any, __: str, event_dict: MutableMapping[str, Any]) -> dict[str, Any]:
    return {
        key: scrub_text(value) if isinstance(value, str) else value
        for key, value in event_dict.items()
    }


def install_access_log_scrubber() -> None:
    """Once per process: uvicorn's access logger masks query values."""
    access = logging.getLogger(ACCESS_LOGGER)
    if not any(isinstance(f, AccessLogScrubber) for f in access.filters):
        access.addFilter(AccessLogScrubber())


def configure_logging(*, level: str = "INFO", json: bool = False) -> None:
    renderer: structlog.typing.Processor = (
        structlog.processors.JSONRenderer(ensure_ascii=False)
        if json
        # Plain tracebacks: with `rich` installed (schemathesis brings it) structlog would
        # render every local variable of every frame, slowly and with citizens' data in it.
        else structlog.dev.ConsoleRenderer(
            colors=False, exception_formatter=structlog.dev.plain_traceback
        )
    )
    structlog.configure(
        processors=[
            structlog.contextvars.merge_contextvars,
            structlog.processors.add_log_level,
            structlog.processors.TimeStamper(fmt="iso", utc=True),
            structlog.processors.format_exc_info,  # a plain traceback, scrubbed like the rest
            _scrub_event,
            renderer,
        ],
        wrapper_class=structlog.make_filtering_bound_logger(
            logging.getLevelNamesMapping().get(level.upper(), logging.INFO)
        ),
        cache_logger_on_first_use=True,
    )
    install_access_log_scrubber()


log = structlog.get_logger("bot")
