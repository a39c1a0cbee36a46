"""A Vietnamese tokenizer for Rasa built on pyvi, with exact character offsets.

Syllables are found in the text itself; pyvi's CRF only decides which neighbouring syllables
form one word. A word token spans its syllables in the original text (``text`` is always
``message_text[start:end]``, whatever the normalisation form of the input). The token's lemma
is the form the featurizers see: lower-case, syllables joined with ``_``, optionally without
diacritics and with common abbreviations expanded.
"""

from __future__ import annotations

import re
import string
from typing import Any, Dict, List, Optional, Tuple

from rasa.engine.graph import ExecutionContext
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.resource import Resource
from rasa.engine.storage.storage import ModelStorage
from rasa.nlu.tokenizers.tokenizer import Token, Tokenizer
from rasa.shared.nlu.training_data.message import Message

from vitext import fold, nfc_with_offsets
from vitext.lexicon import ABBREVIATIONS

# A run of word characters; runs joined by - . / : , are kept together when they hold a
# digit (codes, dates, phone numbers, house numbers: PA-2026-000123, 12/3/2025, 45/12).
_CHUNK = re.compile(r"\w+(?:[-./:,]\w+)*")
_WORD = re.compile(r"\w+")

Span = Tuple[int, int]


def syllable_spans(text: str) -> List[Span]:
    """Spans of the syllables (and digit-bearing chunks) of an NFC text."""
    spans: List[Span] = []
    for chunk in _CHUNK.finditer(text):
        if any(c.isdigit() for c in chunk.group()):
            spans.append(chunk.span())
        else:
            spans.extend(m.span() for m in _WORD.finditer(text, chunk.start(), chunk.end()))
    return spans


def _pyvi_labels(syllables: List[str]) -> List[str]:
    from pyvi.ViTokenizer import ViTokenizer

    features = ViTokenizer.sent2features(syllables, False)
    return list(ViTokenizer.model.predict([features])[0])


def _joins(prev: str, cur: str, label: str) -> bool:
    """pyvi's own rule for gluing a syllable to the previous one (ViTokenizer.tokenize)."""
    return (
        label == "I_W"
        and cur not in string.punctuation
        and prev not in string.punctuation
        and not cur[0].isdigit()
        and not prev[0].isdigit()
        and not (cur[0].istitle() and not prev[0].istitle())
    )


def word_spans(text: str, *, segment: bool) -> List[Span]:
    """Word spans of an NFC text: syllables, glued into words by pyvi when ``segment``."""
    spans = syllable_spans(text)
    if not segment or len(spans) < 2:
        return spans
    syllables = [text[s:e] for s, e in spans]
    labels = _pyvi_labels(syllables)
    words: List[Span] = [spans[0]]
    for i in range(1, len(spans)):
        between = text[spans[i - 1][1] : spans[i][0]]
        if between.isspace() and _joins(syllables[i - 1], syllables[i], labels[i]):
            words[-1] = (words[-1][0], spans[i][1])
        else:
            words.append(spans[i])
    return words


@DefaultV1Recipe.register(DefaultV1Recipe.ComponentType.MESSAGE_TOKENIZER, is_trainable=False)
class VietnameseTokenizer(Tokenizer):
    """Tokenizes Vietnamese with pyvi word segmentation and exact offsets."""

    @staticmethod
    def get_default_config() -> Dict[str, Any]:
        return {
            "intent_tokenization_flag": False,
            "intent_split_symbol": "_",
            "token_pattern": None,
            "prefix_separator_symbol": None,
            # glue syllables into words with pyvi
            "segment": True,
            # lemma without diacritics (what featurizers with use_lemma see)
            "strip_accents": True,
            # lemma of common abbreviations and teencode is their full form
            "expand_abbreviations": True,
        }

    @staticmethod
    def required_packages() -> List[str]:
        return ["pyvi"]

    @staticmethod
    def supported_languages() -> Optional[List[str]]:
        return ["vi"]

    @classmethod
    def create(
        cls,
        config: Dict[str, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
    ) -> VietnameseTokenizer:
        return cls({**cls.get_default_config(), **config})

    def lemma(self, word: str) -> str:
        form = word.lower()
        if self._config["strip_accents"]:
            form = fold(form)
        form = "_".join(form.split())
        if self._config["expand_abbreviations"]:
            form = ABBREVIATIONS.get(fold(form), form)
        return form

    def tokenize(self, message: Message, attribute: str) -> List[Token]:
        text = message.get(attribute) or ""
        nfc, starts, ends = nfc_with_offsets(text)
        tokens = []
        for start, end in word_spans(nfc, segment=self._config["segment"]):
            orig_start, orig_end = starts[start], ends[end - 1]
            tokens.append(
                Token(
                    text[orig_start:orig_end],
                    orig_start,
                    end=orig_end,
                    lemma=self.lemma(nfc[start:end]),
                )
            )
        if not tokens and text:
            # Like Rasa's own tokenizers: a message with no word (emoji, punctuation)
            # is one token, so that featurizers always have something to look at.
            tokens = [Token(text, 0, end=len(text), lemma=text)]
        return self._apply_token_pattern(tokens)
