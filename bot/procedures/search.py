"""Finding the procedure a citizen means, among thousands, without diacritics or official words.

Two stages, so that SQLite and PostgreSQL give the same answers:

1. **Candidates** come from the database's own full-text index (SQLite FTS5, PostgreSQL
   stored ``to_tsvector('simple', …)`` column with a GIN index) over name, field, aliases:
   any procedure sharing a word with the analysed query, best first, at most ``POOL``.
2. **Ranking** is done here, the same on both databases: query words weighted by how rare
   they are in the whole catalogue, word pairs that occur together in the name, how much of
   the name the query covers, and a penalty for special variants (foreign element, mobile
   registration, central-level, re-issue…) the query did not ask for, so that "khai sinh"
   finds "Thủ tục đăng ký khai sinh" rather than one of its variants — and a bonus for the
   variant it names ("cấp lại", "quốc tế"), so that the sibling asked for wins. Citizens'
   aliases are analysed like queries, so "mất sổ đỏ" meets the alias "mất sổ đỏ" in the
   same official words.

The words citizens use (sổ đỏ, cccd, bằng lái, hộ khẩu…) are mapped to the official words
by data/catalog/procedure_synonyms.yml; words are read by vitext.words (folding, i/y, teencode).

Matching is on accent-free words, but the diacritics a citizen types are read where they
tell two words apart: a question word or filler is dropped only when written as one ("cho
hỏi" / "thu hồi", "tui tính" / "cấp tỉnh"), a phrase written with marks in the synonym file
matches only words written alike ("cưới" / "cuối"), and a word counts less in a name that
writes it otherwise ("đổi" / "đối với", "cũ" / "chung cư"). Without diacritics, a word pair
that some name or alias has decides ("thu hoi"). A clause saying why ("… để xây nhà") or in
what situation ("… thì …") counts less than what is asked; an age the citizen states picks
the name's age bracket ("con 10 tuổi": dưới 14 tuổi).
"""

from __future__ import annotations

import dataclasses
import itertools
import math
import re
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

import yaml
from sqlalchemy import func, select, text
from sqlalchemy.orm import Session

from bot.procedures.models import Procedure
from bot.settings import ROOT
from vitext.words import marked, spelled_alike
from vitext.words import words as vitext_words

LEXICON_FILE = ROOT / "data" / "catalog" / "procedure_synonyms.yml"
POOL = 150  # candidates taken from the full-text index
MATCH_THRESHOLD = 0.43  # below this the best hit is not a match
AMBIGUITY_MARGIN = 0.06  # hits this close to the best are offered as alternatives
VARIANT_PENALTY = 0.15
VARIANT_BONUS = 0.1  # for a variant the query names in full
MINISTRY_ONLY_PENALTY = 0.05
QUERY_WEIGHT = 0.5  # share of the query's weight found in the name
NAME_COVERAGE_WEIGHT = 0.35  # share of the name's weight the query covers
PAIR_WEIGHT = 0.6  # query word pairs that occur together in the name
FIELD_WEIGHT = 0.3
COMMON_SHARE = 0.2
ALIAS_FACTOR = 0.92  # an alias counts a little less than the official name
MIN_CORRECTED = 5
VERSION_CHECK_SECONDS = 10.0  # shorter words are too often another real word one slip away
MISWRITTEN = 0.5  # share of a word's weight where the form writes it otherwise
PURPOSE_WEIGHT = 0.5  # a word said only after "để", "sau khi": why, not what
CONDITION_WEIGHT = 0.7  # a word said only before "thì", "xong": the situation
CITIZEN_BONUS = 0.05  # procedures a citizen (not only a business) may apply for

Phrase = tuple[str, ...]
# Words of a variant phrase that do not by themselves ask for it ("cấp", "đăng ký"…).
_GENERIC = {"cap", "dang", "ky", "thuc", "hien", "tai", "co", "yeu", "to", "cho", "nguoi"}


def _tokens(text_: str) -> list[tuple[str, str | None]]:
    """Each word as (folded form, canonical spelling as written), see vitext.words.

    The written form is None for the words an abbreviation stands for ("cccd" → "căn
    cước"), which the citizen did not spell out. A number is read as one ("mức độ 02" is
    "mức 2").
    """
    out: list[tuple[str, str | None]] = []
    for word in vitext_words(text_, expand=True):
        if word.expanded:
            out.append((word.folded, None))
        elif word.folded.isdecimal():
            out.append((str(int(word.folded)),) * 2)
        else:
            out.append((word.folded, word.spelling))
    return out


def words(text_: str) -> list[str]:
    """Folded words of ``text_``, abbreviations expanded."""
    return [word for word, _ in _tokens(text_)]


def _marked(spelled: str | None) -> bool:
    """Whether a word was written with diacritics."""
    return spelled is not None and marked(spelled)


def _find(haystack: Sequence[str | None], phrase: Phrase) -> int:
    n = len(phrase)
    for i in range(len(haystack) - n + 1):
        if tuple(haystack[i : i + n]) == phrase:
            return i
    return -1


Spelling = tuple[str | None, ...]  # per word of a phrase: how it must be written, if marked


def _find_spelled(
    haystack: Sequence[str | None],
    spelled: Sequence[str | None],
    phrase: Phrase,
    spelling: Spelling,
    start: int = 0,
) -> int:
    """Where ``phrase`` occurs, each word written as ``spelling`` asks (`spelled_alike`)."""
    n = len(phrase)
    for i in range(start, len(haystack) - n + 1):
        if tuple(haystack[i : i + n]) == phrase and all(
            spelled_alike(spelled[i + k], spelling[k]) for k in range(n)
        ):
            return i
    return -1


def _spelled_phrase(text_: str) -> tuple[Phrase, Spelling]:
    tokens = _tokens(text_)
    return (
        tuple(w for w, _ in tokens),
        tuple(sp if _marked(sp) else None for _, sp in tokens),
    )


def _spellings(entries: Iterable[str]) -> dict[str, frozenset[str]]:
    """Single words by their accent-free form: the ways they are written."""
    out: dict[str, set[str]] = {}
    for entry in entries:
        for word, spelled in _tokens(entry):
            out.setdefault(word, set()).add(spelled or word)
    return {word: frozenset(spelled) for word, spelled in out.items()}


@dataclass(frozen=True)
class Lexicon:
    groups: list[tuple[list[Phrase], list[str]]]
    stop: list[Phrase]  # longest first
    variants: list[Phrase]
    # every citizen phrase with its group and how its words must be written, longest first
    phrases: list[tuple[Phrase, int, Spelling]]
    variant_keys: list[tuple[Phrase, list[str]]]  # each variant and the words that ask for it
    # only next to a phrase
    beside: list[tuple[Phrase, int, Spelling]] = field(default_factory=list)
    # Question words and fillers whose accent-free form is also a word of the names
    # ("hỏi" / "thu hồi", "thì" / "thi", "tính" / "cấp tỉnh"): dropped only when written so.
    spelled_stop: dict[str, frozenset[str]] = field(default_factory=dict)
    # the same, dropped before phrases are matched ("nhận đứa con" is "nhận con")
    fillers: dict[str, frozenset[str]] = field(default_factory=dict)
    # variants of which a name may list several as either-or ("cấp lại, đổi, điều chỉnh")
    alternatives: frozenset[int] = frozenset()
    # per group, the variant it asks for without adding its words ("ghi sai": điều chỉnh)
    asks: dict[int, list[str]] = field(default_factory=dict)
    # Words that open a clause saying why or when, not what for: what follows "để", "sau
    # khi" and what precedes "thì", "xong" ("… thì Y": Y is what the citizen asks).
    context_after: list[tuple[Phrase, Spelling]] = field(default_factory=list)
    context_before: list[tuple[Phrase, Spelling]] = field(default_factory=list)

    @classmethod
    def load(cls, path: Path = LEXICON_FILE) -> Lexicon:
        raw = yaml.safe_load(path.read_text(encoding="utf-8"))
        groups: list[tuple[list[Phrase], list[str]]] = []
        said: list[tuple[Phrase, int, Spelling]] = []
        asks: dict[int, list[str]] = {}
        for g in raw["groups"]:
            says = [_spelled_phrase(s) for s in g["say"]]
            groups.append(([p for p, _ in says], words(g["means"] or "")))
            if g.get("asks"):
                asks[len(groups) - 1] = words(g["asks"])
            said.extend((p, len(groups) - 1, sp) for p, sp in says if p)
        beside: list[tuple[Phrase, int, Spelling]] = []
        for g in raw.get("beside") or []:
            groups.append(([], words(g["means"])))
            for s in g["say"]:
                phrase, spelling = _spelled_phrase(s)
                beside.append((phrase, len(groups) - 1, spelling))
        beside.sort(key=lambda item: -len(item[0]))
        # Longest first, then alphabetical: the same order on every run.
        stop = sorted({tuple(words(s)) for s in raw["stop"]}, key=lambda p: (-len(p), p))
        variants = [tuple(words(v)) for v in raw["variants"]]
        phrases = sorted(said, key=lambda item: (-len(item[0]), item[1]))
        variant_keys = [(v, [w for w in v if w not in _GENERIC] or list(v)) for v in variants]
        alternatives = {tuple(words(v)) for v in raw.get("alternatives") or []}
        return cls(
            groups=groups,
            stop=stop,
            variants=variants,
            phrases=phrases,
            variant_keys=variant_keys,
            beside=beside,
            spelled_stop=_spellings(raw.get("spelled_stop") or []),
            fillers=_spellings(raw.get("fillers") or []),
            alternatives=frozenset(i for i, v in enumerate(variants) if v in alternatives),
            asks=asks,
            context_after=[_spelled_phrase(m) for m in (raw.get("context") or {}).get("after", [])],
            context_before=[
                _spelled_phrase(m) for m in (raw.get("context") or {}).get("before", [])
            ],
        )


@lru_cache(maxsize=1)
def default_lexicon() -> Lexicon:
    return Lexicon.load()


@dataclass(frozen=True)
class AnalysedQuery:
    text: str
    words: list[str]  # folded, abbreviations and synonyms expanded
    terms: list[str]  # what identifies the procedure: ``words`` without stop phrases
    sequence: list[str]  # ``terms`` in order, duplicates kept (for word pairs)
    asked: frozenset[str] = frozenset()  # words that may ask for a special variant
    age: int | None = None  # an age the citizen states
    purpose: frozenset[str] = frozenset()  # terms said only after "để" (so as to), "sau khi"
    condition: frozenset[str] = frozenset()  # terms said only before "thì", "xong"
    # how the citizen wrote a term, where every time it was their own word written alike
    written: dict[str, str] = field(default_factory=dict)


def _starts_stop(base: Sequence[str | None], i: int, lexicon: Lexicon) -> bool:
    """Whether a question phrase starts at ``i`` ("mất bao lâu": how long, not lost)."""
    return any(len(p) > 1 and tuple(base[i : i + len(p)]) == p for p in lexicon.stop)


NameSpelling = Callable[[tuple[str, str]], Iterable[tuple[str, str]]]


def _is_spelled_stop(
    spellings: frozenset[str] | None,
    spelled: str | None,
    marked_message: bool,
    neighbours: tuple[str | None, str | None],
    word: str,
    in_names: NameSpelling | None,
) -> bool:
    """Whether a word that folds like a question word or a filler is one.

    Written with diacritics, it is one only if written as the question word ("hỏi", not
    "hồi"). Written without, in a message otherwise typed with diacritics, it is the other
    word if the question word has marks ("thi bằng lái" is an exam, "thì" would be typed
    so); otherwise it is the other word only if it forms with a neighbour a word pair that
    some name or alias writes with the other word ("thu hoi": "thu hồi", "mo cong ty": "mở
    công ty"; not "an cua": "án của") — or, for a question word written without marks
    ("chi", "khi"), a pair some name has at all ("chi trả").
    """
    if spellings is None:
        return False
    if spelled is None:
        return True  # what an abbreviation stands for ("v": "vậy")
    if _marked(spelled):
        return spelled in spellings
    if marked_message and all(_marked(sp) for sp in spellings):
        return False
    if in_names is not None:
        before, after = neighbours
        if before and any(
            b not in spellings or not _marked(b) for _, b in in_names((before, word))
        ):
            return False
        if after and any(a not in spellings or not _marked(a) for a, _ in in_names((word, after))):
            return False
    return True


def _neighbours(words_: Sequence[str], i: int) -> tuple[str | None, str | None]:
    return (words_[i - 1] if i else None, words_[i + 1] if i + 1 < len(words_) else None)


def _age(own: Sequence[str]) -> int | None:
    """The age the citizen states ("con 10 tuổi", "dưới 6 tuổi": 5), if any."""
    for i, word in enumerate(own):
        if word.isdigit() and i + 1 < len(own) and own[i + 1] == "tuoi":
            before = own[i - 1] if i else None
            return int(word) - (before == "duoi") + (before == "tren")
    return None


def _brackets(age: int, limits: Iterable[tuple[str, int]]) -> list[str]:
    """The words of the names' age brackets that ``age`` falls in ("dưới 14 tuổi")."""
    out: list[str] = []
    for kind, limit in limits:
        if _in_bracket(age, kind, limit):
            out += ["duoi", str(limit), "tuoi"] if kind == "duoi" else ["du", str(limit), "tuoi"]
    return out


def _context(
    tokens: Sequence[tuple[str, bool, str | None]],
    kept: set[int],
    lexicon: Lexicon,
    marked_message: bool,
    in_names: NameSpelling | None,
) -> tuple[set[int], set[int], set[int]]:
    """Where the clauses of why and of when are (their positions), and their markers.

    "chuyển đất vườn lên đất ở để xây nhà": the purpose follows "để"; "bán nhà thì thuế
    TNCN đóng ở mô": the condition precedes "thì". A marker counts only if the rest of the
    question still names something, and "để" not right after a question word ("làm sao để
    thu hồi": how to recall).
    """
    folded = [w for w, _, _ in tokens]
    spelled = [sp for _, _, sp in tokens]
    context: dict[bool, set[int]] = {True: set(), False: set()}
    markers: set[int] = set()
    for after, phrases in ((True, lexicon.context_after), (False, lexicon.context_before)):
        for phrase, spelling in phrases:
            n = len(phrase)
            for p in range(len(tokens) - n + 1):
                if not all(tokens[p + k][1] for k in range(n)):
                    continue
                if n == 1:
                    found = tuple(folded[p : p + 1]) == phrase and _is_spelled_stop(
                        frozenset(sp or w for w, sp in zip(phrase, spelling, strict=True)),
                        tokens[p][2],
                        marked_message,
                        _neighbours(folded, p),
                        folded[p],
                        in_names,
                    )
                else:
                    found = (
                        _find_spelled(folded[p : p + n], spelled[p : p + n], phrase, spelling) == 0
                    )
                if not found:
                    continue
                if after and p and tokens[p - 1][1] and p - 1 not in kept:
                    continue  # "làm sao để …"
                clause = set(range(p + n, len(tokens))) if after else set(range(p))
                rest = kept - clause - markers - set(range(p, p + n))
                if rest and clause & kept:
                    context[after] |= clause
                    markers |= set(range(p, p + n))
                break
    return context[True], context[False], markers


def analyse(
    text_: str,
    lexicon: Lexicon | None = None,
    official: Callable[[Phrase], bool] | None = None,
    ages: Iterable[tuple[str, int]] = (),
    in_names: NameSpelling | None = None,
) -> AnalysedQuery:
    """Fold the words, replace citizens' phrases by official ones, drop question words.

    Longer phrases are matched first and a word serves one phrase only ("nhận con nuôi"
    is adoption, not "nhận con"). A phrase that ``official`` says the catalogue itself
    uses ("chứng minh nhân dân") is kept beside its official equivalent. A phrase or a
    question word written with diacritics matches only words written alike ("cưới" is
    not "cuối", "hỏi" is not "hồi"). ``ages``: the age brackets the names use;
    ``in_names``: how the names write a word pair (to tell "thu hoi" from "cho hoi").
    """
    lexicon = lexicon or default_lexicon()
    written = _tokens(text_)
    marked_message = any(_marked(sp) for _, sp in written)
    # Fillers ("cái", "đứa") go first, so that the phrases around them meet.
    folded = [w for w, _ in written]
    written = [
        (w, sp)
        for i, (w, sp) in enumerate(written)
        if not _is_spelled_stop(
            lexicon.fillers.get(w),
            sp,
            marked_message,
            _neighbours(folded, i),
            w,
            in_names,
        )
    ]
    base: list[str | None] = [w for w, _ in written]
    spelled: list[str | None] = [sp for _, sp in written]
    fired: list[int] = []
    # Where a phrase was: the words it stands for, put in its place, so that word pairs
    # run across it as the citizen said them ("cấp [sổ đỏ] lần đầu").
    at: dict[int, list[str]] = {}
    for phrase, group, spelling in lexicon.phrases:
        i = 0
        while (i := _find_spelled(base, spelled, phrase, spelling, i)) >= 0:
            base[i : i + len(phrase)] = [None] * len(phrase)
            if group not in fired:
                fired.append(group)
            # Two-word phrases are left out: folded, they collide ("sổ đỏ" / "sơ đồ").
            kept_phrase = official and len(phrase) != 2 and official(phrase)
            at[i] = [*(phrase if kept_phrase else ()), *lexicon.groups[group][1]]
    # Words that count only right before or after such a phrase ("mất sổ đỏ", "cà vẹt bị
    # mất"), so that "mất" in "mất bao lâu" or "bố mất" asks for nothing.
    for start in sorted(at):
        end = start + 1
        while end < len(base) and base[end] is None and end not in at:
            end += 1
        for phrase, group, spelling in lexicon.beside:
            n = len(phrase)
            for i in (start - n, end):
                if (
                    i >= 0
                    and _find_spelled(base[i : i + n], spelled[i : i + n], phrase, spelling) == 0
                    and not _starts_stop(base, i, lexicon)
                ):
                    base[i : i + n] = [None] * n
                    at[i] = list(lexicon.groups[group][1])
                    if group not in fired:
                        fired.append(group)
    # (word, the citizen's own word, as written)
    tokens: list[tuple[str, bool, str | None]] = []
    for i, word in enumerate(base):
        tokens.extend((w, False, None) for w in at.get(i, ()))
        if word is not None:
            tokens.append((word, True, spelled[i]))
    own = [w for w, mine, _ in tokens if mine]
    age = _age(own)
    expanded = [w for w, _, _ in tokens]
    # Question words are dropped from the citizen's own words only; the official words a
    # phrase stands for are kept whole ("chữ ký" stays although "chừ" is a question word).
    probe: list[str | None] = [w if mine else None for w, mine, _ in tokens]
    place = list(range(len(tokens)))  # where each remaining token stood
    written_as = tokens
    for phrase in lexicon.stop:
        while (i := _find(probe, phrase)) >= 0:
            del probe[i : i + len(phrase)]
            del place[i : i + len(phrase)]
    remaining = [written_as[p][0] for p in place]
    place = [
        p
        for i, p in enumerate(place)
        if not (
            written_as[p][1]
            and _is_spelled_stop(
                lexicon.spelled_stop.get(written_as[p][0]),
                written_as[p][2],
                marked_message,
                _neighbours(remaining, i),
                written_as[p][0],
                in_names,
            )
        )
    ]
    kept_at = set(place)
    purpose_at, condition_at, markers = _context(
        written_as, kept_at, lexicon, marked_message, in_names
    )
    context_at = purpose_at | condition_at
    kept = [written_as[p][0] for p in place if p not in markers]
    spelt: dict[str, str | None] = {}
    for p in place:
        w, _, sp = written_as[p]  # sp is None for a word a phrase stands for
        spelt[w] = sp if spelt.get(w, sp) == sp else None
    main = {written_as[p][0] for p in place if p not in context_at and p not in markers}
    purpose = frozenset(written_as[p][0] for p in place if p in purpose_at) - main
    condition = frozenset(written_as[p][0] for p in place if p in condition_at) - main - purpose
    # An age the citizen states asks for the variant whose bracket it falls in.
    asked = set(own) | set(_brackets(age, ages) if age is not None else ())
    for group in fired:
        means = lexicon.groups[group][1]
        # A variant is asked for by the citizen's own words, or by a phrase that stands for
        # it ("mất căn cước" → cấp lại) — not by a word that merely folds the same
        # ("bằng lái" → giấy phép lái xe, whose "lái" is not "lại").
        for variant, keys in lexicon.variant_keys:
            if _find(means, variant) >= 0 or _find(lexicon.asks.get(group, []), variant) >= 0:
                asked.update(keys)
    seen: set[str] = set()
    terms = [t for t in kept if not (t in seen or seen.add(t))]  # type: ignore[func-returns-value]
    return AnalysedQuery(
        text=text_,
        words=expanded,
        terms=terms,
        sequence=kept,
        asked=frozenset(asked),
        age=age,
        purpose=purpose,
        condition=condition,
        written={w: sp for w, sp in spelt.items() if sp},
    )


_LEVEL_SUFFIX = re.compile(
    r"\s*\((?:thực hiện )?tại cấp [^)]*\)\s*$|\s*\(cấp (?:xã|tỉnh|huyện)\)\s*$", re.IGNORECASE
)


def _base_name(name: str) -> str:
    """The name without "(thực hiện tại cấp tỉnh)" and the like."""
    return _LEVEL_SUFFIX.sub("", name).strip().lower()


@dataclass(frozen=True)
class Hit:
    code: str
    name: str
    field: str | None
    levels: list[str]
    url: str
    score: float  # what the hits are ranked by: relevance plus the catalogue priors
    relevance: float  # how well the words match, alone: what decides "found or not"


@dataclass
class SearchResult:
    query: AnalysedQuery
    hits: list[Hit] = field(default_factory=list)

    @property
    def best(self) -> Hit | None:
        return self.hits[0] if self.hits and self.hits[0].relevance >= MATCH_THRESHOLD else None

    @property
    def alternatives(self) -> list[Hit]:
        """The hits close enough to the best to ask the citizen which one they mean."""
        best = self.best
        if best is None:
            return []
        close = [h for h in self.hits if best.score - h.score <= AMBIGUITY_MARGIN]
        # The same procedure published for another level is not a different choice.
        firsts: dict[str, Hit] = {}
        for hit in close:
            firsts.setdefault(_base_name(hit.name), hit)
        return list(firsts.values())


_LETTERS = "abcdefghijklmnopqrstuvwxyz"


@dataclass(frozen=True)
class _Form:
    """One way of naming a procedure: its official name, or a citizen's alias for it."""

    words: list[str]
    set: frozenset[str]
    pairs: frozenset[tuple[str, str]]
    weight: float  # sum of idf of the distinct words
    factor: float  # 1 for the official name, ALIAS_FACTOR for an alias
    variants: tuple[int, ...] = ()  # which of the lexicon's variant phrases the form holds
    # how the form writes a word (a word a phrase stands for is absent: written any way)
    written: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class _Entry:
    """What ranking needs of one procedure, computed once per catalogue version."""

    code: str
    name: str
    field: str | None
    levels: list[str]
    url: str
    name_words: list[str]
    forms: tuple[_Form, ...]  # the official name first
    field_set: frozenset[str]
    variants: tuple[int, ...]  # which of the lexicon's variant phrases the name holds
    central_only: bool  # "(thực hiện tại cấp trung ương)" with no province/commune level
    for_citizens: bool  # the catalogue lists "Công dân Việt Nam" among who may apply
    brackets: tuple[tuple[str, int], ...] = ()  # age brackets the name states


@dataclass
class _Index:
    key: tuple[int, str]
    documents: int
    frequency: Counter[str]
    entries: dict[int, _Entry]
    pairs: frozenset[tuple[str, str]] = frozenset()  # word pairs that occur in some name
    ages: tuple[tuple[str, int], ...] = ()  # the names' age brackets: ("duoi", 14), ("du", 14)
    # each word pair of the names and aliases, as they write it ("thu hoi": "thu hồi")
    written_pairs: dict[tuple[str, str], frozenset[tuple[str, str]]] = field(default_factory=dict)

    def in_names(self, pair: tuple[str, str]) -> frozenset[tuple[str, str]]:
        return self.written_pairs.get(pair, frozenset())

    def official(self, phrase: Phrase) -> bool:
        """Whether some procedure's name has this phrase (all its word pairs, at least)."""
        if len(phrase) < 2:
            return phrase[0] in self.frequency if phrase else False
        return all(pair in self.pairs for pair in itertools.pairwise(phrase))

    def idf(self, term: str) -> float:
        df = self.frequency.get(term, 0)
        return math.log((self.documents - df + 0.5) / (df + 0.5) + 1.0)

    def correct(self, term: str, before: str | None = None, after: str | None = None) -> str:
        """A word the catalogue uses, one typing slip away from ``term`` (or ``term``).

        Only a correction that forms a word pair some name has with a neighbouring word is
        made ("trích lụt" → "trích lục"); otherwise the word is left as typed.
        """
        if term in self.frequency or len(term) < MIN_CORRECTED or term.isdigit():
            return term
        splits = [(term[:i], term[i:]) for i in range(len(term) + 1)]
        edits = {a + b[1:] for a, b in splits if b}
        edits |= {a + c + b[1:] for a, b in splits if b for c in _LETTERS}
        edits |= {a + c + b for a, b in splits for c in _LETTERS}
        edits |= {a + b[1] + b[0] + b[2:] for a, b in splits if len(b) > 1}
        known = [
            w
            for w in edits
            if w in self.frequency and ((before, w) in self.pairs or (w, after) in self.pairs)
        ]
        return max(known, key=lambda w: (self.frequency[w], w)) if known else term


def _name_brackets(name_words: list[str]) -> tuple[tuple[str, int], ...]:
    """The age brackets a name states: "dưới 14 tuổi" is ("duoi", 14), "từ đủ 14" ("du", 14)."""
    return tuple(
        (kind, int(age))
        for kind, age, unit in zip(name_words, name_words[1:], name_words[2:], strict=False)
        if kind in ("duoi", "du") and age.isdigit() and unit == "tuoi"
    )


def _in_bracket(age: int, kind: str, limit: int) -> bool:
    return age < limit if kind == "duoi" else age >= limit


def _miswritten(query: AnalysedQuery, form: _Form, term: str) -> bool:
    said, there = query.written.get(term), form.written.get(term)
    return bool(said and there and said != there and _marked(said))


def _central_only(name_words: list[str]) -> bool:
    return (
        _find(name_words, ("trung", "uong")) >= 0
        and _find(name_words, ("cap", "tinh")) < 0
        and _find(name_words, ("cap", "xa")) < 0
    )


class ProcedureSearch:
    """Search over the imported catalogue; one instance per process (holds word statistics)."""

    def __init__(self, lexicon: Lexicon | None = None) -> None:
        self.lexicon = lexicon or default_lexicon()
        self._index: _Index | None = None
        self._checked = 0.0
        self._lock = threading.Lock()
        self._variants = self.lexicon.variant_keys
        self._variant_keys = [tuple(keys) for _, keys in self._variants]

    def search(self, session: Session, query: str, limit: int = 5) -> SearchResult:
        index = self._load_index(session)
        analysed = analyse(
            query, self.lexicon, official=index.official, ages=index.ages, in_names=index.in_names
        )
        result = SearchResult(query=analysed)
        if not analysed.terms:
            return result
        seq = analysed.sequence
        fixes = {
            w: index.correct(w, seq[i - 1] if i else None, seq[i + 1] if i + 1 < len(seq) else None)
            for i, w in enumerate(seq)
        }
        # A word no procedure uses (after fixing a slip) cannot help find one: left out.
        corrected = list(
            dict.fromkeys(c for t in analysed.terms if (c := fixes.get(t, t)) in index.frequency)
        )
        if not corrected:
            return result
        if corrected != analysed.terms:
            analysed = dataclasses.replace(
                analysed,
                words=[fixes.get(w, w) for w in analysed.words],
                terms=corrected,
                sequence=[fixes[w] for w in analysed.sequence if fixes.get(w) in index.frequency],
                asked=frozenset(fixes.get(w, w) for w in analysed.asked),
            )
            result.query = analysed
        # Words in a fifth of all names (đăng, ký, cấp…) rarely pick the procedure out: the
        # index is asked for the rarer ones, ranking still weighs every word.
        rare = [t for t in analysed.terms if index.frequency[t] <= COMMON_SHARE * index.documents]
        ids = self._candidates(session, rare or analysed.terms)
        weights = {
            t: index.idf(t)
            * (
                PURPOSE_WEIGHT
                if t in analysed.purpose
                else CONDITION_WEIGHT
                if t in analysed.condition
                else 1.0
            )
            for t in analysed.terms
        }
        missing = tuple(
            i
            for i, (_, keys) in enumerate(self._variants)
            if not all(k in analysed.asked for k in keys)
        )
        # A variant the query names in full ("cấp lại", "quốc tế", "gia hạn") picks the
        # sibling that is that variant out of the common one.
        named = tuple(i for i, (v, _) in enumerate(self._variants) if _find(analysed.words, v) >= 0)
        hits = [
            self._score(
                analysed,
                weights,
                missing,
                index.entries[i],
                named,
                self._variant_keys,
                self.lexicon.alternatives,
            )
            for i in ids
            if i in index.entries
        ]
        hits.sort(key=lambda h: (-h.score, h.code))
        result.hits = hits[:limit]
        return result

    # -- stage 1: the database's full-text index ------------------------------------------

    def _candidates(self, session: Session, terms: list[str]) -> list[int]:
        if session.get_bind().dialect.name == "sqlite":
            match = " OR ".join(f'"{t}"' for t in terms)
            rows = session.execute(
                text(
                    "SELECT rowid FROM procedures_fts WHERE procedures_fts MATCH :q "
                    "ORDER BY bm25(procedures_fts) LIMIT :n"
                ),
                {"q": match, "n": POOL},
            )
        else:
            rows = session.execute(
                text(
                    "SELECT p.id FROM procedures p, to_tsquery('simple', :q) AS q "
                    "WHERE p.search_vector @@ q "
                    "ORDER BY ts_rank(p.search_vector, q) DESC, p.code LIMIT :n"
                ),
                {"q": " | ".join(terms), "n": POOL},
            )
        return [int(i) for i in rows.scalars()]

    # -- stage 2: ranking, identical on every database ------------------------------------

    def _load_index(self, session: Session) -> _Index:
        # The catalogue changes when it is re-imported, rarely: its version is checked at
        # most every VERSION_CHECK_SECONDS.
        if self._index is not None and time.monotonic() - self._checked < VERSION_CHECK_SECONDS:
            return self._index
        self._checked = time.monotonic()
        count = session.scalar(select(func.count()).select_from(Procedure))
        latest = session.scalar(select(func.max(Procedure.updated_at)))
        key = (int(count or 0), str(latest))
        with self._lock:
            if self._index is not None and self._index.key == key:
                return self._index
            rows = session.execute(
                select(
                    Procedure.id,
                    Procedure.code,
                    Procedure.name,
                    Procedure.field,
                    Procedure.levels,
                    Procedure.url,
                    Procedure.search_text,
                    Procedure.applicants,
                    Procedure.aliases,
                )
            ).all()
            frequency: Counter[str] = Counter()
            for row in rows:
                frequency.update(set(row.search_text.split()))
            pairs: set[tuple[str, str]] = set()
            ages: set[tuple[str, int]] = set()
            written: dict[tuple[str, str], set[tuple[str, str]]] = {}
            for row in rows:
                name_words = words(row.name)
                pairs.update(itertools.pairwise(name_words))
                ages.update(_name_brackets(name_words))
                for text_ in [row.name, *(row.aliases or [])]:
                    for (a, sa), (b, sb) in itertools.pairwise(_tokens(text_)):
                        written.setdefault((a, b), set()).add((sa or a, sb or b))
            index = _Index(
                key=key,
                documents=max(len(rows), 1),
                frequency=frequency,
                entries={},
                pairs=frozenset(pairs),
                ages=tuple(sorted(ages)),
                written_pairs={pair: frozenset(w) for pair, w in written.items()},
            )
            for row in rows:
                name_words = words(row.name)
                name_written: dict[str, str | None] = {}
                for w, sp in _tokens(row.name):
                    name_written[w] = sp if name_written.get(w, sp) == sp else None
                forms = tuple(
                    _Form(
                        words=w,
                        set=frozenset(w),
                        pairs=frozenset(itertools.pairwise(w)),
                        weight=sum(index.idf(x) for x in set(w)) or 1.0,
                        factor=1.0 if i == 0 else ALIAS_FACTOR,
                        variants=tuple(
                            j for j, (v, _) in enumerate(self._variants) if _find(w, v) >= 0
                        ),
                        written=spelt,
                    )
                    for i, (w, spelt) in enumerate(
                        [
                            (name_words, {k: v for k, v in name_written.items() if v}),
                            *(self._alias_words(a, index) for a in row.aliases or []),
                        ]
                    )
                    if w
                )
                index.entries[row.id] = _Entry(
                    code=row.code,
                    name=row.name,
                    field=row.field,
                    levels=row.levels.split(",") if row.levels else [],
                    url=row.url,
                    name_words=name_words,
                    forms=forms,
                    field_set=frozenset(words(row.field or "")),
                    central_only=_central_only(name_words),
                    for_citizens="cong dan viet nam" in " ".join(words(row.applicants or "")),
                    brackets=_name_brackets(name_words),
                    variants=tuple(
                        i for i, (v, _) in enumerate(self._variants) if _find(name_words, v) >= 0
                    ),
                )
            self._index = index
            return index

    def _alias_words(self, alias: str, index: _Index) -> tuple[list[str], dict[str, str]]:
        """An alias in the query's own terms: analysed like a citizen's question.

        "mất sổ đỏ" is matched against "mất giấy chứng nhận quyền sử dụng đất", as the
        question "mất sổ đỏ làm lại" is analysed; its raw words would never meet the query's.
        """
        analysed = analyse(
            alias, self.lexicon, official=index.official, ages=index.ages, in_names=index.in_names
        )
        return analysed.sequence, analysed.written

    @staticmethod
    def _score(
        query: AnalysedQuery,
        weights: dict[str, float],
        not_asked: tuple[int, ...],
        entry: _Entry,
        named: tuple[int, ...] = (),
        keys: Sequence[tuple[str, ...]] = (),
        alternatives: frozenset[int] = frozenset(),
    ) -> Hit:
        total = sum(weights.values()) or 1.0
        pairs = set(itertools.pairwise(query.sequence))
        terms = weights.keys()
        relevance = 0.0
        best = entry.forms[0] if entry.forms else None
        for form in entry.forms:
            common = form.set.intersection(terms)
            if not common:
                continue
            # A word the citizen wrote with diacritics counts less where the form writes it
            # otherwise: "đổi" is not "đối (với)", "thuê" is not "thuế", "cũ" is not "cư".
            weight = {
                t: weights[t] * (MISWRITTEN if _miswritten(query, form, t) else 1.0) for t in common
            }
            in_name = sum(weight.values())
            in_field = sum(weights[t] for t in entry.field_set.intersection(terms) - common)
            matched = in_name + FIELD_WEIGHT * in_field
            together = sum(weight[a] + weight[b] for a, b in form.pairs.intersection(pairs))
            value = form.factor * (
                QUERY_WEIGHT * matched / total
                + NAME_COVERAGE_WEIGHT * in_name / form.weight
                + PAIR_WEIGHT * together / (2 * total)
            )
            if value > relevance:
                relevance, best = value, form
        score = relevance
        # A variant the query did not ask for costs only if the form that matched names it:
        # a citizens' alias that does not ("làm sổ đỏ") names the procedure as people know
        # it, whatever special cases its official name lists.
        variants = best.variants if best is not None else entry.variants
        charged = [i for i in variants if i in not_asked]
        # A name listing actions as either-or ("cấp lại, đổi, điều chỉnh thông tin trên sổ
        # BHXH") answers a question asking for any one of them.
        if any(i in alternatives and i not in not_asked for i in variants):
            charged = [i for i in charged if i not in alternatives]
        score -= VARIANT_PENALTY * len(charged)
        # Counted once per distinct key ("nước ngoài" is named by three nested phrases).
        score += VARIANT_BONUS * len({keys[i] for i in variants if i in named})
        # A name for an age bracket the citizen's stated age is not in ("dưới 14 tuổi" for a
        # son of 15) is the wrong sibling.
        if query.age is not None and entry.brackets:
            if not any(_in_bracket(query.age, kind, limit) for kind, limit in entry.brackets):
                score -= VARIANT_PENALTY
        if entry.central_only and "trung" not in query.words:
            score -= VARIANT_PENALTY
        if entry.levels == ["ministry"]:
            score -= MINISTRY_ONLY_PENALTY
        if entry.for_citizens:
            score += CITIZEN_BONUS
        return Hit(
            code=entry.code,
            name=entry.name,
            field=entry.field,
            levels=entry.levels,
            url=entry.url,
            score=round(score, 4),
            relevance=round(relevance, 4),
        )


def search_text_for(name: str, field_: str | None, aliases: Iterable[str] = ()) -> str:
    """What the full-text index holds: accent-free words of name, field and aliases."""
    said = [w for alias in aliases for w in words(alias)]
    return " ".join(words(name) + words(field_ or "") + said)


def codes(hits: Iterable[Hit]) -> list[str]:
    return [h.code for h in hits]
