"""docs/benchmarks/conversations.md from the figures of each part (aggregates only)."""

from __future__ import annotations

from typing import Any

from bench.convdata import EXPECTS, KINDS
from bench.convscore import LABELS

HEADLINE = (
    # (figure, label, target as the issue states it)
    ("turns_right", "Conversation turns handled right", "≥ 95 %"),
    ("conversations_right", "Whole conversations right", "≥ 90 %"),
    (
        "reports_confirmed_with_code",
        "Report conversations that confirm reach a tracking code",
        "≥ 95 %",
    ),
    ("asked_again_for_given", "Report conversations asked again for something already given", "0"),
    ("first_reply_right", "First reply answers the right procedure and aspect", "≥ search top-1"),
    ("reports_declined_out_of_scope", "Civic reports answered as out of scope", "0"),
    ("out_of_scope_answered_in_scope", "Out-of-scope messages answered as in scope", "≤ 3 %"),
    ("asked_back_in_scope", "In-scope messages asked back", "≤ 5 %"),
    ("intent_accuracy", "Intent accuracy (single messages)", "≥ 96 %, floor + 3"),
)
BASELINES = (
    ("search_top1", "Procedure search alone: top hit is a right procedure"),
    ("first_reply_code_right", "First reply: answers a right procedure (any aspect)"),
    ("first_reply_right", "First reply: answers a right procedure and the aspect asked"),
    ("linear_floor_intent_accuracy", "Linear floor (logistic regression, folded char 2–5-grams)"),
    ("intent_accuracy", "The pipeline's intent (best guess other than nlu_fallback)"),
    ("intent_accuracy_with_fallback", "The pipeline's intent, nlu_fallback counted wrong"),
)
OUTCOME_NAMES = {
    "answered": "answered",
    "disambiguation": "choose",
    "asked_back": "asked back",
    "not_found": "not found",
    "out_of_scope": "out of scope",
    "report_started": "report started",
    "smalltalk": "small talk",
    "status": "status",
    "other": "other",
    "error": "error",
}


def pct(value: float | None) -> str:
    return "—" if value is None else f"{value * 100:.1f} %"


def _cell(figures: dict[str, Any], key: str) -> str:
    if key == "asked_again_for_given":
        n = figures.get("report_conversations") or 0
        return f"{figures.get(key, 0)} of {n}" if n else "—"
    if key == "reports_confirmed_with_code":
        return f"{pct(figures.get(key))} (of {figures.get('confirming_conversations', 0)})"
    return pct(figures.get(key))


def _writer_cell(counts: dict[str, Any] | None) -> str:
    if not counts:
        return "—"
    return (
        f"{counts['messages']} / {counts['conversations']}; "
        f"{pct(counts['messages_right'])}; {pct(counts['turns_right'])}"
    )


def _table(header: list[str], rows: list[list[str]]) -> list[str]:
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(row) + " |" for row in rows]
    return lines


def render_markdown(run: dict[str, Any]) -> str:
    parts = [p for p in ("heldout", "tuning") if p in run["parts"]]
    names = {"heldout": "held-out", "tuning": "tuning"}
    figures = {p: run["parts"][p] for p in parts}
    out = [
        "# Conversation benchmark",
        "",
        f"Command: `{run.get('command', 'bench/conversations.py --part both')}` — the docs run "
        'is `make bench-conversations ARGS="--part both"`. It '
        "starts the real stack — Rasa with the trained model, the action server and the service "
        "on a fresh SQLite database with the catalogue — and sends every single message (each "
        "the first message of a new chat) and every multi-turn conversation through "
        "`POST /api/v1/chat`. Each turn is scored by its outcome, read from Rasa's tracker (the "
        "intent, the actions, the slots they set, the form's questions, the responses by name) "
        "and from the replies (the tracking code).",
        "",
        f"Run: {run['date']}, commit `{run['commit']}`, model `{run['model']}`"
        + ("" if run.get("model_fresh", True) else " (**not** trained from this commit's data)")
        + ".",
        "",
        "## Data",
        "",
        "Written by independent writers who never saw the project's data, code or each other's "
        "files, each from a brief with a different persona group. Each writer's items are split "
        "by a stable hash of their id (scripts/split_blind_set.py): about 40 % **tuning** — "
        "read it and learn from its mistakes (`--part tuning` prints them) — and about 60 % "
        "**held-out**, scored once per candidate with aggregates only: no held-out text or "
        f"per-item result is ever printed or written. Candidates scored on the held-out part so "
        f"far: **{run.get('heldout_runs', 0)}** (bench/conversations/heldout_runs.log).",
        "",
    ]
    rows = []
    for p in parts:
        f = figures[p]
        rows.append(
            [
                names[p],
                str(f["writers"]),
                str(f["messages"]),
                str(f["conversations"]),
                str(f["turns"]),
                str(f["invalid_items"]),
                str(f["errors"]),
            ]
        )
    out += _table(
        ["part", "writers", "messages", "conversations", "turns", "invalid items", "errors"], rows
    )
    writers = sorted({w for p in parts for w in figures[p].get("by_writer", {})})
    if writers:
        out += ["", "By writer (messages / conversations; single messages right; turns right):", ""]
        out += _table(
            ["writer", *(names[p] for p in parts)],
            [
                [w, *(_writer_cell(figures[p].get("by_writer", {}).get(w)) for p in parts)]
                for w in writers
            ],
        )
    out += ["", "## Headline", ""]
    out += _table(
        ["figure", "target", *(names[p] for p in parts)],
        [
            [label, target, *(_cell(figures[p], key) for p in parts)]
            for key, label, target in HEADLINE
        ],
    )
    floor_gap = [
        f"{names[p]}: "
        f"{(f['intent_accuracy'] - f['linear_floor_intent_accuracy']) * 100:+.1f} points"
        for p in parts
        if (f := figures[p]).get("intent_accuracy") is not None
        and f.get("linear_floor_intent_accuracy") is not None
    ]
    if floor_gap:
        out += ["", "Intent accuracy above the linear floor — " + "; ".join(floor_gap) + "."]
    out += ["", "## Baselines side by side (single messages)", ""]
    out += _table(
        ["", *(names[p] for p in parts)],
        [[label, *(pct(figures[p].get(key)) for p in parts)] for key, label in BASELINES],
    )
    out += [
        "",
        "Search and first reply are measured on the same procedure messages (the search is "
        "`GET /api/v1/procedures/search` on the raw message, cut to its 500-character limit). "
        "Intent accuracy: procedure messages → any ask_procedure intent, reports → "
        "report_problem, out of scope → out_of_scope, small talk → its act's intent, report "
        "status → check_report_status. The linear floor (bench/linear_floor.py) is trained on "
        "data/nlu only; its C is chosen by 5-fold cross-validation on that data, never on this "
        f"set (C = {run.get('floor_c')} in this run).",
    ]
    out += ["", "## Conversations: turns right by expected outcome", ""]
    expects = [x for x in EXPECTS if any(x in figures[p]["turns_by_expect"] for p in parts)]
    out += _table(
        ["expected", *(names[p] for p in parts)],
        [
            [
                x,
                *(
                    f"{pct(figures[p]['turns_right_by_expect'].get(x))} "
                    f"({figures[p]['turns_by_expect'].get(x, 0)})"
                    for p in parts
                ),
            ]
            for x in expects
        ],
    )
    asked = [
        f"{names[p]}: {figures[p]['asked_again_what']}"
        for p in parts
        if figures[p]["asked_again_what"]
    ]
    if asked:
        out += ["", "Asked again for (conversations): " + "; ".join(asked) + "."]
    out += ["", "## Single messages: right by kind", ""]
    out += _table(
        ["kind", *(names[p] for p in parts)],
        [
            [
                k,
                *(
                    f"{pct(figures[p]['messages_right_by_kind'].get(k))} "
                    f"({figures[p]['messages_by_kind'].get(k, 0)})"
                    for p in parts
                ),
            ]
            for k in KINDS
        ],
    )
    for p in parts:
        dist = figures[p]["first_reply_outcomes"]
        labels = [lb for lb in LABELS if any((dist[k].get(lb) or 0) > 0 for k in dist)]
        out += ["", f"First reply outcomes ({names[p]}), share of each kind's messages:", ""]
        out += _table(
            ["kind", *(OUTCOME_NAMES[lb] for lb in labels)],
            [[k, *(pct(dist[k].get(lb)) for lb in labels)] for k in dist],
        )
    out += ["", *SCORING_NOTES]
    return "\n".join(out) + "\n"


SCORING_NOTES = [
    "## How a turn is scored",
    "",
    "- `procedure_answer`: action_answer_procedure answered (the `procedure_code` slot it "
    "set) a listed code, for the aspect asked; the aspect is the one the action derives from "
    "the intent (its INTENT_ASPECTS), `general` is right for the overview answer.",
    "- `report_start`: the report form is active after the message, its category (when set "
    "by then) is the one expected, and the form did not refuse the message.",
    "- `report_place`: the form holds a place (address, commune or a shared location), does "
    "not ask for the place again (nor the commune when it was given), and moves on.",
    "- `report_photo_none`: the photo step is skipped and the form moves on.",
    "- `report_urgency`: the urgency expected is set and the form moves on.",
    "- `report_confirm`: a tracking code (PA-yyyy-nnnnnn) in the replies, after a summary was "
    "shown in an earlier turn.",
    "- `report_cancel`: the report is cancelled, the form is no longer active, nothing filed.",
    "- `report_status`: action_check_report_status ran. `smalltalk`: the response of the act. "
    "`out_of_scope`: utter_out_of_scope, nothing answered, no report started.",
    "- A conversation is right when all its turns are. Asked again: after the citizen gave "
    "the place (or the commune) or said there is no photo, the form asks for it again — "
    "in the same turn or later in the same report.",
    "- First-reply outcomes: answered, choose (utter_procedure_choose), asked back "
    "(two-stage fallback, utter_ask_rephrase, utter_default, utter_ask_procedure_name), "
    "not found (utter_procedure_not_found), out of scope, report started, small talk, "
    "status; out-of-scope messages count as answered in scope when answered, offered "
    "procedures, started a report or looked up a report.",
]
