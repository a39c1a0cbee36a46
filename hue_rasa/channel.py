"""The gateway's input channel: the only way the service talks to the Rasa server.

Unlike Rasa's REST channel it refuses requests without the shared secret, carries the
metadata the service attaches (channel, user identity, location, attachments) into the
tracker, and reports a failure as a failure instead of an empty 200:

- Rasa itself fails: HTTP 500.
- A custom action could not be run (the action server is down, restarting or answered with an
  error): Rasa would log it, drop the action's events, carry on and save the turn, so the
  citizen got an empty answer and the conversation went on without the action. Here the turn
  is abandoned before it is saved (the tracker stays as it was before the message) and the
  answer is HTTP 503: the service keeps the message and sends it again later.
- A replay (``"replay": "once"``) of a message whose user event is already in the tracker is
  not run again: the replies that followed it are returned (``"already_processed": true``).
  ``"replay": "check"`` only asks whether it was processed.
"""

from __future__ import annotations

import asyncio
import hmac
import logging
from contextvars import ContextVar
from typing import Any, Awaitable, Callable, Dict, List, Optional

import aiohttp
from rasa.core.actions.action import ActionExecutionRejection, RemoteAction
from rasa.core.channels.channel import CollectingOutputChannel, InputChannel, UserMessage
from rasa.shared.core.events import BotUttered, UserUttered
from sanic import Blueprint, response
from sanic.request import Request
from sanic.response import HTTPResponse

logger = logging.getLogger(__name__)

SECRET_HEADER = "X-Gateway-Secret"  # noqa: S105 - a header name, not a secret
MIN_SECRET_LENGTH = 16
REPLAY_MODES = {"once", "check"}

# True while this request's message is handled (Rasa runs a message's actions in the
# request's own task).
_in_gateway_turn: ContextVar[bool] = ContextVar("in_gateway_turn", default=False)


class ActionServerFailedError(BaseException):
    """A custom action failed during a gateway turn: the turn is abandoned, not saved.

    A BaseException so that it passes the ``except Exception`` with which Rasa's processor
    swallows action failures (``MessageProcessor._run_action``); nothing between the action and
    ``Agent.handle_message`` catches it, and the lock store's context manager releases the
    conversation's lock on the way out.
    """

    def __init__(self, action: str) -> None:
        super().__init__(action)
        self.action = action


def watch_remote_actions() -> None:
    """Make a failing custom action abandon a gateway turn (idempotent).

    A rejection (``ActionExecutionRejection``, e.g. a form refusing a value) is dialogue, not
    a failure; outside a gateway request (``rasa shell``, tests) nothing changes.
    """
    if getattr(RemoteAction.run, "_gateway_watched", False):
        return
    original = RemoteAction.run

    async def run(self: RemoteAction, *args: Any, **kwargs: Any) -> Any:
        try:
            return await original(self, *args, **kwargs)
        except ActionExecutionRejection:
            raise
        except Exception as exc:
            if _in_gateway_turn.get():
                raise ActionServerFailedError(self.name()) from exc
            raise

    run._gateway_watched = True  # type: ignore[attr-defined]
    RemoteAction.run = run  # type: ignore[method-assign]


def _replies_after(tracker: Any, message_id: str) -> Optional[List[Dict[str, Any]]]:
    """The bot messages that followed the user event ``message_id``; None if it is not there.

    Reads ``tracker.events``, not ``applied_events()``: inside a form's happy path the latter
    leaves out the user events between two runs of the form.
    """
    replies: Optional[List[Dict[str, Any]]] = None
    for event in tracker.events:
        if isinstance(event, UserUttered):
            if replies is not None:
                break
            if event.message_id == message_id:
                replies = []
        elif isinstance(event, BotUttered) and replies is not None:
            fields = {"text": event.text, **(event.data or {})}
            replies.append(
                {
                    "recipient_id": tracker.sender_id,
                    **{k: v for k, v in fields.items() if v is not None},
                }
            )
    return replies


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
        watch_remote_actions()

    def _authorised(self, request: Request) -> bool:
        given = request.headers.get(SECRET_HEADER, "")
        return hmac.compare_digest(given.encode(), self.secret.encode())

    def blueprint(self, on_new_message: Callable[[UserMessage], Awaitable[Any]]) -> Blueprint:
        webhook = Blueprint("gateway_webhook", __name__)

        @webhook.route("/", methods=["GET"])
        async def health(_: Request) -> HTTPResponse:
            return response.json({"status": "ok"})

        @webhook.route("/ready", methods=["GET"])
        async def ready(request: Request) -> HTTPResponse:
            """200 when the action server answers too (the service replays only then)."""
            endpoint = request.app.ctx.agent.action_endpoint
            url = endpoint.url.rsplit("/", 1)[0] + "/health" if endpoint else None
            try:
                timeout = aiohttp.ClientTimeout(total=3)
                async with aiohttp.ClientSession(timeout=timeout) as http:
                    async with http.get(url) as answer:
                        actions = "ok" if answer.status == 200 else f"HTTP {answer.status}"
            except (aiohttp.ClientError, asyncio.TimeoutError, TypeError, ValueError):
                actions = "unreachable"
            return response.json({"actions": actions}, status=200 if actions == "ok" else 503)

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
                or body.get("replay") not in {None, *REPLAY_MODES}
                or (body.get("replay") and not isinstance(body.get("message_id"), str))
            ):
                return response.json(
                    {"error": "expected JSON {sender, message, metadata?, message_id?, replay?}"},
                    status=400,
                )
            agent = request.app.ctx.agent
            if body.get("replay"):
                async with agent.lock_store.lock(body["sender"]):
                    tracker = await agent.tracker_store.retrieve(body["sender"])
                done = _replies_after(tracker, body["message_id"]) if tracker else None
                if done is not None or body["replay"] == "check":
                    return response.json(
                        {"messages": done or [], "already_processed": done is not None}
                    )
            metadata = body.get("metadata") or {}
            collector = CollectingOutputChannel()
            token = _in_gateway_turn.set(True)
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
            except ActionServerFailedError as failed:
                logger.warning(
                    "gateway: custom action %s failed; message %s not kept (turn abandoned)",
                    failed.action,
                    body.get("message_id"),
                    exc_info=failed.__cause__,
                )
                return response.json({"error": "action_failed", "action": failed.action}, 503)
            except Exception:
                logger.exception("gateway message failed for sender %s", body["sender"])
                return response.json({"error": "processing failed"}, status=500)
            finally:
                _in_gateway_turn.reset(token)
            return response.json({"messages": collector.messages, "already_processed": False})

        return webhook
