"""`hue-s nlu review`: what the assistant did not understand, read from a tracker store with
Rasa 3.6's own table (SQLite and PostgreSQL, as Rasa writes them)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest
import sqlalchemy as sa
import yaml

from bot.nlu_review import collect, fallback_threshold, review, to_yaml
from tests.service.conftest import temporary_postgres

NOW = datetime(2026, 11, 27, 9, 0, tzinfo=UTC)


def rasa_events_table(metadata: sa.MetaData) -> sa.Table:
    """rasa/core/tracker_store.py SQLTrackerStore.SQLEvent, column for column."""
    return sa.Table(
        "events",
        metadata,
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("sender_id", sa.String(255), nullable=False, index=True),
        sa.Column("type_name", sa.String(255), nullable=False),
        sa.Column("timestamp", sa.Float),
        sa.Column("intent_name", sa.String(255)),
        sa.Column("action_name", sa.String(255)),
        sa.Column("data", sa.Text),
    )


def user(sender: str, text: str, intent: str, confidence: float, at: datetime, *guesses):
    ranking = [{"name": intent, "confidence": confidence}] + [
        {"name": n, "confidence": c} for n, c in guesses
    ]
    data = {
        "event": "user",
        "timestamp": at.timestamp(),
        "text": text,
        "parse_data": {"intent": {"name": intent, "confidence": confidence}, "entities": [],
                       "text": text, "intent_ranking": ranking},
        "input_channel": "gateway",
        "metadata": {"channel": "web"},
    }  # fmt: skip
    return {"sender_id": sender, "type_name": "user", "timestamp": at.timestamp(),
            "intent_name": intent, "action_name": None,
            "data": json.dumps(data, ensure_ascii=False)}  # fmt: skip


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def tracker_url(request, tmp_path) -> Iterator[str]:
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'tracker.db'}"
        return
    with temporary_postgres("hue_s_tracker") as name:
        # As Rasa's endpoints name it: no driver in the URL.
        yield f"postgresql://postgres@127.0.0.1:5432/{name}"


@pytest.fixture
def tracker(tracker_url) -> str:
    url = tracker_url.replace("postgresql://", "postgresql+psycopg://")
    engine = sa.create_engine(url)
    metadata = sa.MetaData()
    events = rasa_events_table(metadata)
    metadata.create_all(engine)
    hour = timedelta(hours=1)
    with engine.begin() as connection:
        connection.execute(events.insert(), [
            user("web:aaa", "giá vàng hôm ni bao nhiêu", "out_of_scope", 0.91, NOW - 5 * hour),
            user("telegram:42", "Gia vang hom ni  bao nhieu", "out_of_scope", 0.88, NOW - 2 * hour),
            user("web:bbb", "tui muốn hỏi cái giấy hồi nớ, gọi 0905 123 456", "nlu_fallback",
                 0.41, NOW - 3 * hour, ("ask_procedure", 0.41), ("check_application_status", 0.3)),
            user("web:ccc", "làm lại bằng lái", "ask_procedure", 0.5, NOW - hour,
                 ("ask_procedure_steps", 0.3)),
            user("web:ddd", "lệ phí làm hộ chiếu bao nhiêu", "ask_procedure_fee", 0.98, NOW - hour),
            user("web:eee", "/ask_procedure_fee", "ask_procedure_fee", 1.0, NOW - hour),
            user("web:fff", "thời tiết mai răng", "out_of_scope", 0.95, NOW - timedelta(days=9)),
            {"sender_id": "web:aaa", "type_name": "bot", "timestamp": NOW.timestamp() - 10,
             "intent_name": None, "action_name": None,
             "data": json.dumps({"event": "bot", "text": "Câu này nằm ngoài phạm vi"})},
        ])  # fmt: skip
    engine.dispose()
    return tracker_url


def test_what_was_not_understood_is_collected_most_frequent_first(tracker):
    items = collect(tracker, since=NOW - timedelta(days=7))
    assert [(i.text, i.times, i.understood_as) for i in items] == [
        ("giá vàng hôm ni bao nhiêu", 2, "out_of_scope"),  # folded: one text, sent twice
        ("tui muốn hỏi cái giấy hồi nớ, gọi <số điện thoại>", 1, "nlu_fallback"),
        ("làm lại bằng lái", 1, "ask_procedure"),  # below the fallback threshold
    ]
    assert items[0].last_seen == NOW - timedelta(hours=2)
    assert items[1].guesses == [("ask_procedure", 0.41), ("check_application_status", 0.3)]


def test_the_review_file_names_no_sender_and_reads_as_yaml(tracker):
    written = review(tracker, days=7, now=NOW)
    assert written.startswith("# Messages the assistant did not understand, 20/11/2026 16:00")
    assert "make train" in written
    for sender in ("web:aaa", "telegram:42", "web:bbb", "0905"):
        assert sender not in written
    entries = yaml.safe_load(written)["messages"]
    assert entries[0] == {
        "text": "giá vàng hôm ni bao nhiêu",
        "times": 2,
        "understood_as": "out_of_scope (0.91)",
        "guesses": [],
        "last_seen": "27/11/2026 14:00",
    }


def test_an_empty_period_gives_an_empty_list(tracker):
    assert collect(tracker, since=NOW) == []
    assert yaml.safe_load(to_yaml([], since=NOW, until=NOW))["messages"] == []


def test_a_tracker_store_rasa_has_not_written_yet_gives_an_empty_list(tracker_url, tmp_path):
    """Before the first conversation there is no events table (nor, on SQLite, a file)."""
    assert collect(tracker_url, since=NOW) == []
    assert not (tmp_path / "tracker.db").exists()


def test_unsure_means_under_the_pipelines_own_fallback_threshold(tracker):
    assert fallback_threshold() == 0.55  # config.yml, FallbackClassifier
    # Raised to 0.99, the confident fee question (0.98) counts as unsure too.
    texts = [i.text for i in collect(tracker, since=NOW - timedelta(days=7), threshold=0.99)]
    assert "lệ phí làm hộ chiếu bao nhiêu" in texts
