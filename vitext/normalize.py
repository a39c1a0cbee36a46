"""Normalisation of citizens' messages at the edge, and accent folding for matching.

`strip_accents` maps every character of NFC text to exactly one character, so offsets found
in folded text are offsets in the original text. Text shown to a user is never folded.
"""

from __future__ import annotations

import re
import unicodedata

MAX_MESSAGE_CHARS = 2000

_WHITESPACE = re.compile(r"\s+")
# Zero-width and BOM characters that phone keyboards and copy-paste leave behind.
_INVISIBLE = re.compile("[\u200b\u200c\u200d\u2060\ufeff]")


class MessageTooLongError(ValueError):
    """A message longer than the configured limit."""

    def __init__(self, length: int, limit: int) -> None:
        super().__init__(f"message has {length} characters, limit is {limit}")
        self.length = length
        self.limit = limit


def normalize_message(text: str, *, max_chars: int = MAX_MESSAGE_CHARS) -> str:
    """NFC, invisible characters removed, whitespace runs collapsed, ends trimmed.

    Raises MessageTooLongError when the normalised text is longer than ``max_chars``.
    """
    text = unicodedata.normalize("NFC", text)
    text = _INVISIBLE.sub("", text)
    text = _WHITESPACE.sub(" ", text).strip()
    if len(text) > max_chars:
        raise MessageTooLongError(len(text), max_chars)
    return text


def _base_char(char: str) -> str:
    if char in "đĐ":
        return "d" if char == "đ" else "D"
    decomposed = unicodedata.normalize("NFD", char)
    base = "".join(c for c in decomposed if not unicodedata.combining(c))
    # A character that decomposes into nothing but marks keeps its place.
    return base[:1] if base else char


_FOLD_CACHE: dict[str, str] = {}


def strip_accents(text: str) -> str:
    """Remove Vietnamese diacritics, one output character per input character.

    The input should be NFC; a lone combining mark (NFD input) stays as it is so that the
    length is preserved either way.
    """
    out = []
    for char in text:
        if char.isascii():
            out.append(char)
            continue
        folded = _FOLD_CACHE.get(char)
        if folded is None:
            folded = _base_char(char)
            _FOLD_CACHE[char] = folded
        out.append(folded)
    return "".join(out)


def _lower_char(char: str) -> str:
    lowered = char.lower()
    # A few characters lower-case into two (İ → i̇); keep them as they are to keep offsets.
    return lowered if len(lowered) == 1 else char


def fold(text: str) -> str:
    """Lower-case, accent-free form used for matching (same length as the input)."""
    return "".join(_lower_char(c) for c in strip_accents(text))


def fold_words(text: str) -> str:
    """The folded words of ``text`` (letters and digits), joined by single spaces: the form
    word lists and phrase patterns are matched against ("Kiệt 12, Nguyễn Huệ" → "kiet 12
    nguyen hue")."""
    return " ".join(re.findall(r"[a-z0-9]+", fold(text)))


def nfc_with_offsets(text: str) -> tuple[str, list[int], list[int]]:
    """NFC form of ``text`` and, for each NFC character, its start/end in ``text``."""
    if unicodedata.is_normalized("NFC", text):
        return text, list(range(len(text))), list(range(1, len(text) + 1))
    pieces: list[str] = []
    starts: list[int] = []
    ends: list[int] = []
    cluster_start = 0
    for i in range(1, len(text) + 1):
        if i < len(text) and unicodedata.combining(text[i]):
            continue
        composed = unicodedata.normalize("NFC", text[cluster_start:i])
        pieces.append(composed)
        starts.extend([cluster_start] * len(composed))
        ends.extend([i] * len(composed))
        cluster_start = i
    return "".join(pieces), starts, ends
