"""The NLU training data is written the way citizens write (issue #2's data requirements)."""

from __future__ import annotations

import re
from collections import Counter

import pytest
import yaml
from rasa.shared.nlu.training_data.loading import load_data

from hue_rasa.tokenizer import VietnameseTokenizer
from tests.engine.conftest import ROOT
from vitext import fold
from vitext.lexicon import ABBREVIATIONS
from vitext.normalize import strip_accents

# Words of Huế speech that standard Vietnamese writes otherwise (răng = sao, rứa = vậy,
# mô = đâu, tê = kia, ni = này, chừ = bây giờ, mạ/mệ = mẹ/bà, o = cô...).
DIALECT = {"răng", "rứa", "mô", "tê", "ni", "chi", "hỉ", "nờ", "ri", "chừ", "mạ", "mệ", "o", "nớ"}


def _tokenizer() -> VietnameseTokenizer:
    """The tokenizer as config.yml configures it."""
    config = yaml.safe_load((ROOT / "config.yml").read_text(encoding="utf-8"))
    options = next(c for c in config["pipeline"] if c["name"].endswith("VietnameseTokenizer"))
    options = {k: v for k, v in options.items() if k != "name"}
    return VietnameseTokenizer({**VietnameseTokenizer.get_default_config(), **options})


def _examples() -> dict[str, list[str]]:
    by_intent: dict[str, list[str]] = {}
    for message in load_data(str(ROOT / "data" / "nlu")).intent_examples:
        by_intent.setdefault(message.get("intent"), []).append(message.get("text"))
    return by_intent


EXAMPLES = _examples()
INTENTS = yaml.safe_load((ROOT / "domain.yml").read_text(encoding="utf-8"))["intents"]


def _informal(text: str) -> bool:
    """Typed without diacritics, or with an abbreviation or teencode."""
    words = re.findall(r"\w+", fold(text))
    return strip_accents(text) == text or any(word in ABBREVIATIONS for word in words)


def test_every_intent_of_the_domain_has_examples() -> None:
    assert sorted(EXAMPLES) == sorted(INTENTS)


@pytest.mark.parametrize("intent", sorted(EXAMPLES))
def test_each_intent_has_40_examples_a_third_informal_and_some_in_hue_speech(intent) -> None:
    texts = EXAMPLES[intent]
    assert len(texts) >= 40
    assert sum(map(_informal, texts)) >= len(texts) / 3
    in_dialect = [t for t in texts if set(re.findall(r"\w+", t.lower())) & DIALECT]
    assert len(in_dialect) >= 5


def test_no_example_is_repeated_within_an_intent() -> None:
    repeated = {
        intent: [text for text, n in Counter(map(fold, texts)).items() if n > 1]
        for intent, texts in EXAMPLES.items()
    }
    assert {intent: texts for intent, texts in repeated.items() if texts} == {}


def test_every_entity_annotation_starts_and_ends_on_a_token_edge() -> None:
    # An entity is a run of whole tokens: an annotation that cuts a token is dropped by DIET
    # ("Misaligned entity annotation" when training) and the example teaches no entity.
    training_data = _tokenizer().process_training_data(load_data(str(ROOT / "data" / "nlu")))
    misaligned = []
    for message in training_data.entity_examples:
        tokens = message.get("text_tokens")
        starts, ends = {t.start for t in tokens}, {t.end for t in tokens}
        for entity in message.get("entities"):
            if entity["start"] not in starts or entity["end"] not in ends:
                words = [t.text for t in tokens]
                misaligned.append(f"{message.get('text')!r} {entity['value']!r} {words}")
    assert misaligned == []


def test_the_report_forms_buttons_each_send_what_they_answer() -> None:
    """A message that failed and is sent again is recognised by being equal to the one
    waiting (bot/conversations/backlog.py): the button of one question must not send the same
    payload as a button of the next, or "Không nguy hiểm" after a failed "Bỏ qua" is dropped
    as a resend."""
    responses = yaml.safe_load((ROOT / "domain.yml").read_text(encoding="utf-8"))["responses"]

    def payloads(name: str) -> set[str]:
        return {b["payload"] for r in responses[name] for b in r.get("buttons") or []}

    assert not payloads("utter_ask_report_photo_step") & payloads("utter_ask_report_urgency")
    assert payloads("utter_ask_report_urgency") == {
        '/affirm{"report_urgency": "urgent"}',
        '/deny{"report_urgency": "normal"}',
    }


def test_the_test_stories_are_read_by_rasa_as_written() -> None:
    """A YAML slip in tests/stories shows here, not after training (rasa test core reads them
    only then); every story's intents and actions are the domain's."""
    from rasa.shared.core.domain import Domain
    from rasa.shared.core.training_data.story_reader.yaml_story_reader import YAMLStoryReader

    domain = Domain.load(str(ROOT / "domain.yml"))
    files = sorted((ROOT / "tests" / "stories").glob("*.yml"))
    assert files
    for path in files:
        steps = YAMLStoryReader(domain).read_from_file(str(path))
        assert steps, path.name
        for step in steps:
            for event in step.events:
                name = getattr(event, "action_name", None)
                if name and not name.startswith("action_listen"):
                    assert name in domain.action_names_or_texts, (path.name, name)
