"""The gateway's input channel: the only way the service talks to the Rasa server.

Unlike Rasa's REST channel it refuses requests without the shared secret, carries the
metadata the service attaches (channel, user identity, location, attachments) into the
tracker, and reports a failure as a failure (HTTP 500) instead of an empty 200.
"""

from __future__ import annotations

import hmac
import logging
from typing import Any, Awaitable, Callable, Dict, Optional

from rasa.core.channels.channel import CollectingOutputChannel, InputChannel, UserMessage
from sanic import Blueprint, response
from sanic.request import Request
from sanic.response import HTTPResponse

logger = logging.getLogger(__name__)

SECRET_HEADER = "X-Gateway-Secret"  # noqa: S105 - a header name, not a secret
MIN_SECRET_LENGTH = 16


class GatewayInput(InputChannel):
    """Receives citizens' messages from the service (``bot.gateway``)."""

    @classmethod
    def name(cls) -> str:
        return "gateway"

    @classmethod
    def from_credentials(cls, credentials: Optional[Dict[str, Any]]) -> InputChannel:
        secret = (credentials or {}).get("secret") or ""
        if len(secret) < MIN_SECRET_LENGTH:
            raise ValueError(
                f"The gateway channel needs a shared secret of at least {MIN_SECRET_LENGTH} "
                "characters (credentials.yml: gateway.secret, env GATEWAY_SECRET)."
            )
        return cls(secret)

    def __init__(self, secret: str) -> None:
        self.secret = secret

    def _authorised(self, request: Request) -> bool:
        given = request.headers.get(SECRET_HEADER, "")
        return hmac.compare_digest(given.encode(), self.secret.encode())

    def blueprint(self, on_new_message: Callable[[UserMessage], Awaitable[Any]]) -> Blueprint:
        webhook = Blueprint("gateway_webhook", __name__)

        @webhook.route("/", methods=["GET"])
        async def health(_: Request) -> HTTPResponse:
            return response.json({"status": "ok"})

        @webhook.route("/webhook", methods=["POST"])
        async def receive(request: Request) -> HTTPResponse:
            if not self._authorised(request):
                return response.json({"error": "unauthorised"}, status=401)
            body = request.json if isinstance(request.json, dict) else None
            if (
                body is None
                or not isinstance(body.get("sender"), str)
                or not body["sender"]
                or not isinstance(body.get("message"), str)
                or not isinstance(body.get("metadata", {}), dict)
            ):
                return response.json(
                    {"error": "expected JSON {sender, message, metadata?, message_id?}"},
                    status=400,
                )
            metadata = body.get("metadata") or {}
            collector = CollectingOutputChannel()
            try:
                await on_new_message(
                    UserMessage(
                        body["message"],
                        collector,
                        body["sender"],
                        input_channel=str(metadata.get("channel") or self.name()),
                        metadata=metadata,
                        message_id=body.get("message_id"),
                    )
                )
            except Exception:
                logger.exception("gateway message failed for sender %s", body["sender"])
                return response.json({"error": "processing failed"}, status=500)
            return response.json({"messages": collector.messages})

        return webhook
