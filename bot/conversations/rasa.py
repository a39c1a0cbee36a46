"""Client for the Rasa server's gateway channel (hue_rasa.channel.GatewayInput)."""

from __future__ import annotations

from typing import Any

import httpx

SECRET_HEADER = "X-Gateway-Secret"  # noqa: S105 - a header name, not a secret
WEBHOOK_PATH = "/webhooks/gateway/webhook"


class RasaUnavailableError(RuntimeError):
    """Rasa did not answer, or answered with an error."""


class RasaClient:
    """Sends one citizen message to Rasa and returns the assistant's replies."""

    def __init__(self, http: httpx.AsyncClient, *, base_url: str, secret: str) -> None:
        self._http = http
        self._url = base_url.rstrip("/") + WEBHOOK_PATH
        self._secret = secret

    async def send(
        self, *, sender_id: str, text: str, metadata: dict[str, Any], message_id: str
    ) -> list[dict[str, Any]]:
        try:
            response = await self._http.post(
                self._url,
                json={
                    "sender": sender_id,
                    "message": text,
                    "metadata": metadata,
                    "message_id": message_id,
                },
                headers={SECRET_HEADER: self._secret},
            )
            response.raise_for_status()
            messages = response.json()["messages"]
        except (httpx.HTTPError, ValueError, KeyError, TypeError) as exc:
            raise RasaUnavailableError(f"{type(exc).__name__}: {exc}") from exc
        if not isinstance(messages, list):
            raise RasaUnavailableError("Rasa replied without a list of messages")
        return messages

    async def healthy(self) -> bool:
        try:
            response = await self._http.get(self._url.removesuffix("/webhook") + "/")
        except httpx.HTTPError:
            return False
        return response.is_success
