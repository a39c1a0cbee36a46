"""Client for the Rasa server's gateway channel (hue_rasa.channel.GatewayInput).

aiohttp rather than httpx for this one hop: every citizen message crosses it, and against an
instant stand-in of Rasa aiohttp took ~0.65 ms a request where httpx took ~1.35 ms on this
machine (docs/benchmarks.md). aiohttp is already installed for aiogram.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any, Literal

import aiohttp

from bot.settings import Settings

SECRET_HEADER = "X-Gateway-Secret"  # noqa: S105 - a header name, not a secret
WEBHOOK_PATH = "/webhooks/gateway/webhook"


class RasaUnavailableError(RuntimeError):
    """Rasa did not answer, or answered with an error.

    ``reached`` is True when Rasa answered (an error status): it was up but could not finish
    the message (e.g. a custom action failed); False when it could not be reached at all.
    """

    def __init__(self, message: str, *, reached: bool = False) -> None:
        super().__init__(message)
        self.reached = reached


@dataclass(frozen=True)
class Replayed:
    """The outcome of sending a stored message again (``RasaClient.replay``)."""

    messages: list[dict[str, Any]]
    already_processed: bool  # Rasa had handled it before: ``messages`` are the replies it gave


class RasaClient:
    """Sends one citizen message to Rasa and returns the assistant's replies."""

    def __init__(self, http: aiohttp.ClientSession, *, base_url: str, secret: str) -> None:
        self._http = http
        self._url = base_url.rstrip("/") + WEBHOOK_PATH
        self._secret = secret

    async def send(
        self, *, sender_id: str, text: str, metadata: dict[str, Any], message_id: str
    ) -> list[dict[str, Any]]:
        """The assistant's replies, each response's ``custom`` part merged back in."""
        body = await self._post(
            {"sender": sender_id, "message": text, "metadata": metadata, "message_id": message_id}
        )
        return merge_custom(body["messages"])

    async def replay(
        self,
        *,
        sender_id: str,
        text: str,
        metadata: dict[str, Any],
        message_id: str,
        mode: Literal["once", "check"],
    ) -> Replayed:
        """Send a stored message again; Rasa runs it only if its tracker does not hold it yet.

        ``mode="check"`` never runs it: ``already_processed`` says whether Rasa had.
        """
        body = await self._post(
            {
                "sender": sender_id,
                "message": text,
                "metadata": metadata,
                "message_id": message_id,
                "replay": mode,
            }
        )
        return Replayed(
            merge_custom(body["messages"]), already_processed=body.get("already_processed") is True
        )

    async def _post(self, payload: dict[str, Any]) -> dict[str, Any]:
        try:
            async with self._http.post(
                self._url, json=payload, headers={SECRET_HEADER: self._secret}
            ) as response:
                if not response.ok:
                    detail = (await response.text())[:200]
                    raise RasaUnavailableError(
                        f"HTTP {response.status}: {detail}", reached=response.status != 401
                    )
                body = await response.json(content_type=None)
        except (aiohttp.ClientError, TimeoutError, ValueError) as exc:
            raise RasaUnavailableError(f"{type(exc).__name__}: {exc}") from exc
        if not isinstance(body, dict) or not isinstance(body.get("messages"), list):
            raise RasaUnavailableError("Rasa replied without a list of messages", reached=True)
        return body

    async def healthy(self) -> bool:
        """Rasa answers (it may still be unable to run custom actions)."""
        return await self._get_ok("/")

    async def ready(self) -> bool:
        """Rasa answers and reaches the action server: a message can be fully handled."""
        return await self._get_ok("/ready")

    async def _get_ok(self, path: str) -> bool:
        try:
            async with self._http.get(self._url.removesuffix("/webhook") + path) as response:
                return response.ok
        except (aiohttp.ClientError, TimeoutError):
            return False


def merge_custom(replies: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Rasa sends a response's ``custom`` part as a separate message; put it back.

    A response such as the report form's "where is it?" carries text, buttons and
    ``custom: {request_location: true}``; channels render them as one message.
    """
    merged: list[dict[str, Any]] = []
    for reply in replies:
        only_custom = reply.get("custom") is not None and not any(
            reply.get(k) for k in ("text", "buttons", "image", "attachment")
        )
        if only_custom and merged and merged[-1].get("custom") is None:
            merged[-1] = {**merged[-1], "custom": reply["custom"]}
        else:
            merged.append(reply)
    return merged


@asynccontextmanager
async def open_rasa(settings: Settings) -> AsyncIterator[RasaClient]:
    """A client with its own connection pool, closed on exit (one per process)."""
    timeout = aiohttp.ClientTimeout(total=settings.rasa_timeout_seconds)
    async with aiohttp.ClientSession(timeout=timeout) as http:
        yield RasaClient(
            http, base_url=settings.rasa_url, secret=settings.gateway_secret.get_secret_value()
        )
