"""Actions run on tracker snapshots; their output is compared message for message."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from rasa_sdk import Tracker
from rasa_sdk.executor import CollectingDispatcher

from actions.actions import (
    ActionAcknowledgePlace,
    ActionDefaultAskAffirmation,
)
from actions.labels import INTENT_LABELS
from actions.service_client import ServiceClient

# No service listens here: the actions that would weigh the message with it go on without.
NO_SERVICE = "http://127.0.0.1:9"

SNAPSHOTS = Path(__file__).parent / "snapshots"


def tracker(name: str, **overrides) -> Tracker:
    state = json.loads((SNAPSHOTS / f"{name}.json").read_text(encoding="utf-8"))
    state.update(overrides)
    return Tracker.from_dict(state)


async def run(action, tracker_: Tracker) -> tuple[list, list]:
    dispatcher = CollectingDispatcher()
    events = await action.run(dispatcher, tracker_, {})
    return dispatcher.messages, events


@pytest.mark.asyncio
async def test_fallback_offers_the_top_guesses_as_vietnamese_buttons() -> None:
    messages, events = await run(
        ActionDefaultAskAffirmation(), tracker("low_confidence_procedure_fee")
    )
    assert events == []
    [message] = messages
    assert message["response"] == "utter_ask_affirmation_none"
    assert message["buttons"] == [
        {"title": "Hỏi lệ phí", "payload": '/ask_procedure_fee{"procedure": "cccd"}'},
        {
            "title": "Hỏi thời gian giải quyết",
            "payload": '/ask_procedure_time{"procedure": "cccd"}',
        },
        {
            "title": "Hỏi về một thủ tục hành chính",
            "payload": '/ask_procedure{"procedure": "cccd"}',
        },
        {"title": "Không phải các ý trên", "payload": "/deny"},
    ]


@pytest.mark.asyncio
async def test_fallback_with_no_usable_guess_still_offers_a_way_out() -> None:
    snapshot = tracker("low_confidence_procedure_fee")
    snapshot.latest_message["intent_ranking"] = [{"name": "out_of_scope", "confidence": 0.5}]
    messages, _ = await run(ActionDefaultAskAffirmation(), snapshot)
    assert messages[0]["buttons"] == [{"title": "Không phải các ý trên", "payload": "/deny"}]


@pytest.mark.asyncio
async def test_place_acknowledged_with_the_commune() -> None:
    snapshot = tracker("low_confidence_procedure_fee", slots={"commune": "Thuận Hóa"})
    messages, _ = await run(ActionAcknowledgePlace(ServiceClient(NO_SERVICE)), snapshot)
    assert messages[0]["response"] == "utter_place_received"
    assert messages[0]["commune_label"] == "Thuận Hóa"


def test_every_domain_intent_that_can_be_offered_has_a_label() -> None:
    import yaml

    from tests.engine.conftest import ROOT

    domain = yaml.safe_load((ROOT / "domain.yml").read_text(encoding="utf-8"))
    offered = set(domain["intents"]) - {"affirm", "deny", "out_of_scope", "chitchat"}
    assert offered <= set(INTENT_LABELS)
