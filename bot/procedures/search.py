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
by data/catalog/procedure_synonyms.yml; abbreviations come from vitext.lexicon.
"""

from __future__ import annotations

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
from vitext import fold, normalize_message
from vitext.lexicon import ABBREVIATIONS

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
CITIZEN_BONUS = 0.05  # procedures a citizen (not only a business) may apply for
_WORD = re.compile(r"[a-z0-9]+")

Phrase = tuple[str, ...]
# Syllables written with a final "i" or "y" alike (kí/ký, lí/lý, công ti/công ty, quí/quý):
# one spelling for both, so "đăng kí" is "đăng ký".
_I_Y = {"ki": "ky", "li": "ly", "ti": "ty", "si": "sy", "mi": "my", "qui": "quy"}
# Words of a variant phrase that do not by themselves ask for it ("cấp", "đăng ký"…).
_GENERIC = {"cap", "dang", "ky", "thuc", "hien", "tai", "co", "yeu", "to", "cho", "nguoi"}


def words(text_: str) -> list[str]:
    """Accent-free, lower-case words of ``text_``, abbreviations expanded."""
    out: list[str] = []
    for word in _WORD.findall(fold(normalize_message(text_, max_chars=10_000))):
        if word.isdigit():
            word = str(int(word))  # "mức độ 02" is "mức 2"
        word = _I_Y.get(word, word)
        expanded = ABBREVIATIONS.get(word)
        out.extend(expanded.split("_") if expanded else [word])
    return out


def _find(haystack: Sequence[str | None], phrase: Phrase) -> int:
    n = len(phrase)
    for i in range(len(haystack) - n + 1):
        if tuple(haystack[i : i + n]) == phrase:
            return i
    return -1


@dataclass(frozen=True)
class Lexicon:
    groups: list[tuple[list[Phrase], list[str]]]
    stop: list[Phrase]  # longest first
    variants: list[Phrase]
    phrases: list[tuple[Phrase, int]]  # every citizen phrase with its group, longest first
    variant_keys: list[tuple[Phrase, list[str]]]  # each variant and the words that ask for it
    beside: list[tuple[Phrase, int]] = field(default_factory=list)  # only next to a phrase

    @classmethod
    def load(cls, path: Path = LEXICON_FILE) -> Lexicon:
        raw = yaml.safe_load(path.read_text(encoding="utf-8"))
        groups = [([tuple(words(s)) for s in g["say"]], words(g["means"])) for g in raw["groups"]]
        beside: list[tuple[Phrase, int]] = []
        for g in raw.get("beside") or []:
            groups.append(([], words(g["means"])))
            beside.extend((tuple(words(s)), len(groups) - 1) for s in g["say"])
        beside.sort(key=lambda item: -len(item[0]))
        stop = sorted({tuple(words(s)) for s in raw["stop"]}, key=len, reverse=True)
        variants = [tuple(words(v)) for v in raw["variants"]]
        phrases = sorted(
            ((p, i) for i, (says, _) in enumerate(groups) for p in says if p),
            key=lambda item: (-len(item[0]), item[1]),
        )
        variant_keys = [(v, [w for w in v if w not in _GENERIC] or list(v)) for v in variants]
        return cls(
            groups=groups,
            stop=stop,
            variants=variants,
            phrases=phrases,
            variant_keys=variant_keys,
            beside=beside,
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


def _starts_stop(base: Sequence[str | None], i: int, lexicon: Lexicon) -> bool:
    """Whether a question phrase starts at ``i`` ("mất bao lâu": how long, not lost)."""
    return any(len(p) > 1 and tuple(base[i : i + len(p)]) == p for p in lexicon.stop)


def analyse(
    text_: str,
    lexicon: Lexicon | None = None,
    official: Callable[[Phrase], bool] | None = None,
) -> AnalysedQuery:
    """Fold the words, replace citizens' phrases by official ones, drop question words.

    Longer phrases are matched first and a word serves one phrase only ("nhận con nuôi"
    is adoption, not "nhận con"). A phrase that ``official`` says the catalogue itself
    uses ("chứng minh nhân dân") is kept beside its official equivalent.
    """
    lexicon = lexicon or default_lexicon()
    base: list[str | None] = list(words(text_))
    fired: list[int] = []
    # Where a phrase was: the words it stands for, put in its place, so that word pairs
    # run across it as the citizen said them ("cấp [sổ đỏ] lần đầu").
    at: dict[int, list[str]] = {}
    for phrase, group in lexicon.phrases:
        while (i := _find(base, phrase)) >= 0:
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
        for phrase, group in lexicon.beside:
            n = len(phrase)
            for i in (start - n, end):
                if (
                    i >= 0
                    and tuple(base[i : i + n]) == phrase
                    and not _starts_stop(base, i, lexicon)
                ):
                    base[i : i + n] = [None] * n
                    at[i] = list(lexicon.groups[group][1])
                    if group not in fired:
                        fired.append(group)
    tokens: list[tuple[str, bool]] = []  # (word, the citizen's own word)
    for i, word in enumerate(base):
        tokens.extend((w, False) for w in at.get(i, ()))
        if word is not None:
            tokens.append((word, True))
    own = [w for w, mine in tokens if mine]
    expanded = [w for w, _ in tokens]
    # Question words are dropped from the citizen's own words only; the official words a
    # phrase stands for are kept whole ("chữ ký" stays although "chừ" is a question word).
    probe: list[str | None] = [w if mine else None for w, mine in tokens]
    for phrase in lexicon.stop:
        while (i := _find(probe, phrase)) >= 0:
            del probe[i : i + len(phrase)]
            del tokens[i : i + len(phrase)]
    kept = [w for w, _ in tokens]
    asked = set(own)
    for group in fired:
        means = lexicon.groups[group][1]
        # A variant is asked for by the citizen's own words, or by a phrase that stands for
        # it ("mất căn cước" → cấp lại) — not by a word that merely folds the same
        # ("bằng lái" → giấy phép lái xe, whose "lái" is not "lại").
        for variant, keys in lexicon.variant_keys:
            if _find(means, variant) >= 0:
                asked.update(keys)
    seen: set[str] = set()
    terms = [t for t in kept if not (t in seen or seen.add(t))]  # type: ignore[func-returns-value]
    return AnalysedQuery(
        text=text_, words=expanded, terms=terms, sequence=kept, asked=frozenset(asked)
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


@dataclass
class _Index:
    key: tuple[int, str]
    documents: int
    frequency: Counter[str]
    entries: dict[int, _Entry]
    pairs: frozenset[tuple[str, str]] = frozenset()  # word pairs that occur in some name

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
        analysed = analyse(query, self.lexicon, official=index.official)
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
            analysed = AnalysedQuery(
                text=analysed.text,
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
        weights = {t: index.idf(t) for t in analysed.terms}
        missing = tuple(
            i
            for i, (_, keys) in enumerate(self._variants)
            if not all(k in analysed.asked for k in keys)
        )
        # A variant the query names in full ("cấp lại", "quốc tế", "gia hạn") picks the
        # sibling that is that variant out of the common one.
        named = tuple(i for i, (v, _) in enumerate(self._variants) if _find(analysed.words, v) >= 0)
        hits = [
            self._score(analysed, weights, missing, index.entries[i], named, self._variant_keys)
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
            for row in rows:
                pairs.update(itertools.pairwise(words(row.name)))
            index = _Index(
                key=key,
                documents=max(len(rows), 1),
                frequency=frequency,
                entries={},
                pairs=frozenset(pairs),
            )
            for row in rows:
                name_words = words(row.name)
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
                    )
                    for i, w in enumerate(
                        [name_words, *(self._alias_words(a, index) for a in row.aliases or [])]
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
                    variants=tuple(
                        i for i, (v, _) in enumerate(self._variants) if _find(name_words, v) >= 0
                    ),
                )
            self._index = index
            return index

    def _alias_words(self, alias: str, index: _Index) -> list[str]:
        """An alias in the query's own terms: analysed like a citizen's question.

        "mất sổ đỏ" is matched against "mất giấy chứng nhận quyền sử dụng đất", as the
        question "mất sổ đỏ làm lại" is analysed; its raw words would never meet the query's.
        """
        return analyse(alias, self.lexicon, official=index.official).sequence

    @staticmethod
    def _score(
        query: AnalysedQuery,
        weights: dict[str, float],
        not_asked: tuple[int, ...],
        entry: _Entry,
        named: tuple[int, ...] = (),
        keys: Sequence[tuple[str, ...]] = (),
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
            in_name = sum(weights[t] for t in common)
            in_field = sum(weights[t] for t in entry.field_set.intersection(terms) - common)
            matched = in_name + FIELD_WEIGHT * in_field
            together = sum(weights[a] + weights[b] for a, b in form.pairs.intersection(pairs))
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
        score -= VARIANT_PENALTY * sum(1 for i in variants if i in not_asked)
        # Counted once per distinct key ("nước ngoài" is named by three nested phrases).
        score += VARIANT_BONUS * len({keys[i] for i in variants if i in named})
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
