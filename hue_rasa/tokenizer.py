"""A Vietnamese tokenizer for Rasa built on pyvi, with exact character offsets.

Syllables are found in the text itself; pyvi's CRF only decides which neighbouring syllables
form one word. A word token spans its syllables in the original text (``text`` is always
``message_text[start:end]``, whatever the normalisation form of the input). The token's lemma
is the form the featurizers see: lower-case, syllables joined with ``_``, optionally without
diacritics and with abbreviations expanded (vitext.words, the table in vitext.lexicon).

A token never crosses an entity's edge, since an entity is a run of whole tokens:

- in training, a word that an annotated entity starts or ends inside of is cut there;
- with ``known_words_only``, a word pyvi glues that its own lexicon does not know (accents
  folded) is cut into the longest words the lexicon knows. pyvi's CRF glues a word to its
  neighbour ("hồ sơ cấp", "cá nhân thế nào", and without diacritics "phi dang", "ve dang")
  exactly where a procedure name starts or ends; the lexicon knows none of those.
"""

from __future__ import annotations

import bisect
import functools
import itertools
import re
import string
from typing import Any, Dict, FrozenSet, Iterable, List, Optional, Tuple

from rasa.engine.graph import ExecutionContext
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.resource import Resource
from rasa.engine.storage.storage import ModelStorage
from rasa.nlu.tokenizers.tokenizer import Token, Tokenizer
from rasa.shared.nlu.constants import (
    ENTITIES,
    ENTITY_ATTRIBUTE_END,
    ENTITY_ATTRIBUTE_START,
    TEXT,
)
from rasa.shared.nlu.training_data.message import Message

from vitext import fold, nfc_with_offsets
from vitext.words import abbreviation

# A run of word characters; runs joined by - . / : , are kept together when they hold a
# digit (codes, dates, phone numbers, house numbers: PA-2026-000123, 12/3/2025, 45/12).
_CHUNK = re.compile(r"\w+(?:[-./:,]\w+)*")
_WORD = re.compile(r"\w+")
# pyvi's lexicon has words of two and three syllables.
_LONGEST_KNOWN = 3

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


@functools.lru_cache(maxsize=1)
def _lexicon() -> FrozenSet[str]:
    """pyvi's words of several syllables, accent-folded ("can cuoc", "ho so")."""
    from pyvi.ViTokenizer import ViTokenizer

    return frozenset(fold(word) for word in ViTokenizer.bi_grams | ViTokenizer.tri_grams)


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


def _pyvi_words(text: str, spans: List[Span]) -> List[List[Span]]:
    """The syllables of ``text`` grouped into the words pyvi segments."""
    syllables = [text[s:e] for s, e in spans]
    labels = _pyvi_labels(syllables)
    words = [[spans[0]]]
    for i in range(1, len(spans)):
        between = text[spans[i - 1][1] : spans[i][0]]
        if between.isspace() and _joins(syllables[i - 1], syllables[i], labels[i]):
            words[-1].append(spans[i])
        else:
            words.append([spans[i]])
    return words


def _known_words(text: str, word: List[Span]) -> List[List[Span]]:
    """``word`` if pyvi's lexicon knows it, else its longest known words, left to right."""
    lexicon = _lexicon()

    def known(part: List[Span]) -> bool:
        return len(part) == 1 or fold(" ".join(text[s:e] for s, e in part)) in lexicon

    if known(word):
        return [word]
    parts = []
    i = 0
    while i < len(word):
        n = next(
            n for n in range(min(_LONGEST_KNOWN, len(word) - i), 0, -1) if known(word[i : i + n])
        )
        parts.append(word[i : i + n])
        i += n
    return parts


def _cut_at(word: List[Span], edges: FrozenSet[int]) -> List[List[Span]]:
    """``word`` cut between two of its syllables wherever an edge lies in the gap."""
    parts = [[word[0]]]
    for prev, cur in itertools.pairwise(word):
        if any(prev[1] <= edge <= cur[0] for edge in edges):
            parts.append([cur])
        else:
            parts[-1].append(cur)
    return parts


def word_spans(
    text: str, *, segment: bool, known_words_only: bool = False, edges: Iterable[int] = ()
) -> List[Span]:
    """Word spans of an NFC text: syllables, glued into words by pyvi when ``segment``.

    ``known_words_only`` keeps only the words pyvi's lexicon knows; no word crosses one of
    ``edges`` (offsets in ``text``, such as an entity's start and end) between two syllables.
    """
    spans = syllable_spans(text)
    if not segment or len(spans) < 2:
        return spans
    words = _pyvi_words(text, spans)
    if known_words_only:
        words = [part for word in words for part in _known_words(text, word)]
    edge_set = frozenset(edges)
    if edge_set:
        words = [part for word in words for part in _cut_at(word, edge_set)]
    return [(word[0][0], word[-1][1]) for word in words]


def _entity_edges(message: Message, starts: List[int]) -> List[int]:
    """The starts and ends of a training message's entities, as offsets in its NFC text."""
    edges = []
    for entity in message.get(ENTITIES) or []:
        for offset in (entity[ENTITY_ATTRIBUTE_START], entity[ENTITY_ATTRIBUTE_END]):
            # the first NFC character that starts at or after the offset
            edges.append(bisect.bisect_left(starts, offset))
    return edges


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
            # ...but only into words pyvi's lexicon knows (accents folded)
            "known_words_only": False,
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
        """Lower case, syllables joined by ``_``; an abbreviation typed without diacritics
        is its full form ("đk" → "dang_ky", not "hẻm" → "khong"; see vitext.words)."""
        form = (self._config["expand_abbreviations"] and abbreviation(word)) or word
        form = form.lower()
        if self._config["strip_accents"]:
            form = fold(form)
        return "_".join(form.split())

    def tokenize(self, message: Message, attribute: str) -> List[Token]:
        text = message.get(attribute) or ""
        nfc, starts, ends = nfc_with_offsets(text)
        # Only a training message has entities when it is tokenized.
        edges = _entity_edges(message, starts) if attribute == TEXT else []
        spans = word_spans(
            nfc,
            segment=self._config["segment"],
            known_words_only=self._config["known_words_only"],
            edges=edges,
        )
        tokens = []
        for start, end in spans:
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
