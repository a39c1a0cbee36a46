"""Deterministic entity extractors: Huế communes (gazetteer) and codes/phone numbers (patterns).

Both match on the accent-folded text (`vitext.words.matching_form`, i/y canonical), which has
one character per character of the message, so the offsets they report are offsets in the
message as the citizen typed it.
"""

from __future__ import annotations

import re
from typing import Any, Callable, Dict, List, Optional, Tuple

import rasa.shared.utils.io
from rasa.engine.graph import ExecutionContext, GraphComponent
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.resource import Resource
from rasa.engine.storage.storage import ModelStorage
from rasa.nlu.extractors.extractor import EntityExtractorMixin
from rasa.shared.nlu.constants import (
    ENTITIES,
    ENTITY_ATTRIBUTE_END,
    ENTITY_ATTRIBUTE_START,
    ENTITY_ATTRIBUTE_TYPE,
    ENTITY_ATTRIBUTE_VALUE,
    TEXT,
)
from rasa.shared.nlu.training_data.message import Message
from rasa.shared.nlu.training_data.training_data import TrainingData

from vitext import nfc_with_offsets
from vitext.lexicon import PHONE_REGEX
from vitext.words import folded, matching_form, words

GAZETTEER_FILE = "gazetteer.json"
DEFAULT = "*"


def _spelling(text: str) -> str:
    """A name as written, for exact comparison: its words as spelt (vitext.words), i/y and
    the tone's place canonical ("Vĩ Dạ" and "Vỹ Dạ" are spelt alike)."""
    return " ".join(w.spelling for w in words(text))


def _alias_pattern(alias: str) -> str:
    """Folded alias as a regex on `matching_form` text (i/y canonical: "vi da" matches
    "Vỹ Dạ"): any whitespace between words, optional spaced dashes."""
    parts = [re.escape(w.folded) for w in words(alias)]
    return r"(?<!\w)" + r"[\s\-–]+".join(parts) + r"(?!\w)"


def _add_entities(message: Message, entities: List[Dict[str, Any]]) -> None:
    message.set(ENTITIES, message.get(ENTITIES, []) + entities, add_to_output=True)


# (entity type, compiled pattern on folded text, value from the matched original text)
PatternSpec = Tuple[str, "re.Pattern[str]", Callable[[str], str]]


def find_entities(text: str, specs: List[PatternSpec]) -> List[Dict[str, Any]]:
    """Non-overlapping matches of ``specs`` in order of priority, sorted by position."""
    nfc, starts, ends = nfc_with_offsets(text)
    folded = matching_form(nfc)
    taken = [False] * len(nfc)
    found = []
    for entity, pattern, value in specs:
        for match in pattern.finditer(folded):
            if any(taken[match.start() : match.end()]):
                continue
            taken[match.start() : match.end()] = [True] * (match.end() - match.start())
            start, end = starts[match.start()], ends[match.end() - 1]
            found.append(
                {
                    ENTITY_ATTRIBUTE_TYPE: entity,
                    ENTITY_ATTRIBUTE_START: start,
                    ENTITY_ATTRIBUTE_END: end,
                    ENTITY_ATTRIBUTE_VALUE: value(text[start:end]),
                }
            )
    return sorted(found, key=lambda e: e[ENTITY_ATTRIBUTE_START])


@DefaultV1Recipe.register(DefaultV1Recipe.ComponentType.ENTITY_EXTRACTOR, is_trainable=True)
class GazetteerEntityExtractor(GraphComponent, EntityExtractorMixin):
    """Finds names from lookup tables, with or without diacritics, mapped by synonyms.

    Trained from the lookup tables whose name is in ``entities`` and from the training
    data's synonyms (alias → canonical value); persisted into the model.
    """

    @staticmethod
    def get_default_config() -> Dict[str, Any]:
        return {"entities": ["commune"]}

    def __init__(
        self,
        config: Dict[str, Any],
        model_storage: ModelStorage,
        resource: Resource,
        gazetteer: Optional[Dict[str, Dict[str, str]]] = None,
    ) -> None:
        self._config = {**self.get_default_config(), **config}
        self._model_storage = model_storage
        self._resource = resource
        # entity type → folded alias → {written alias (NFC, lower case) → canonical value,
        # DEFAULT → the value when the message's spelling is none of them}
        self.gazetteer: Dict[str, Dict[str, Dict[str, str]]] = gazetteer or {}
        self._compile()

    @classmethod
    def create(
        cls,
        config: Dict[str, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
    ) -> GazetteerEntityExtractor:
        return cls(config, model_storage, resource)

    def _compile(self) -> None:
        self._patterns: List[PatternSpec] = []
        for entity, aliases in self.gazetteer.items():
            # Longest aliases first, so "A Lưới 1" wins over a shorter overlapping name.
            for alias in sorted(aliases, key=len, reverse=True):
                spellings = aliases[alias]
                if isinstance(spellings, str):  # a model trained before spellings were kept
                    spellings = {DEFAULT: spellings}
                self._patterns.append(
                    (
                        entity,
                        re.compile(_alias_pattern(alias)),
                        lambda matched, v=spellings: v.get(_spelling(matched), v[DEFAULT]),
                    )
                )

    def train(self, training_data: TrainingData) -> Resource:
        synonyms = {_spelling(k): v for k, v in training_data.entity_synonyms.items()}
        gazetteer: Dict[str, Dict[str, Dict[str, str]]] = {}
        for table in training_data.lookup_tables:
            if table["name"] not in self._config["entities"]:
                continue
            names = table["elements"]
            if isinstance(names, str):
                names = [n.strip() for n in names.splitlines() if n.strip()]
            aliases = gazetteer.setdefault(table["name"], {})
            for name in names:
                canonical = synonyms.get(_spelling(name), name)
                spellings = aliases.setdefault(folded(name), {})
                spellings[_spelling(name)] = canonical
                # Spelt without diacritics, a current name wins over a former name spelt
                # the same ("Thuận Hóa" today, "Thuận Hòa" a former name now in Phú Xuân).
                is_current = canonical == name
                if DEFAULT not in spellings or is_current:
                    spellings[DEFAULT] = canonical
        self.gazetteer = gazetteer
        self._compile()
        with self._model_storage.write_to(self._resource) as path:
            rasa.shared.utils.io.dump_obj_as_json_to_file(path / GAZETTEER_FILE, self.gazetteer)
        return self._resource

    @classmethod
    def load(
        cls,
        config: Dict[str, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
        **kwargs: Any,
    ) -> GazetteerEntityExtractor:
        try:
            with model_storage.read_from(resource) as path:
                gazetteer = rasa.shared.utils.io.read_json_file(path / GAZETTEER_FILE)
        except (ValueError, FileNotFoundError):
            gazetteer = None
        return cls(config, model_storage, resource, gazetteer)

    def extract(self, text: str) -> List[Dict[str, Any]]:
        return find_entities(text, self._patterns)

    def process(self, messages: List[Message]) -> List[Message]:
        for message in messages:
            entities = self.extract(message.get(TEXT) or "")
            _add_entities(message, self.add_extractor_name(entities))
        return messages


def _digits(text: str) -> str:
    digits = re.sub(r"\D", "", text)
    return "0" + digits[2:] if digits.startswith("84") and len(digits) == 11 else digits


def _report_code(text: str) -> str:
    digits = re.sub(r"\D", "", text)
    return f"PA-{digits[:4]}-{digits[4:]}"


_NORMALIZERS = {
    "upper_no_space": lambda s: re.sub(r"\s+", "", s).upper(),
    "report_code": _report_code,
    "digits": _digits,
    "text": lambda s: s,
}


@DefaultV1Recipe.register(DefaultV1Recipe.ComponentType.ENTITY_EXTRACTOR, is_trainable=False)
class PatternEntityExtractor(GraphComponent, EntityExtractorMixin):
    """Extracts entities with a fixed format (tracking codes, application codes, phones).

    Each pattern has an entity name, a regex (matched case-insensitively on the
    accent-folded text) and how its value is normalised.
    """

    @staticmethod
    def get_default_config() -> Dict[str, Any]:
        return {
            "patterns": [
                {
                    "entity": "report_code",
                    # as typed: "PA-2026-000123", "pa 2026 000512", "PA2026000418"
                    "regex": r"(?<![\w-])pa\s*-?\s*\d{4}\s*-?\s*\d{6}(?![\w-])",
                    "normalize": "report_code",
                },
                {
                    # one-stop application codes: 000.00.21.H57-250612-0003
                    "entity": "application_code",
                    "regex": r"(?<![\w.-])[0-9a-z]+(?:\.[0-9a-z]+)*-\d{6}-\d{4}(?![\w-])",
                    "normalize": "upper_no_space",
                },
                {
                    # Vietnamese numbers: 0 or +84 then 9 digits, with spaces/dots/dashes
                    "entity": "phone",
                    "regex": PHONE_REGEX,
                    "normalize": "digits",
                },
            ]
        }

    def __init__(self, config: Dict[str, Any]) -> None:
        self._config = {**self.get_default_config(), **config}
        self._patterns: List[PatternSpec] = [
            (p["entity"], re.compile(p["regex"], re.IGNORECASE), _NORMALIZERS[p["normalize"]])
            for p in self._config["patterns"]
        ]

    @classmethod
    def create(
        cls,
        config: Dict[str, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
    ) -> PatternEntityExtractor:
        return cls(config)

    def extract(self, text: str) -> List[Dict[str, Any]]:
        return find_entities(text, self._patterns)

    def process(self, messages: List[Message]) -> List[Message]:
        for message in messages:
            entities = self.extract(message.get(TEXT) or "")
            _add_entities(message, self.add_extractor_name(entities))
        return messages
