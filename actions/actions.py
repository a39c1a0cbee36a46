"""Actions: read the tracker, pick a response by name, answer."""

from __future__ import annotations

import json
from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.executor import CollectingDispatcher

from actions.labels import ASPECT_LABELS, INTENT_LABELS

# Intents never offered as a guess: they are answers, not requests.
_NOT_OFFERED = {"nlu_fallback", "affirm", "deny", "out_of_scope", "chitchat"}
MAX_GUESSES = 3


class ActionAnswerProcedure(Action):
    """Answers a question about a procedure.

    Until the catalogue is loaded (issue #3) it says honestly that it cannot look the
    procedure up and where to find it; it keeps the procedure in context for follow-ups.
    """

    def name(self) -> str:
        return "action_answer_procedure"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[dict[str, Any]]:
        intent = tracker.get_intent_of_latest_message() or "ask_procedure"
        dispatcher.utter_message(
            response="utter_procedure_catalogue_pending",
            aspect_label=ASPECT_LABELS.get(intent, ASPECT_LABELS["ask_procedure"]),
        )
        return []


class ActionAcknowledgePlace(Action):
    """Acknowledges a place given outside any flow and offers what to do there."""

    def name(self) -> str:
        return "action_acknowledge_place"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[dict[str, Any]]:
        commune = tracker.get_slot("commune")
        dispatcher.utter_message(
            response="utter_place_received",
            commune_label=commune or "",
        )
        return []


def _payload(intent: str, entities: list[dict[str, Any]]) -> str:
    """A button payload that re-sends the intent with the entities already understood."""
    values = {e["entity"]: e["value"] for e in entities if e.get("entity") and e.get("value")}
    return f"/{intent}{json.dumps(values, ensure_ascii=False)}" if values else f"/{intent}"


class ActionDefaultAskAffirmation(Action):
    """First stage of the two-stage fallback: offer the top guesses as Vietnamese buttons."""

    def name(self) -> str:
        return "action_default_ask_affirmation"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[dict[str, Any]]:
        latest = tracker.latest_message or {}
        ranking = latest.get("intent_ranking") or []
        entities = latest.get("entities") or []
        guesses = [
            r["name"]
            for r in ranking
            if r.get("name") in INTENT_LABELS and r["name"] not in _NOT_OFFERED
        ][:MAX_GUESSES]
        buttons = [
            {"title": INTENT_LABELS[intent], "payload": _payload(intent, entities)}
            for intent in guesses
        ]
        buttons.append({"title": "Không phải các ý trên", "payload": "/deny"})
        dispatcher.utter_message(response="utter_ask_affirmation_none", buttons=buttons)
        return []
