"""The out-of-scope gate overrules an in-scope intent only when it is sure, and persists."""

from __future__ import annotations

import pytest
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


def test_a_cooking_question_taken_for_a_procedure_is_overruled(gate) -> None:
    [message] = gate.process([parsed("nấu chè bột lọc mất bao lâu thì chín", "ask_procedure_time")])
    assert message.get(INTENT)["name"] == "out_of_scope"
    assert message.get(INTENT)["confidence"] >= 0.7
    ranking = message.get(INTENT_RANKING_KEY)
    assert [r["name"] for r in ranking] == ["out_of_scope", "ask_procedure_time"]


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
    [message] = component.process([parsed("giá vàng hôm ni bao nhiêu", "greet")])
    assert message.get(INTENT)["name"] == "greet"
