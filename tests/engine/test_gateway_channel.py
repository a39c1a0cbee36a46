"""The gateway channel's fault handling, on Rasa's own classes (the whole channel against a
real Rasa server is in tests/e2e: test_assistant.py and test_faults.py)."""

from __future__ import annotations

import socket

import pytest
from rasa.core.actions.action import RemoteAction
from rasa.core.channels.channel import CollectingOutputChannel
from rasa.core.nlg import TemplatedNaturalLanguageGenerator
from rasa.shared.core.domain import Domain
from rasa.shared.core.events import (
    ActionExecuted,
    ActiveLoop,
    BotUttered,
    SlotSet,
    UserUttered,
)
from rasa.shared.core.trackers import DialogueStateTracker
from rasa.shared.exceptions import RasaException
from rasa.utils.endpoints import EndpointConfig

from hue_rasa import channel
from hue_rasa.channel import ActionServerFailedError, watch_remote_actions


def closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


async def run_unreachable_action() -> None:
    action = RemoteAction(
        "action_submit_report", EndpointConfig(f"http://127.0.0.1:{closed_port()}/webhook")
    )
    await action.run(
        CollectingOutputChannel(),
        TemplatedNaturalLanguageGenerator({}),
        DialogueStateTracker("citizen", []),
        Domain.empty(),
    )


@pytest.mark.asyncio
async def test_an_unreachable_action_server_abandons_a_gateway_turn() -> None:
    watch_remote_actions()
    watch_remote_actions()  # once is enough; twice changes nothing
    token = channel._in_gateway_turn.set(True)
    try:
        # A BaseException: Rasa's processor, which catches Exception, lets it through.
        with pytest.raises(ActionServerFailedError) as failed:
            await run_unreachable_action()
        assert not isinstance(failed.value, Exception)
        assert failed.value.action == "action_submit_report"
    finally:
        channel._in_gateway_turn.reset(token)


@pytest.mark.asyncio
async def test_outside_a_gateway_turn_rasa_behaves_as_it_always_did() -> None:
    watch_remote_actions()
    with pytest.raises(RasaException):
        await run_unreachable_action()


def test_the_replies_of_a_message_are_found_inside_a_form() -> None:
    # Inside a form's happy path `applied_events()` drops the user events between two runs
    # of the form: the channel reads every event instead.
    events = [
        ActionExecuted("action_listen"),
        UserUttered("đèn đường tắt", message_id="1"),
        ActionExecuted("report_form"),
        ActiveLoop("report_form"),
        SlotSet("requested_slot", "report_address"),
        BotUttered("Sự việc ở đâu ạ?"),
        ActionExecuted("action_listen"),
        UserUttered("12 Nguyễn Trãi", message_id="2"),
        ActionExecuted("report_form"),
        BotUttered("Bạn có ảnh không?", {"buttons": [{"title": "Bỏ qua", "payload": "/deny"}]}),
        ActionExecuted("action_listen"),
    ]
    tracker = DialogueStateTracker.from_events("citizen", events)
    assert channel._replies_after(tracker, "2") == [
        {
            "recipient_id": "citizen",
            "text": "Bạn có ảnh không?",
            "buttons": [{"title": "Bỏ qua", "payload": "/deny"}],
        }
    ]
    assert channel._replies_after(tracker, "1") == [
        {"recipient_id": "citizen", "text": "Sự việc ở đâu ạ?"}
    ]
    assert channel._replies_after(tracker, "3") is None
