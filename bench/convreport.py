"""The conversation benchmark's figures for one part, and the report written from them.

Only aggregates leave this module for the held-out part; the tuning part's wrong items are
listed by ``mistakes`` (printed and kept under results/, never in docs/).
"""

from __future__ import annotations

from collections import Counter
from typing import Any

from bench.convdata import EXPECTS, KINDS, Dataset, Message
from bench.convscore import IN_SCOPE_LABELS, LABELS, ConversationResult, Outcome, judge

# The intents that fit a single message's kind (smalltalk: the act's own intent).
KIND_INTENTS = {
    "report": {"report_problem"},
    "out_of_scope": {"out_of_scope"},
    "report_status": {"check_report_status"},
}


def intent_fits(message: Message, intent: str | None) -> bool:
    if intent is None:
        return False
    if message.kind == "procedure":
        return intent.startswith("ask_procedure")
    if message.kind == "smalltalk":
        return intent == message.expectation.act
    return intent in KIND_INTENTS[message.kind]


def share(part: int, whole: int) -> float | None:
    return round(part / whole, 4) if whole else None


def part_figures(
    dataset: Dataset,
    outcomes: dict[str, Outcome],
    search_top: dict[str, str | None],
    floor: dict[str, str],
    conversations: list[ConversationResult],
) -> dict[str, Any]:
    """Every figure of one part, as fractions 0–1 (None when there is nothing to count)."""
    messages = [m for m in dataset.messages if m.id in outcomes]
    by_kind: dict[str, list[Message]] = {k: [m for m in messages if m.kind == k] for k in KINDS}
    right = {m.id: judge(m.expectation, outcomes[m.id]) for m in messages}
    procedure = by_kind["procedure"]
    in_scope = [m for m in messages if m.kind != "out_of_scope"]

    def count(items: list[Message], test: Any) -> int:
        return sum(1 for m in items if test(m))

    def code_right(m: Message) -> bool:
        return outcomes[m.id].answered_code in m.expectation.codes

    by_aspect: dict[str, list[Message]] = {}
    for m in procedure:
        by_aspect.setdefault(m.expectation.aspect or "general", []).append(m)

    turns = [ok for c in conversations for _, _, ok in c.turns]
    turn_expects: dict[str, list[bool]] = {}
    for c in conversations:
        for e, _, ok in c.turns:
            turn_expects.setdefault(e.expect, []).append(ok)
    reports = [c for c in conversations if c.is_report]
    confirming = [c for c in conversations if c.confirms]
    asked_again = [c for c in reports if c.asked_again]
    return {
        "writers": len(dataset.writers),
        "by_writer": {
            w: {
                "messages": sum(1 for m in messages if m.writer == w),
                "conversations": sum(1 for c in conversations if c.writer == w),
                "messages_right": share(
                    sum(right[m.id] for m in messages if m.writer == w),
                    sum(1 for m in messages if m.writer == w),
                ),
                "turns_right": share(
                    sum(ok for c in conversations if c.writer == w for _, _, ok in c.turns),
                    sum(len(c.turns) for c in conversations if c.writer == w),
                ),
            }
            for w in dataset.writers
        },
        "messages": len(messages),
        "conversations": len(conversations),
        "turns": len(turns),
        "invalid_items": len(dataset.invalid),
        "errors": sum(1 for o in outcomes.values() if o.error)
        + sum(1 for c in conversations for _, o, _ in c.turns if o.error),
        "turns_right": share(sum(turns), len(turns)),
        "conversations_right": share(sum(c.right for c in conversations), len(conversations)),
        "messages_right": share(sum(right.values()), len(messages)),
        "first_reply_right": share(count(procedure, lambda m: right[m.id]), len(procedure)),
        "first_reply_code_right": share(
            count(procedure, code_right),
            len(procedure),
        ),
        "search_top1": share(
            count(procedure, lambda m: search_top.get(m.id) in m.expectation.codes),
            len(procedure),
        ),
        "reports_declined_out_of_scope": share(
            count(by_kind["report"], lambda m: outcomes[m.id].label == "out_of_scope"),
            len(by_kind["report"]),
        ),
        "out_of_scope_answered_in_scope": share(
            count(by_kind["out_of_scope"], lambda m: outcomes[m.id].label in IN_SCOPE_LABELS),
            len(by_kind["out_of_scope"]),
        ),
        "asked_back_in_scope": share(
            count(in_scope, lambda m: outcomes[m.id].label == "asked_back"), len(in_scope)
        ),
        "intent_accuracy": share(
            count(messages, lambda m: intent_fits(m, outcomes[m.id].top_intent)), len(messages)
        ),
        "intent_accuracy_with_fallback": share(
            count(messages, lambda m: intent_fits(m, outcomes[m.id].intent)), len(messages)
        ),
        "linear_floor_intent_accuracy": share(
            count(messages, lambda m: intent_fits(m, floor.get(m.id))), len(messages)
        )
        if floor
        else None,
        "report_conversations": len(reports),
        "asked_again_for_given": len(asked_again),
        "asked_again_share": share(len(asked_again), len(reports)),
        "asked_again_what": dict(Counter(w for c in asked_again for w in c.asked_again)),
        "confirming_conversations": len(confirming),
        "reports_confirmed_with_code": share(
            sum(c.reached_code for c in confirming), len(confirming)
        ),
        "messages_by_kind": {k: len(v) for k, v in by_kind.items()},
        "messages_right_by_kind": {
            k: share(count(v, lambda m: right[m.id]), len(v)) for k, v in by_kind.items()
        },
        "turns_by_expect": {x: len(turn_expects[x]) for x in EXPECTS if x in turn_expects},
        "turns_right_by_expect": {
            x: share(sum(turn_expects[x]), len(turn_expects[x]))
            for x in EXPECTS
            if x in turn_expects
        },
        "first_reply_by_aspect": {
            a: {
                "messages": len(v),
                "code_right": share(codes, len(v)),
                "aspect_right_when_code_right": share(count(v, lambda m: right[m.id]), codes),
            }
            for a, v in sorted(by_aspect.items())
            for codes in [count(v, code_right)]
        },
        "first_reply_outcomes": {
            k: {
                label: share(count(v, lambda m, lb=label: outcomes[m.id].label == lb), len(v))
                for label in LABELS
            }
            for k, v in by_kind.items()
            if v
        },
    }


def mistakes(
    dataset: Dataset,
    outcomes: dict[str, Outcome],
    conversations: list[ConversationResult],
    texts: dict[str, list[str]],
) -> list[dict[str, Any]]:
    """The tuning part's wrong items: text, what was expected, what happened."""
    wrong: list[dict[str, Any]] = []
    for m in dataset.messages:
        o = outcomes.get(m.id)
        if o is not None and not judge(m.expectation, o):
            wrong.append(
                {"id": m.id, "text": m.text, "expected": expected(m.expectation), "got": got(o)}
            )
    for c in conversations:
        if c.right and not c.asked_again:
            continue
        turns = []
        for text, (e, o, ok) in zip(texts[c.id], c.turns, strict=True):
            turns.append({"text": text, "ok": ok, "expected": expected(e), "got": got(o)})
        wrong.append({"id": c.id, "asked_again": c.asked_again, "turns": turns})
    return wrong


def expected(e: Any) -> str:
    parts = [e.expect]
    if e.codes:
        parts.append("/".join(e.codes))
    for value in (e.aspect, e.category, e.act):
        if value:
            parts.append(value)
    if e.urgent is not None:
        parts.append("urgent" if e.urgent else "not urgent")
    if e.gives:
        parts.append("gives " + ", ".join(f"{k}={v}" for k, v in e.gives.items()))
    return " ".join(parts)


def got(o: Outcome) -> str:
    if o.error:
        return f"error: {o.error}"
    # Mid-report, "report started" would mislead: the form was already going.
    parts = ["form" if o.report_active and not o.report_started else o.label]
    parts.append(f"intent={o.intent}")
    if o.answered_code:
        parts.append(f"{o.answered_code} {o.answered_aspect}")
    if o.report_active:
        parts.append(f"form asks {o.requested} category={o.category} place={o.place}")
    if o.refusals:
        parts.append("refused: " + ",".join(o.refusals))
    if o.tracking_code:
        parts.append(o.tracking_code)
    said = [u for u in o.utterances if not u.startswith("utter_ask_report")]
    if said:
        parts.append("said " + ",".join(said))
    return " ".join(parts)
