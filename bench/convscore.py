"""What the assistant did with one citizen message, read from Rasa's tracker, and whether
it was the outcome the message should have had.

A turn is read from the events the message added to Rasa's tracker (the intent predicted,
the actions run, the slots they set, the form's questions, the responses by name) and from
the replies of the chat API (the tracking code). Nothing here talks to a server: the harness
(bench/conversations.py) records, this module reads and judges, and the unit tests feed it
recorded snapshots.
"""

from __future__ import annotations

import ast
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from bench.convdata import Conversation, Expectation

ROOT = Path(__file__).resolve().parent.parent
FORM = "report_form"
TRACKING_CODE = re.compile(r"\bPA-\d{4}-\d{6}\b")
CODE_LINE = re.compile(r"Mã thủ tục: (\d[\d.]*\d)")
# The actions that answer a procedure: the answer itself, and those that hand a message to
# it (the weighing of an unclear message, a place given with a procedure in context, and the
# report form, which answers a procedure question asked in the middle of a report).
ANSWER_ACTIONS = frozenset(
    {"action_answer_procedure", "action_weigh_unclear", "action_acknowledge_place", "report_form"}
)
SUBMIT_ACTION = "action_submit_report"
# Responses that ask the citizen to say it again or pick what they meant.
ASKED_BACK = {
    "utter_ask_affirmation_none",
    "utter_ask_rephrase",
    "utter_default",
    "utter_ask_procedure_name",
}
# The small-talk response of each act (utter_chitchat answers no act the writers label).
SMALLTALK = {
    "utter_greet": "greet",
    "utter_you_are_welcome": "thanks",
    "utter_goodbye": "goodbye",
    "utter_iamabot": "bot_challenge",
    "utter_help": "help",
    "utter_chitchat": "chitchat",
}
# The form did not take the answer to its question and says so.
FORM_REFUSALS = {
    "utter_report_description_too_short",
    "utter_report_category_unclear",
    "utter_report_commune_unknown",
    "utter_report_photo_expected",
    "utter_report_what_to_change",
}
CANCELLED = {"utter_report_cancelled", "utter_cancel"}
PLACE_SLOTS = ("report_address", "report_commune", "report_latitude")
# Outcomes that treat a message as in scope (for out-of-scope messages answered anyway).
IN_SCOPE_LABELS = {"answered", "disambiguation", "report_started", "status"}
LABELS = (
    "answered",
    "disambiguation",
    "asked_back",
    "not_found",
    "out_of_scope",
    "report_started",
    "smalltalk",
    "status",
    "other",
    "error",
)


def intent_aspects(path: Path = ROOT / "actions" / "actions.py") -> dict[str, str]:
    """The action's own intent → aspect map (INTENT_ASPECTS), read from its source.

    Read, not copied: the action server's environment cannot be imported here, and a copy
    would drift.
    """
    tree = ast.parse(path.read_text(encoding="utf-8"))
    for node in tree.body:
        if isinstance(node, ast.Assign) and any(
            isinstance(t, ast.Name) and t.id == "INTENT_ASPECTS" for t in node.targets
        ):
            value = ast.literal_eval(node.value)
            return {str(k): str(v) for k, v in value.items()}
    raise LookupError(f"INTENT_ASPECTS not found in {path}")


@dataclass
class TurnRecord:
    """What the harness saw of one message: the chat API's replies, the tracker events the
    message added, and the tracker's state (``slots``, ``active_loop``) before and after."""

    replies: list[dict[str, Any]] = field(default_factory=list)
    events: list[dict[str, Any]] = field(default_factory=list)
    before: dict[str, Any] = field(default_factory=dict)
    after: dict[str, Any] = field(default_factory=dict)
    error: str | None = None


@dataclass
class Outcome:
    """What the assistant did with one message."""

    intent: str | None = None  # as predicted (may be nlu_fallback)
    top_intent: str | None = None  # the classifier's best guess other than nlu_fallback
    actions: list[str] = field(default_factory=list)
    utterances: list[str] = field(default_factory=list)
    answered_code: str | None = None
    answered_aspect: str | None = None
    offered_choices: bool = False
    asked_back: bool = False
    not_found: bool = False
    out_of_scope: bool = False
    smalltalk: str | None = None
    status: bool = False
    report_active: bool = False  # the report form is active after the message
    report_started: bool = False  # …and was not before
    category: str | None = None
    place: bool = False  # the form holds a place after the message
    requested: str | None = None  # the form's pending question after the message
    asked: list[str] = field(default_factory=list)  # questions the form asked in this turn
    photo_skipped: bool = False
    urgency: str | None = None
    summary_shown: bool = False
    tracking_code: str | None = None
    cancelled: bool = False
    refusals: list[str] = field(default_factory=list)
    error: str | None = None

    @property
    def label(self) -> str:
        """One word for a first reply's outcome (the distribution's columns)."""
        if self.error:
            return "error"
        if self.answered_code:
            return "answered"
        if self.offered_choices:
            return "disambiguation"
        if self.report_started or (self.report_active and not self.out_of_scope):
            return "report_started"
        if self.out_of_scope:
            return "out_of_scope"
        if self.asked_back:
            return "asked_back"
        if self.not_found:
            return "not_found"
        if self.status:
            return "status"
        if self.smalltalk:
            return "smalltalk"
        return "other"


def _loop(state: dict[str, Any]) -> str | None:
    loop = state.get("active_loop")
    if isinstance(loop, dict):
        return loop.get("name")
    return loop if isinstance(loop, str) else None


def _slots(state: dict[str, Any]) -> dict[str, Any]:
    slots = state.get("slots")
    return slots if isinstance(slots, dict) else {}


def _top_intent(parse: dict[str, Any]) -> str | None:
    """As rasa_sdk's get_intent_of_latest_message: the first of the ranking, skipping
    nlu_fallback (the intent action_answer_procedure reads its aspect from)."""
    ranking = parse.get("intent_ranking") or []
    names = [r.get("name") for r in ranking if r.get("name") != "nlu_fallback"]
    if names:
        return names[0]
    name = (parse.get("intent") or {}).get("name")
    return None if name == "nlu_fallback" else name


def read_turn(record: TurnRecord, aspects: dict[str, str]) -> Outcome:
    """The outcome of one message from its tracker events and replies."""
    outcome = Outcome(error=record.error)
    action: str | None = None
    answer_custom: dict[str, Any] = {}
    answer_texts: list[str] = []
    for event in record.events:
        kind = event.get("event")
        if kind == "user":
            parse = event.get("parse_data") or {}
            outcome.intent = (parse.get("intent") or {}).get("name")
            outcome.top_intent = _top_intent(parse)
        elif kind == "action":
            action = event.get("name")
            if action and action != "action_listen":
                outcome.actions.append(action)
        elif kind == "bot":
            utter = (event.get("metadata") or {}).get("utter_action")
            if utter:
                outcome.utterances.append(utter)
            elif action in ANSWER_ACTIONS:
                answer_texts.append(event.get("text") or "")
                custom = (event.get("data") or {}).get("custom") or {}
                if isinstance(custom, dict) and isinstance(custom.get("procedure"), dict):
                    answer_custom = custom["procedure"]
        elif kind == "slot":
            name, value = event.get("name"), event.get("value")
            if name == "procedure_code" and action in ANSWER_ACTIONS:
                outcome.answered_code = str(value) if value else None
            elif name == "requested_slot" and value:
                outcome.asked.append(str(value))
    if outcome.answered_code is None and answer_texts:
        # An answer whose slot event was not seen: the code line of the answer text.
        found = CODE_LINE.search(answer_texts[-1])
        outcome.answered_code = found.group(1) if found else None
    if outcome.answered_code:
        outcome.answered_code = str(answer_custom.get("code") or outcome.answered_code)
        outcome.answered_aspect = str(
            answer_custom.get("aspect") or aspects.get(outcome.top_intent or "", "overview")
        )
    said = set(outcome.utterances)
    outcome.offered_choices = "utter_procedure_choose" in said
    outcome.asked_back = bool(said & ASKED_BACK) or "action_default_ask_affirmation" in (
        outcome.actions
    )
    outcome.not_found = "utter_procedure_not_found" in said
    outcome.out_of_scope = "utter_out_of_scope" in said
    outcome.smalltalk = next((SMALLTALK[u] for u in outcome.utterances if u in SMALLTALK), None)
    outcome.status = "action_check_report_status" in outcome.actions
    outcome.refusals = [u for u in outcome.utterances if u in FORM_REFUSALS]
    if "utter_report_photo_expected" in said:
        outcome.asked.append("report_photo_step")  # the photo asked for again, in other words
    after = _slots(record.after)
    outcome.report_active = _loop(record.after) == FORM
    outcome.report_started = outcome.report_active and _loop(record.before) != FORM
    outcome.category = after.get("report_category")
    outcome.place = any(after.get(s) not in (None, "") for s in PLACE_SLOTS)
    outcome.requested = after.get("requested_slot") if outcome.report_active else None
    outcome.photo_skipped = after.get("report_photo_step") == "skipped"
    outcome.urgency = after.get("report_urgency")
    outcome.summary_shown = "report_confirmed" in outcome.asked
    # A code in the replies counts when the report was filed (or a duplicate followed) in
    # this turn: a status answer names a code too.
    texts = " ".join(str(r.get("text") or "") for r in record.replies)
    code = TRACKING_CODE.search(texts) if SUBMIT_ACTION in outcome.actions else None
    outcome.tracking_code = code.group(0) if code else None
    outcome.cancelled = "action_cancel_report" in outcome.actions or bool(said & CANCELLED)
    return outcome


def aspect_matches(expected: str | None, got: str | None) -> bool:
    """``general`` (a procedure named without an aspect) is answered by the overview."""
    return got == ("overview" if expected == "general" else expected)


def _form_moves_on(o: Outcome, question: str) -> bool:
    """The form took the answer to ``question``: still going (not asking it again), or done."""
    if o.refusals or question in o.asked:
        return False
    return (o.report_active and o.requested != question) or o.tracking_code is not None


def judge(e: Expectation, o: Outcome, *, summary_before: bool = False) -> bool:
    """Whether the outcome is the one the message should have had."""
    if o.error:
        return False
    x = e.expect
    if x == "procedure_answer":
        return o.answered_code in e.codes and aspect_matches(e.aspect, o.answered_aspect)
    if x == "report_start":
        return o.report_active and o.category in (None, e.category) and not o.refusals
    if x == "report_place":
        again = "report_address" in o.asked or (
            "commune" in e.gives and "report_commune" in o.asked
        )
        return o.place and not again and _form_moves_on(o, "report_address")
    if x == "report_photo_none":
        return o.photo_skipped and _form_moves_on(o, "report_photo_step")
    if x == "report_urgency":
        wanted = None if e.urgent is None else ("urgent" if e.urgent else "normal")
        right = wanted is None or o.urgency == wanted
        return right and _form_moves_on(o, "report_urgency")
    if x == "report_confirm":
        return o.tracking_code is not None and summary_before
    if x == "report_cancel":
        return o.cancelled and not o.report_active and o.tracking_code is None
    if x == "report_status":
        return o.status
    if x == "smalltalk":
        return o.smalltalk == e.act
    if x == "out_of_scope":
        return o.out_of_scope and not o.answered_code and not o.report_started
    raise ValueError(f"unknown expectation {x!r}")


REPORT_EXPECTS = {
    "report_start",
    "report_place",
    "report_photo_none",
    "report_urgency",
    "report_confirm",
    "report_cancel",
}


@dataclass
class ConversationResult:
    id: str
    writer: str
    turns: list[tuple[Expectation, Outcome, bool]]
    is_report: bool  # has a report_start turn
    confirms: bool  # has a report_confirm turn
    reached_code: bool
    asked_again: list[str]  # what was asked again although given: place, commune, photo

    @property
    def right(self) -> bool:
        return all(ok for _, _, ok in self.turns)


def asked_again(turns: list[tuple[Expectation, Outcome]]) -> list[str]:
    """What the form asked for again after the citizen gave it, in the same report.

    A place given (``gives.place`` or ``gives.commune``) followed by the place question; a
    commune given followed by the commune question; "no photo" followed by the photo step.
    The same turn counts: "…kiệt 12 Nguyễn Huệ…" answered by "Sự việc ở đâu ạ?" is asked again.
    """
    given: set[str] = set()
    again: list[str] = []
    for e, o in turns:
        if e.expect == "report_start":
            given = set()
        if e.expect in REPORT_EXPECTS:
            if e.gives.get("place") or e.gives.get("commune"):
                given.add("place")
            if e.gives.get("commune"):
                given.add("commune")
            if e.expect == "report_photo_none":
                given.add("photo")
        for what, question in (
            ("place", "report_address"),
            ("commune", "report_commune"),
            ("photo", "report_photo_step"),
        ):
            if what in given and question in o.asked and what not in again:
                again.append(what)
        if e.expect in {"report_confirm", "report_cancel"}:
            given = set()
    return again


def score_conversation(
    conversation: Conversation, records: list[TurnRecord], aspects: dict[str, str]
) -> ConversationResult:
    outcomes = [read_turn(r, aspects) for r in records]
    judged = []
    summary = False
    for turn, outcome in zip(conversation.turns, outcomes, strict=True):
        e = turn.expectation
        judged.append((e, outcome, judge(e, outcome, summary_before=summary)))
        summary = (summary or outcome.summary_shown) and outcome.tracking_code is None
    expects = [t.expectation.expect for t in conversation.turns]
    return ConversationResult(
        id=conversation.id,
        writer=conversation.writer,
        turns=judged,
        is_report="report_start" in expects,
        confirms="report_confirm" in expects,
        reached_code=any(o.tracking_code for o in outcomes),
        asked_again=asked_again([(e, o) for e, o, _ in judged]),
    )
