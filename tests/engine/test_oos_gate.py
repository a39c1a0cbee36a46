"""The out-of-scope gate mixes its probability into DIET's ranking, and persists."""

from __future__ import annotations

import pytest
import yaml
from rasa.shared.nlu.constants import INTENT, INTENT_RANKING_KEY, TEXT
from rasa.shared.nlu.training_data.loading import load_data
from rasa.shared.nlu.training_data.message import Message
from rasa.shared.nlu.training_data.training_data import TrainingData

from hue_rasa.oos_gate import OutOfScopeGate
from tests.engine.conftest import ROOT


@pytest.fixture(scope="module")
def training_data() -> TrainingData:
    return load_data(str(ROOT / "data" / "nlu"))


@pytest.fixture
def gate(model_storage, resource, training_data) -> OutOfScopeGate:
    component = OutOfScopeGate.create({}, model_storage, resource, None)
    component.train(training_data)
    return component


def parsed(text: str, intent: str, confidence: float = 0.99) -> Message:
    message = Message({TEXT: text})
    message.set(INTENT, {"name": intent, "confidence": confidence})
    message.set(
        INTENT_RANKING_KEY,
        [{"name": intent, "confidence": confidence}, {"name": "out_of_scope", "confidence": 0.01}],
    )
    return message


FALLBACK_THRESHOLD = next(  # config.yml's FallbackClassifier
    c["threshold"]
    for c in yaml.safe_load((ROOT / "config.yml").read_text(encoding="utf-8"))["pipeline"]
    if c["name"] == "FallbackClassifier"
)


def test_a_cooking_question_taken_for_a_procedure_is_answered_as_out_of_scope(gate) -> None:
    [message] = gate.process([parsed("nấu chè bột lọc mất bao lâu thì chín", "ask_procedure_time")])
    assert message.get(INTENT)["name"] == "out_of_scope"
    assert message.get(INTENT)["confidence"] >= FALLBACK_THRESHOLD
    ranking = message.get(INTENT_RANKING_KEY)
    assert [r["name"] for r in ranking] == ["out_of_scope", "ask_procedure_time"]
    assert ranking[1]["confidence"] < FALLBACK_THRESHOLD


def test_the_mixed_ranking_is_still_a_distribution(gate) -> None:
    """In scope and this intent: DIET's confidence × (1 − p); out of scope gets the rest.

    So at p = 0.5 neither a sure in-scope guess (0.99 → 0.495) nor out of scope (0.505) reaches
    the fallback threshold, and the assistant asks back with its guesses.
    """
    message = parsed("giá vàng hôm ni bao nhiêu", "ask_procedure_fee", confidence=0.7)
    message.set(
        INTENT_RANKING_KEY,
        [
            {"name": "ask_procedure_fee", "confidence": 0.7},
            {"name": "ask_procedure_time", "confidence": 0.2},
            {"name": "out_of_scope", "confidence": 0.1},
        ],
    )
    [p] = gate.out_of_scope_probability([message.get(TEXT)])
    [message] = gate.process([message])
    confidences = {r["name"]: r["confidence"] for r in message.get(INTENT_RANKING_KEY)}
    assert confidences["ask_procedure_fee"] == pytest.approx(0.7 * (1 - p))
    assert confidences["ask_procedure_time"] == pytest.approx(0.2 * (1 - p))
    assert confidences["out_of_scope"] == pytest.approx(0.1 + 0.9 * p)
    assert sum(confidences.values()) == pytest.approx(1.0)
    ranking = message.get(INTENT_RANKING_KEY)
    assert ranking == sorted(ranking, key=lambda r: -r["confidence"])
    assert message.get(INTENT) == ranking[0]


@pytest.mark.parametrize(
    "text, intent",
    [
        ("lam cccd mat bao lau", "ask_procedure_time"),
        ("lệ phí làm hộ chiếu bao nhiêu", "ask_procedure_fee"),
        ("đèn đường kiệt 12 Phan Đình Phùng tắt mấy hôm ni", "report_problem"),
        ("phản ánh PA-2026-000123 tới đâu rồi", "check_report_status"),
        ("cảm ơn nha", "thanks"),
    ],
)
def test_in_scope_messages_keep_their_intent(gate, text, intent) -> None:
    [message] = gate.process([parsed(text, intent)])
    assert message.get(INTENT)["name"] == intent
    assert message.get(INTENT)["confidence"] >= 0.9


def test_survives_persist_and_load(gate, model_storage, resource) -> None:
    loaded = OutOfScopeGate.load({}, model_storage, resource, None)
    texts = ["giá vàng hôm ni bao nhiêu", "làm giấy khai sinh cần chi"]
    assert loaded.out_of_scope_probability(texts) == pytest.approx(
        gate.out_of_scope_probability(texts)
    )
    assert (
        loaded.out_of_scope_probability(texts)[0] > 0.7 > loaded.out_of_scope_probability(texts)[1]
    )


def test_without_out_of_scope_examples_it_changes_nothing(model_storage, resource) -> None:
    data = TrainingData([Message({TEXT: "chào", INTENT: "greet"})])
    component = OutOfScopeGate.create({}, model_storage, resource, None)
    component.train(data)
    before = parsed("giá vàng hôm ni bao nhiêu", "greet")
    ranking = list(before.get(INTENT_RANKING_KEY))
    [message] = component.process([before])
    assert message.get(INTENT) == {"name": "greet", "confidence": 0.99}
    assert message.get(INTENT_RANKING_KEY) == ranking


def test_the_actions_take_the_classifiers_aspect_from_the_fallbacks_threshold() -> None:
    from actions.actions import ASPECT_CONFIDENCE

    assert ASPECT_CONFIDENCE == FALLBACK_THRESHOLD
