"""The conversation benchmark's data: single messages and multi-turn conversations.

Layout (written by scripts/split_blind_set.py from each writer's folder):

    bench/conversations/<part>/<writer>/messages.yml
    bench/conversations/<part>/<writer>/conversations.yml

with <part> ``tuning`` or ``heldout``. The format is the writers' brief (/work/blind/BRIEF.md):
a message has ``kind`` (procedure, report, out_of_scope, smalltalk, report_status) and the
fields of its kind; a conversation's turns each have ``user`` and ``expect``.

Nothing here prints an item's text: an invalid item is reported by its id and the reason,
and a YAML error by file, line and column only (PyYAML's own message quotes the line).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

PARTS = ("tuning", "heldout")
KINDS = ("procedure", "report", "out_of_scope", "smalltalk", "report_status")
ASPECTS = ("documents", "fee", "time", "place", "online", "steps", "conditions", "general")
ACTS = ("greet", "thanks", "goodbye", "bot_challenge", "help")
CATEGORIES = (
    "traffic_infrastructure",
    "street_lighting",
    "sanitation_waste",
    "drainage_flooding",
    "trees",
    "urban_order",
    "illegal_construction",
    "noise_public_order",
    "water_supply",
    "tourism_abuse",
    "heritage_sites",
    "food_safety",
    "stray_animals",
    "other",
)
EXPECTS = (
    "procedure_answer",
    "report_start",
    "report_place",
    "report_photo_none",
    "report_urgency",
    "report_confirm",
    "report_cancel",
    "report_status",
    "smalltalk",
    "out_of_scope",
)
# A single message is the first turn of a chat: what its kind expects of the first reply.
EXPECT_OF_KIND = {
    "procedure": "procedure_answer",
    "report": "report_start",
    "out_of_scope": "out_of_scope",
    "smalltalk": "smalltalk",
    "report_status": "report_status",
}


@dataclass(frozen=True)
class Expectation:
    """What one citizen message should lead to, with the fields its kind needs."""

    expect: str
    codes: tuple[str, ...] = ()
    aspect: str | None = None
    category: str | None = None
    act: str | None = None
    urgent: bool | None = None
    gives: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class Message:
    id: str
    writer: str
    text: str
    kind: str
    expectation: Expectation
    style: tuple[str, ...] = ()


@dataclass(frozen=True)
class Turn:
    user: str
    expectation: Expectation


@dataclass(frozen=True)
class Conversation:
    id: str
    writer: str
    turns: tuple[Turn, ...]


@dataclass
class Dataset:
    part: str
    writers: list[str] = field(default_factory=list)
    messages: list[Message] = field(default_factory=list)
    conversations: list[Conversation] = field(default_factory=list)
    invalid: list[str] = field(default_factory=list)  # "id: reason", never the text


class DataError(ValueError):
    """A file that cannot be read; the message never quotes its content."""


def read_yaml(path: Path) -> Any:
    try:
        return yaml.safe_load(path.read_text(encoding="utf-8"))
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark
        where = f"line {mark.line + 1}, column {mark.column + 1}" if mark else "unknown place"
        raise DataError(f"{path}: not valid YAML ({where})") from None
    except (yaml.YAMLError, UnicodeDecodeError):
        raise DataError(f"{path}: not valid YAML") from None


def _expectation(item: dict[str, Any], expect: str) -> Expectation:
    """The expectation of a message or turn; raises ValueError naming the field at fault."""
    if expect not in EXPECTS:
        raise ValueError(f"unknown expect/kind {expect!r}")
    codes: tuple[str, ...] = ()
    aspect = category = act = None
    urgent = None
    if expect == "procedure_answer":
        codes = tuple(str(c).strip() for c in item.get("codes") or [])
        aspect = item.get("aspect")
        if not codes:
            raise ValueError("no codes")
        if aspect not in ASPECTS:
            raise ValueError(f"aspect {aspect!r}")
    if expect == "report_start":
        category = item.get("category")
        if category not in CATEGORIES:
            raise ValueError(f"category {category!r}")
    if expect == "smalltalk":
        act = item.get("act")
        if act not in ACTS:
            raise ValueError(f"act {act!r}")
    if expect == "report_urgency" and item.get("urgent") is not None:
        if not isinstance(item["urgent"], bool):
            raise ValueError("urgent is not true/false")
        urgent = item["urgent"]
    gives = item.get("gives") or {}
    if not isinstance(gives, dict):
        raise ValueError("gives is not a mapping")
    return Expectation(
        expect=expect,
        codes=codes,
        aspect=aspect,
        category=category,
        act=act,
        urgent=urgent,
        gives={str(k): str(v) for k, v in gives.items() if v},
    )


def _messages(data: Any, writer: str, dataset: Dataset) -> None:
    for n, item in enumerate((data or {}).get("messages") or []):
        ident = str(item.get("id") or f"{writer}-message-{n + 1}")
        try:
            text = item.get("text")
            if not isinstance(text, str) or not text.strip():
                raise ValueError("no text")
            kind = item.get("kind")
            if kind not in KINDS:
                raise ValueError(f"kind {kind!r}")
            expectation = _expectation(item, EXPECT_OF_KIND[kind])
        except (ValueError, AttributeError, TypeError) as exc:
            dataset.invalid.append(f"{ident}: {exc}")
            continue
        style = tuple(str(s) for s in item.get("style") or [])
        dataset.messages.append(Message(ident, writer, text, kind, expectation, style))


def _conversations(data: Any, writer: str, dataset: Dataset) -> None:
    for n, item in enumerate((data or {}).get("conversations") or []):
        ident = str(item.get("id") or f"{writer}-conversation-{n + 1}")
        try:
            turns = []
            for t, turn in enumerate(item.get("turns") or []):
                text = turn.get("user")
                if not isinstance(text, str) or not text.strip():
                    raise ValueError(f"turn {t + 1}: no user text")
                try:
                    turns.append(Turn(text, _expectation(turn, str(turn.get("expect")))))
                except ValueError as exc:
                    raise ValueError(f"turn {t + 1}: {exc}") from None
            if not turns:
                raise ValueError("no turns")
        except (ValueError, AttributeError, TypeError) as exc:
            dataset.invalid.append(f"{ident}: {exc}")
            continue
        dataset.conversations.append(Conversation(ident, writer, tuple(turns)))


def load_part(root: Path, part: str) -> Dataset:
    """Every writer's messages and conversations of one part (``root/<part>/<writer>/``)."""
    dataset = Dataset(part)
    folder = root / part
    if not folder.is_dir():
        return dataset
    for writer_dir in sorted(p for p in folder.iterdir() if p.is_dir()):
        messages = writer_dir / "messages.yml"
        conversations = writer_dir / "conversations.yml"
        if not messages.exists() and not conversations.exists():
            continue
        dataset.writers.append(writer_dir.name)
        if messages.exists():
            _messages(read_yaml(messages), writer_dir.name, dataset)
        if conversations.exists():
            _conversations(read_yaml(conversations), writer_dir.name, dataset)
    return dataset
