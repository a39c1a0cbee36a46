"""Finding the procedure a citizen means, among thousands, without diacritics or official words.

Two stages, so that SQLite and PostgreSQL give the same answers:

1. **Candidates** come from the database's own full-text index (SQLite FTS5, PostgreSQL
   ``to_tsvector('simple', …)`` with a GIN index) over the accent-free name and field:
   any procedure sharing a word with the analysed query, best first, at most ``POOL``.
2. **Ranking** is done here, the same on both databases: query words weighted by how rare
   they are in the whole catalogue, word pairs that occur together in the name, how much of
   the name the query covers, and a penalty for special variants (foreign element, mobile
   registration, central-level, re-issue…) the query did not ask for, so that "khai sinh"
   finds "Thủ tục đăng ký khai sinh" rather than one of its variants.

The words citizens use (sổ đỏ, cccd, bằng lái, hộ khẩu…) are mapped to the official words
by data/catalog/procedure_synonyms.yml; abbreviations come from vitext.lexicon.
"""

from __future__ import annotations

import itertools
import math
import re
import threading
from collections import Counter
from collections.abc import Iterable, Sequence
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
POOL = 300  # candidates taken from the full-text index
MATCH_THRESHOLD = 0.35  # below this the best hit is not a match
AMBIGUITY_MARGIN = 0.06  # hits this close to the best are offered as alternatives
VARIANT_PENALTY = 0.15
MINISTRY_ONLY_PENALTY = 0.05
QUERY_WEIGHT = 0.5  # share of the query's weight found in the name
NAME_COVERAGE_WEIGHT = 0.35  # share of the name's weight the query covers
PAIR_WEIGHT = 0.6  # query word pairs that occur together in the name
FIELD_WEIGHT = 0.3
COMMON_SHARE = 0.2
CITIZEN_BONUS = 0.05  # procedures a citizen (not only a business) may apply for
_WORD = re.compile(r"[a-z0-9]+")

Phrase = tuple[str, ...]


def words(text_: str) -> list[str]:
    """Accent-free, lower-case words of ``text_``, abbreviations expanded."""
    out: list[str] = []
    for word in _WORD.findall(fold(normalize_message(text_, max_chars=10_000))):
        expanded = ABBREVIATIONS.get(word)
        out.extend(expanded.split("_") if expanded else [word])
    return out


def _find(haystack: Sequence[str], phrase: Phrase) -> int:
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

    @classmethod
    def load(cls, path: Path = LEXICON_FILE) -> Lexicon:
        raw = yaml.safe_load(path.read_text(encoding="utf-8"))
        groups = [([tuple(words(s)) for s in g["say"]], words(g["means"])) for g in raw["groups"]]
        stop = sorted({tuple(words(s)) for s in raw["stop"]}, key=len, reverse=True)
        variants = [tuple(words(v)) for v in raw["variants"]]
        return cls(groups=groups, stop=stop, variants=variants)


@lru_cache(maxsize=1)
def default_lexicon() -> Lexicon:
    return Lexicon.load()


@dataclass(frozen=True)
class AnalysedQuery:
    text: str
    words: list[str]  # folded, abbreviations and synonyms expanded
    terms: list[str]  # what identifies the procedure: ``words`` without stop phrases
    sequence: list[str]  # ``terms`` in order, duplicates kept (for word pairs)


def analyse(text_: str, lexicon: Lexicon | None = None) -> AnalysedQuery:
    lexicon = lexicon or default_lexicon()
    base = words(text_)
    expanded = list(base)
    added: list[str] = []
    for says, means in lexicon.groups:
        found = [p for p in says if p and _find(base, p) >= 0]
        if found:
            # The citizen's words are replaced by the official ones they stand for.
            for phrase in sorted(found, key=len, reverse=True):
                while (i := _find(expanded, phrase)) >= 0:
                    del expanded[i : i + len(phrase)]
            added.extend(means)
    expanded.extend(added)
    kept = list(expanded)
    for phrase in lexicon.stop:
        while (i := _find(kept, phrase)) >= 0:
            del kept[i : i + len(phrase)]
    seen: set[str] = set()
    terms = [t for t in kept if not (t in seen or seen.add(t))]  # type: ignore[func-returns-value]
    return AnalysedQuery(text=text_, words=expanded, terms=terms, sequence=kept)


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
        return [h for h in self.hits if best.score - h.score <= AMBIGUITY_MARGIN]


_GENERIC = {"cap", "dang", "ky", "thuc", "hien", "tai", "co", "yeu", "to", "cho", "nguoi"}
_LETTERS = "abcdefghijklmnopqrstuvwxyz"


@dataclass(frozen=True)
class _Entry:
    """What ranking needs of one procedure, computed once per catalogue version."""

    code: str
    name: str
    field: str | None
    levels: list[str]
    url: str
    name_words: list[str]
    name_set: frozenset[str]
    name_pairs: frozenset[tuple[str, str]]
    field_set: frozenset[str]
    name_weight: float  # sum of idf of the distinct name words
    variants: tuple[int, ...]  # which of the lexicon's variant phrases the name holds
    central_only: bool  # "(thực hiện tại cấp trung ương)" with no province/commune level
    for_citizens: bool  # the catalogue lists "Công dân Việt Nam" among who may apply


@dataclass
class _Index:
    key: tuple[int, str]
    documents: int
    frequency: Counter[str]
    entries: dict[int, _Entry]

    def idf(self, term: str) -> float:
        df = self.frequency.get(term, 0)
        return math.log((self.documents - df + 0.5) / (df + 0.5) + 1.0)

    def correct(self, term: str) -> str:
        """A word the catalogue uses, one typing slip away from ``term`` (or ``term``)."""
        if term in self.frequency or len(term) < 3 or term.isdigit():
            return term
        splits = [(term[:i], term[i:]) for i in range(len(term) + 1)]
        edits = {a + b[1:] for a, b in splits if b}
        edits |= {a + c + b[1:] for a, b in splits if b for c in _LETTERS}
        edits |= {a + c + b for a, b in splits for c in _LETTERS}
        edits |= {a + b[1] + b[0] + b[2:] for a, b in splits if len(b) > 1}
        known = [w for w in edits if w in self.frequency]
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
        self._lock = threading.Lock()
        self._variants = [
            (v, [w for w in v if w not in _GENERIC] or list(v)) for v in self.lexicon.variants
        ]

    def search(self, session: Session, query: str, limit: int = 5) -> SearchResult:
        analysed = analyse(query, self.lexicon)
        result = SearchResult(query=analysed)
        if not analysed.terms:
            return result
        index = self._load_index(session)
        # A word no procedure uses (after fixing a slip) cannot help find one: left out.
        corrected = [c for t in analysed.terms if (c := index.correct(t)) in index.frequency]
        if not corrected:
            return result
        if corrected != analysed.terms:
            fixes = {t: index.correct(t) for t in analysed.terms}
            analysed = AnalysedQuery(
                text=analysed.text,
                words=[fixes.get(w, w) for w in analysed.words],
                terms=list(dict.fromkeys(corrected)),
                sequence=[fixes[w] for w in analysed.sequence if fixes.get(w) in index.frequency],
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
            if not all(k in analysed.words for k in keys)
        )
        hits = [
            self._score(analysed, weights, missing, index.entries[i])
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
                    "SELECT id FROM procedures "
                    "WHERE to_tsvector('simple', search_text) @@ to_tsquery('simple', :q) "
                    "ORDER BY ts_rank(to_tsvector('simple', search_text), "
                    "to_tsquery('simple', :q)) DESC, code LIMIT :n"
                ),
                {"q": " | ".join(terms), "n": POOL},
            )
        return [int(i) for i in rows.scalars()]

    # -- stage 2: ranking, identical on every database ------------------------------------

    def _load_index(self, session: Session) -> _Index:
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
                )
            ).all()
            frequency: Counter[str] = Counter()
            for row in rows:
                frequency.update(set(row.search_text.split()))
            index = _Index(key=key, documents=max(len(rows), 1), frequency=frequency, entries={})
            for row in rows:
                name_words = words(row.name)
                name_set = frozenset(name_words)
                index.entries[row.id] = _Entry(
                    code=row.code,
                    name=row.name,
                    field=row.field,
                    levels=row.levels.split(",") if row.levels else [],
                    url=row.url,
                    name_words=name_words,
                    name_set=name_set,
                    name_pairs=frozenset(itertools.pairwise(name_words)),
                    field_set=frozenset(words(row.field or "")),
                    name_weight=sum(index.idf(w) for w in name_set) or 1.0,
                    central_only=_central_only(name_words),
                    for_citizens="cong dan viet nam" in " ".join(words(row.applicants or "")),
                    variants=tuple(
                        i for i, (v, _) in enumerate(self._variants) if _find(name_words, v) >= 0
                    ),
                )
            self._index = index
            return index

    @staticmethod
    def _score(
        query: AnalysedQuery,
        weights: dict[str, float],
        not_asked: tuple[int, ...],
        entry: _Entry,
    ) -> Hit:
        total = sum(weights.values()) or 1.0
        matched = 0.0
        in_name = 0.0
        for term, weight in weights.items():
            if term in entry.name_set:
                matched += weight
                in_name += weight
            elif term in entry.field_set:
                matched += FIELD_WEIGHT * weight
        pairs = set(itertools.pairwise(query.sequence))
        together = sum(weights[a] + weights[b] for a, b in pairs if (a, b) in entry.name_pairs)
        query_covered = matched / total
        name_covered = in_name / entry.name_weight
        relevance = score = (
            QUERY_WEIGHT * query_covered
            + NAME_COVERAGE_WEIGHT * name_covered
            + PAIR_WEIGHT * together / (2 * total)
        )
        score -= VARIANT_PENALTY * sum(1 for i in entry.variants if i in not_asked)
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


def search_text_for(name: str, field_: str | None) -> str:
    """What the full-text index holds for a procedure: accent-free words of name and field."""
    return " ".join(words(name) + words(field_ or ""))


def codes(hits: Iterable[Hit]) -> list[str]:
    return [h.code for h in hits]
