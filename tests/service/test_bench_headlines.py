"""The headline JSON that bench-search and bench-classify write beside their pages."""

from __future__ import annotations

import json

from bench.report_classification import headline as classification_headline
from bench.search import headline as search_headline


def test_search_headline_has_the_first_table_per_database_and_set() -> None:
    figures = {
        "questions": 2,
        "top1": 0.5,
        "top3": 1.0,
        "no_match_rejected": "1/2",
        "p50_ms": 2.0,
        "p95_ms": 3.0,
    }
    run = {"SQLite (FTS5)": {"tuning": {**figures, "misses": ["a question"], "answers": {}}}}
    written = search_headline(run, repeat=3)
    assert written["databases"]["SQLite (FTS5)"]["tuning"] == figures
    assert "a question" not in json.dumps(written)  # figures only, never texts


def test_classification_headline_has_the_accuracy_table_and_no_text() -> None:
    row = {
        "texts": 4,
        "accuracy": 0.75,
        "by_style": {"standard": 1.0},
        "no_category": 1,
        "confusions": [(("trees", "other"), ["một câu kín"])],
    }
    written = classification_headline({"tuning": [("keywords only", row)]}, {"held-out": []})
    assert written["sets"]["tuning"]["keywords only"] == {
        "texts": 4,
        "accuracy": 0.75,
        "by_style": {"standard": 1.0},
        "no_category": 1,
    }
    assert "một câu kín" not in json.dumps(written, ensure_ascii=False)
