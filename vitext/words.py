"""The words of a citizen's message, read one way by every matcher of the project.

The same word is typed many ways: with or without diacritics ("đăng ký", "dang ky"), with
i or y ("kí"/"ký", "Vĩ Dạ"/"Vỹ Dạ", "quí"/"quý"), with the tone on either vowel
("hoà"/"hòa", "thuỷ"/"thủy"), or as teencode ("đk", "ko"). `words` splits a text into
`Word`s, each kept in three forms:

- ``written``: lower-case NFC, as typed;
- ``folded``: accent-free (đ → d), lower case, i/y canonical — what words are matched on;
- ``spelling``: ``written`` with i/y and the tone's place canonical — what diacritics are
  compared on. A word is ``marked`` (typed with diacritics) when it differs from ``folded``.

A word typed without diacritics may be any word that folds like it; typed with them, it is
only the word spelt alike (`spelled_alike`, `same_word`): "den" may be "đèn", "đến" is not.
Abbreviations come from the one table in vitext.lexicon (`abbreviation`, ``expand=True``).

Offsets are exact: a word's ``start``/``end`` index the text as given, whatever its
normalisation form, and ``written`` is the NFC form of ``text[start:end]``.
"""

from __future__ import annotations

import re
import unicodedata
from functools import lru_cache
from typing import NamedTuple

from vitext.lexicon import ABBREVIATIONS
from vitext.normalize import fold, nfc_with_offsets

# Letters and digits; zero-width characters that keyboards leave inside a word do not split it.
_WORD = re.compile("[^\\W_]+(?:[\u200b\u200c\u200d\u2060\ufeff]+[^\\W_]+)*")
_INVISIBLE = re.compile("[\u200b\u200c\u200d\u2060\ufeff]")
# A syllable whose only vowel is a final i or y is written both ways (kí/ký, lí/lý, Mĩ/Mỹ,
# Vĩ/Vỹ, quí/quý): y is the canonical form. Matched on the folded word.
_I_OR_Y = re.compile(r"(?:[b-df-hj-np-tv-xz]*|qu)[iy]")
_TO_Y = str.maketrans("iìíỉĩị", "yỳýỷỹỵ")
_TONES = "\u0300\u0301\u0303\u0309\u0323"  # grave, acute, tilde, hook, dot below


class Word(NamedTuple):
    start: int  # offsets in the text as given
    end: int
    written: str  # lower-case NFC, as typed
    folded: str  # accent-free, lower case, i/y canonical
    spelling: str  # ``written`` with i/y and the tone's place canonical
    expanded: bool = False  # one of the words an abbreviation stands for (never typed)

    @property
    def marked(self) -> bool:
        """Whether the word was typed with diacritics ("đ" counts)."""
        return self.spelling != self.folded


def _lower(text: str) -> str:
    lowered = text.lower()
    if len(lowered) == len(text):
        return lowered
    # A few characters lower-case into two (İ → i̇); they are kept as they are.
    return "".join(c if len(c.lower()) != 1 else c.lower() for c in text)


def _iy(folded: str) -> bool:
    return _I_OR_Y.fullmatch(folded) is not None


@lru_cache(maxsize=65536)
def _tone_placed(written: str) -> str:
    """One place for the tone of "hoà"/"hòa", "khoá"/"khóa", "thuỷ"/"thủy" (on the o, u)."""
    decomposed = unicodedata.normalize("NFD", written)
    bare = "".join(c for c in decomposed if c not in _TONES)
    if len(bare) < 2 or bare[-2:] not in ("oa", "oe", "uy") or bare[-3:-2] == "q":
        return written
    tone = "".join(c for c in decomposed if c in _TONES)
    if not tone:
        return written
    return unicodedata.normalize("NFC", bare[:-1] + tone + bare[-1])


@lru_cache(maxsize=65536)
def _forms(written: str) -> tuple[str, str]:
    """(folded, spelling) of one lower-case NFC word."""
    folded = fold(written)
    if _iy(folded):
        return folded[:-1] + "y", written[:-1] + written[-1].translate(_TO_Y)
    return folded, _tone_placed(written)


def spelling(word: str) -> str:
    """The canonical spelling of one word: "Kí" → "ký", "hoà" → "hòa", "Thuỷ" → "thủy"."""
    return _forms(_lower(unicodedata.normalize("NFC", word)))[1]


def marked(word: str) -> bool:
    """Whether a word (or text) is written with diacritics, "đ" included."""
    return fold(word) != _lower(word)


def spelled_alike(typed: str | None, wanted: str | None) -> bool:
    """A word typed as ``wanted`` asks, given two words that fold alike.

    True when nothing is wanted (None), when ``typed`` has no diacritics (it may be the
    wanted word), or when both are spelt the same once i/y and the tone's place are made
    canonical.
    """
    if wanted is None or typed is None or not marked(typed):
        return True
    return spelling(typed) == spelling(wanted)


def same_word(typed: Word, wanted: Word) -> bool:
    """Whether ``typed`` may be ``wanted``, a word written properly: they fold alike, and
    ``typed`` is either without diacritics or spelt alike ("den", "đèn" may be "đèn"; "đến"
    is not, nor is "gà" the "ga" of "hố ga")."""
    return typed.folded == wanted.folded and (not typed.marked or typed.spelling == wanted.spelling)


@lru_cache(maxsize=65536)
def abbreviation(written: str) -> str | None:
    """The full form of one word typed as an abbreviation ("đk" → "đăng ký"), else None.

    Teencode is typed without diacritics: "đ" aside, a word with them is one only when the
    table has it so ("hông"), never by folding ("hồng" is not "hong").
    """
    lowered = _lower(written)
    if marked(lowered.replace("đ", "d")):
        return ABBREVIATIONS.get(lowered)
    return ABBREVIATIONS.get(lowered.replace("đ", "d"))


@lru_cache(maxsize=256)
def _folded_parts(full: str) -> tuple[str, ...]:
    return tuple(w.folded for w in words(full))


def words(text: str, *, expand: bool = False) -> list[Word]:
    """The words (runs of letters and digits) of ``text``, in order.

    With ``expand``, an abbreviation is replaced by the words it stands for, each spanning
    the abbreviation, typed without diacritics and ``expanded``.
    """
    nfc, starts, ends = nfc_with_offsets(text)
    lowered = _lower(nfc)
    out: list[Word] = []
    for match in _WORD.finditer(lowered):
        start, end = starts[match.start()], ends[match.end() - 1]
        written = _INVISIBLE.sub("", match.group())
        full = abbreviation(written) if expand else None
        if full is None:
            out.append(Word(start, end, written, *_forms(written)))
            continue
        out.extend(Word(start, end, f, f, f, True) for f in _folded_parts(full))
    return out


def folded(text: str) -> str:
    """The folded words of ``text`` joined by single spaces: "Vĩ Dạ, Huế" → "vy da hue"."""
    return " ".join(w.folded for w in words(text))


def matching_form(text: str) -> str:
    """``fold(text)`` with i/y canonical in every word: one character per character of an
    NFC ``text``, so that a match in it is at the same offsets in ``text``."""
    out = list(fold(text))
    for match in _WORD.finditer("".join(out)):
        if _iy(match.group()):
            out[match.end() - 1] = "y"
    return "".join(out)
