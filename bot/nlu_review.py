"""What the assistant did not understand, for the admins who retrain it.

Rasa keeps every parsed message in its tracker store (table ``events``; one row a user
message, the parse — intent, confidence, ranking — in its JSON ``data``). This module reads
that table, read-only, and collects the citizens' messages the assistant asked back about
(``nlu_fallback``), answered as out of scope, or understood with low confidence. The same
text sent several times is counted once; who sent it is left out, and phone numbers are
masked. An admin reads the file, moves each message worth learning under the right intent
in ``data/nlu/`` and runs ``make train`` (docs/nlu-data-guide.md, "Learning from what
citizens write").

    hue-s nlu review --days 7 --out review.yml
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import yaml
from sqlalchemy import (
    Float,
    Integer,
    String,
    Text,
    column,
    create_engine,
    inspect,
    make_url,
    select,
    table,
)

from bot.reports.calendar import LOCAL
from bot.settings import ROOT
from vitext import fold
from vitext.lexicon import PHONE_REGEX

# Rasa 3.6's SQLTrackerStore table (rasa/core/tracker_store.py, SQLEvent), the columns read.
EVENTS = table(
    "events",
    column("id", Integer),
    column("type_name", String),
    column("timestamp", Float),
    column("data", Text),
)
NOT_UNDERSTOOD = {"nlu_fallback", "out_of_scope"}
PHONE = re.compile(PHONE_REGEX, re.IGNORECASE)
MASKED_PHONE = "<số điện thoại>"
MAX_GUESSES = 3


@dataclass
class Unrecognised:
    """One text (as first written) the assistant did not understand, and how often."""

    text: str
    understood_as: str
    confidence: float
    guesses: list[tuple[str, float]]
    first_seen: datetime
    last_seen: datetime
    times: int = 1


def fallback_threshold(config: Path = ROOT / "config.yml") -> float:
    """The FallbackClassifier's threshold in the pipeline: below it the assistant asks back."""
    pipeline = yaml.safe_load(config.read_text(encoding="utf-8"))["pipeline"]
    return next(float(c["threshold"]) for c in pipeline if c["name"] == "FallbackClassifier")


def _parse(data: str | None) -> dict[str, Any] | None:
    try:
        event = json.loads(data or "")
    except ValueError:
        return None
    return event if isinstance(event, dict) else None


def collect(
    tracker_store_url: str,
    *,
    since: datetime,
    threshold: float | None = None,
) -> list[Unrecognised]:
    """Messages since ``since`` that were not understood, the most frequent first."""
    threshold = fallback_threshold() if threshold is None else threshold
    url = make_url(tracker_store_url)
    if url.drivername == "postgresql":  # Rasa's URL names no driver; the service has psycopg 3
        url = url.set(drivername="postgresql+psycopg")
    if url.get_backend_name() == "sqlite" and not Path(url.database or "").is_file():
        return []  # Rasa has not stored a conversation yet (and none is created here)
    engine = create_engine(url)
    query = (
        select(EVENTS.c.timestamp, EVENTS.c.data)
        .where(EVENTS.c.type_name == "user", EVENTS.c.timestamp >= since.timestamp())
        .order_by(EVENTS.c.id)
    )
    found: dict[str, Unrecognised] = {}
    try:
        with engine.connect() as connection:
            if not inspect(connection).has_table(EVENTS.name):
                return []
            rows = connection.execute(query).all()
    finally:
        engine.dispose()
    for timestamp, data in rows:
        event = _parse(data)
        if event is None:
            continue
        text = str(event.get("text") or "").strip()
        if not text or text.startswith("/"):  # a pressed button or a photo/location alone
            continue
        parse = event.get("parse_data") or {}
        intent = parse.get("intent") or {}
        name, confidence = str(intent.get("name") or ""), float(intent.get("confidence") or 0.0)
        if name not in NOT_UNDERSTOOD and confidence >= threshold:
            continue
        seen = datetime.fromtimestamp(timestamp or 0.0, UTC)
        key = " ".join(fold(text).split())
        if key in found:
            entry = found[key]
            entry.times += 1
            entry.last_seen = max(entry.last_seen, seen)
            continue
        ranking = [
            (str(r.get("name")), float(r.get("confidence") or 0.0))
            for r in parse.get("intent_ranking") or []
            if r.get("name") not in NOT_UNDERSTOOD
        ]
        found[key] = Unrecognised(
            text=PHONE.sub(MASKED_PHONE, text),
            understood_as=name,
            confidence=confidence,
            guesses=ranking[:MAX_GUESSES],
            first_seen=seen,
            last_seen=seen,
        )
    return sorted(found.values(), key=lambda u: (-u.times, u.first_seen))


def to_yaml(items: list[Unrecognised], *, since: datetime, until: datetime) -> str:
    """The review file: a comment on how to use it, then one entry per text."""

    def local(moment: datetime) -> str:
        return moment.astimezone(LOCAL).strftime("%d/%m/%Y %H:%M")

    header = (
        f"# Messages the assistant did not understand, {local(since)} – {local(until)} "
        f"(Huế time): {len(items)} different texts.\n"
        "# Generated by `hue-s nlu review`. For each text worth learning, add it under the\n"
        "# right intent in data/nlu/ (or out_of_scope), then `make train`. Senders are left\n"
        "# out and phone numbers masked; check the texts for other personal data before\n"
        "# adding them to the training data.\n"
    )
    entries = [
        {
            "text": item.text,
            "times": item.times,
            "understood_as": f"{item.understood_as} ({item.confidence:.2f})",
            "guesses": [f"{name} ({confidence:.2f})" for name, confidence in item.guesses],
            "last_seen": local(item.last_seen),
        }
        for item in items
    ]
    body = yaml.safe_dump({"messages": entries}, allow_unicode=True, sort_keys=False, width=100)
    return header + body


def review(tracker_store_url: str, days: float, now: datetime | None = None) -> str:
    until = now or datetime.now(UTC)
    since = until - timedelta(days=days)
    return to_yaml(collect(tracker_store_url, since=since), since=since, until=until)
