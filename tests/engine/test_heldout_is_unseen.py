"""The held-out NLU test set stays held out: no test utterance is also a training example."""

from __future__ import annotations

from rasa.shared.nlu.training_data.loading import load_data

from tests.engine.conftest import ROOT
from vitext import fold


def _texts(path: str) -> list[str]:
    return [fold(m.get("text")).strip() for m in load_data(str(ROOT / path)).intent_examples]


def test_no_heldout_utterance_occurs_in_the_training_data() -> None:
    training = set(_texts("data/nlu"))
    leaked = [
        text
        for path in ("tests/nlu/heldout_standard.yml", "tests/nlu/heldout_informal.yml")
        for text in _texts(path)
        if text in training
    ]
    assert leaked == []


def test_heldout_set_has_at_least_400_distinct_utterances() -> None:
    texts = _texts("tests/nlu/heldout_standard.yml") + _texts("tests/nlu/heldout_informal.yml")
    assert len(set(texts)) == len(texts) >= 400
