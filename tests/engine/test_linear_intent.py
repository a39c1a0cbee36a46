"""The linear intent mixer learns the catalogue's words, mixes into the ranking, persists."""

from __future__ import annotations

import gzip
import json
from pathlib import Path

import pytest
from rasa.shared.nlu.constants import INTENT, INTENT_RANKING_KEY, TEXT
from rasa.shared.nlu.training_data.message import Message
from rasa.shared.nlu.training_data.training_data import TrainingData

from hue_rasa.linear_intent import LinearIntentMixer, catalogue_phrases

EXAMPLES = {
    "ask_procedure": ["làm giấy khai sinh", "muốn làm sổ đỏ", "xin giấy phép xây nhà"],
    "ask_procedure_fee": ["lệ phí làm hộ chiếu bao nhiêu", "làm cccd mất bao nhiêu tiền"],
    "out_of_scope": [
        "giá vàng hôm nay bao nhiêu",
        "làm sao để giảm cân",
        "đội nào vô địch",
        "nấu chè bột lọc sao cho ngon",
        "mai trời có mưa không",
    ],
    "greet": ["chào bạn", "xin chào ad", "chào buổi sáng"],
}


@pytest.fixture
def catalogue(tmp_path: Path) -> dict[str, str]:
    procedures = tmp_path / "procedures.jsonl.gz"
    with gzip.open(procedures, "wt", encoding="utf-8") as out:
        for name in (
            "Thủ tục chuyển hưởng lương hưu sang địa bàn khác",
            "Cấp thẻ tạm trú cho người nước ngoài",
        ):
            out.write(json.dumps({"ten_thu_tuc": name}, ensure_ascii=False) + "\n")
    aliases = tmp_path / "aliases.yml"
    aliases.write_text(
        "aliases:\n  - code: '1.0'\n    say: ['lãnh lương hưu ở nơi khác', 'thẻ tạm trú']\n",
        encoding="utf-8",
    )
    return {"procedures": str(procedures), "aliases": str(aliases)}


def training_data() -> TrainingData:
    return TrainingData(
        [Message({TEXT: t, INTENT: i}) for i, texts in EXAMPLES.items() for t in texts]
    )


@pytest.fixture
def mixer(model_storage, resource, catalogue) -> LinearIntentMixer:
    component = LinearIntentMixer.create(catalogue, model_storage, resource, None)
    component.train(training_data())
    return component


def parsed(text: str, ranking: list[tuple[str, float]]) -> Message:
    message = Message({TEXT: text})
    message.set(INTENT, {"name": ranking[0][0], "confidence": ranking[0][1]})
    message.set(INTENT_RANKING_KEY, [{"name": n, "confidence": c} for n, c in ranking])
    return message


def test_catalogue_phrases_are_names_without_their_prefix_and_aliases(catalogue) -> None:
    assert catalogue_phrases(Path(catalogue["procedures"]), Path(catalogue["aliases"])) == [
        "chuyển hưởng lương hưu sang địa bàn khác",
        "Cấp thẻ tạm trú cho người nước ngoài",
        "lãnh lương hưu ở nơi khác",
        "thẻ tạm trú",
    ]


def test_missing_catalogue_files_give_no_phrases(tmp_path: Path) -> None:
    assert catalogue_phrases(tmp_path / "none.jsonl.gz", tmp_path / "none.yml") == []


def test_a_question_in_the_catalogues_words_is_taken_for_a_procedure(mixer) -> None:
    """DIET never saw a pension procedure and was sure it is out of scope; the catalogue's
    words turn the mixed ranking to ask_procedure."""
    [p] = mixer.probabilities(["chuyen luong huu ve Hue"])
    assert max(p, key=p.get) == "ask_procedure"
    [message] = mixer.process(
        [parsed("chuyen luong huu ve Hue", [("out_of_scope", 0.98), ("ask_procedure", 0.02)])]
    )
    assert message.get(INTENT)["name"] == "ask_procedure"


def test_without_the_catalogue_the_same_question_stays_out_of_scope(
    model_storage, resource, tmp_path
) -> None:
    config = {"procedures": str(tmp_path / "none"), "aliases": str(tmp_path / "none")}
    component = LinearIntentMixer.create(config, model_storage, resource, None)
    component.train(training_data())
    [message] = component.process(
        [parsed("chuyen luong huu ve Hue", [("out_of_scope", 0.98), ("ask_procedure", 0.02)])]
    )
    assert message.get(INTENT)["name"] == "out_of_scope"


def test_the_mixed_ranking_is_weighted_sorted_and_a_distribution(mixer) -> None:
    text = "giá vàng hôm nay bao nhiêu"
    [linear] = mixer.probabilities([text])
    [message] = mixer.process([parsed(text, [("ask_procedure_fee", 0.7), ("out_of_scope", 0.3)])])
    confidences = {r["name"]: r["confidence"] for r in message.get(INTENT_RANKING_KEY)}
    assert confidences["ask_procedure_fee"] == pytest.approx(
        0.4 * 0.7 + 0.6 * linear["ask_procedure_fee"]
    )
    assert confidences["out_of_scope"] == pytest.approx(0.4 * 0.3 + 0.6 * linear["out_of_scope"])
    assert confidences["greet"] == pytest.approx(0.6 * linear["greet"])
    assert sum(confidences.values()) == pytest.approx(1.0)
    ranking = message.get(INTENT_RANKING_KEY)
    assert ranking == sorted(ranking, key=lambda r: -r["confidence"])
    assert message.get(INTENT) == ranking[0]


def test_the_ranking_keeps_its_length(model_storage, resource, catalogue) -> None:
    component = LinearIntentMixer.create(
        {**catalogue, "ranking_length": 2}, model_storage, resource, None
    )
    component.train(training_data())
    [message] = component.process([parsed("chào bạn", [("greet", 0.9), ("out_of_scope", 0.1)])])
    assert [r["name"] for r in message.get(INTENT_RANKING_KEY)][:1] == ["greet"]
    assert len(message.get(INTENT_RANKING_KEY)) == 2


def test_a_message_without_a_ranking_is_left_alone(mixer) -> None:
    message = Message({TEXT: "/greet"})
    [out] = mixer.process([message])
    assert out.get(INTENT) is None


def test_survives_persist_and_load(mixer, model_storage, resource, catalogue) -> None:
    loaded = LinearIntentMixer.load(catalogue, model_storage, resource, None)
    texts = ["chuyen luong huu ve Hue", "giá vàng hôm nay bao nhiêu"]
    assert loaded.probabilities(texts) == mixer.probabilities(texts)


def test_a_changed_catalogue_changes_the_fingerprint(catalogue) -> None:
    before = LinearIntentMixer.fingerprint_addon(catalogue)
    assert before == LinearIntentMixer.fingerprint_addon(catalogue)
    Path(catalogue["aliases"]).write_text("aliases: []\n", encoding="utf-8")
    assert LinearIntentMixer.fingerprint_addon(catalogue) != before


def test_the_project_catalogue_is_where_the_defaults_point() -> None:
    from tests.engine.conftest import ROOT

    defaults = LinearIntentMixer.get_default_config()
    phrases = catalogue_phrases(ROOT / defaults["procedures"], ROOT / defaults["aliases"])
    assert len(phrases) > 3000  # 2,642 names and the aliases


def test_without_intent_examples_it_changes_nothing(model_storage, resource, tmp_path) -> None:
    config = {"procedures": str(tmp_path / "none"), "aliases": str(tmp_path / "none")}
    component = LinearIntentMixer.create(config, model_storage, resource, None)
    component.train(TrainingData([Message({TEXT: "chào", INTENT: "greet"})]))
    before = parsed("giá vàng", [("greet", 0.99)])
    [message] = component.process([before])
    assert message.get(INTENT) == {"name": "greet", "confidence": 0.99}
