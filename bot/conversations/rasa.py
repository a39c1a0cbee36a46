"""Client for the Rasa server's gateway channel (hue_rasa.channel.GatewayInput).

aiohttp rather than httpx for this one hop: every citizen message crosses it, and against an
instant stand-in of Rasa aiohttp took ~0.65 ms a request where httpx took ~1.35 ms on this
machine (docs/benchmarks.md). aiohttp is already installed for aiogram.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import aiohttp

from bot.settings import Settings

SECRET_HEADER = "X-Gateway-Secret"  # noqa: S105 - a header name, not a secret
WEBHOOK_PATH = "/webhooks/gateway/webhook"


class RasaUnavailableError(RuntimeError):
    """Rasa did not answer, or answered with an error."""


class RasaClient:
    """Sends one citizen message to Rasa and returns the assistant's replies."""

    def __init__(self, http: aiohttp.ClientSession, *, base_url: str, secret: str) -> None:
        self._http = http
        self._url = base_url.rstrip("/") + WEBHOOK_PATH
        self._secret = secret

    async def send(
        self, *, sender_id: str, text: str, metadata: dict[str, Any], message_id: str
    ) -> list[dict[str, Any]]:
        try:
            async with self._http.post(
                self._url,
                json={
                    "sender": sender_id,
                    "message": text,
                    "metadata": metadata,
                    "message_id": message_id,
                },
                headers={SECRET_HEADER: self._secret},
            ) as response:
                response.raise_for_status()
                messages = (await response.json(content_type=None))["messages"]
        except (aiohttp.ClientError, TimeoutError, ValueError, KeyError, TypeError) as exc:
            raise RasaUnavailableError(f"{type(exc).__name__}: {exc}") from exc
        if not isinstance(messages, list):
            raise RasaUnavailableError("Rasa replied without a list of messages")
        return messages

    async def healthy(self) -> bool:
        try:
            async with self._http.get(self._url.removesuffix("/webhook") + "/") as response:
                return response.ok
        except (aiohttp.ClientError, TimeoutError):
            return False


@asynccontextmanager
async def open_rasa(settings: Settings) -> AsyncIterator[RasaClient]:
    """A client with its own connection pool, closed on exit (one per process)."""
    timeout = aiohttp.ClientTimeout(total=settings.rasa_timeout_seconds)
    async with aiohttp.ClientSession(timeout=timeout) as http:
        yield RasaClient(
            http, base_url=settings.rasa_url, secret=settings.gateway_secret.get_secret_value()
        )
