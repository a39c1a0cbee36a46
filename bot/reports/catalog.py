"""Who does what: report categories, agencies and routing rules, from data/catalog/.

Loaded once per process. Routing follows FixMyStreet's pattern: the most specific rule for
(category, commune) wins, a city-wide rule ("*") comes next, and anything no rule covers —
an unknown category or a place outside Huế's 40 communes — goes to the operations centre,
which triages. The decision and its reason are returned to be stored on the report.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from datetime import datetime
from functools import lru_cache
from pathlib import Path
from typing import Any, Literal

import yaml

from bot.reports.calendar import WorkingCalendar
from bot.settings import ROOT
from vitext import fold
from vitext.lexicon import ABBREVIATIONS

CATALOG_DIR = ROOT / "data" / "catalog"
ANY_COMMUNE = "*"
Urgency = Literal["normal", "urgent"]


@dataclass(frozen=True)
class Deadline:
    working_days: int | None = None
    working_hours: float | None = None

    @classmethod
    def parse(cls, raw: dict[str, Any]) -> Deadline:
        deadline = cls(raw.get("working_days"), raw.get("working_hours"))
        if (deadline.working_days is None) == (deadline.working_hours is None):
            raise ValueError(f"a deadline needs working_days or working_hours: {raw}")
        return deadline

    def due(self, start: datetime, calendar: WorkingCalendar) -> datetime:
        if self.working_days is not None:
            return calendar.add_working_days(start, self.working_days)
        return calendar.add_working_hours(start, float(self.working_hours or 0))


@dataclass(frozen=True)
class Category:
    code: str
    name: str
    description: str
    keywords: tuple[str, ...]
    urgent_when: tuple[str, ...]
    deadline: Deadline
    urgent_deadline: Deadline


@dataclass(frozen=True)
class Agency:
    code: str
    name: str
    kind: str
    commune: str | None
    email: str | None
    phone: str | None
    webhook_url: str | None
    contact_confirmed: bool
    telegram_chat_id: str | None = None  # the agency's Telegram group for new reports


@dataclass(frozen=True)
class Route:
    agency: Agency
    reason: str
    rule: str  # "commune", "city-wide" or "fallback": how specific the rule that won was


# -- matching words ---------------------------------------------------------------------------
#
# A text and a keyword are compared word by word, within one clause (a keyword never spans a
# comma or a full stop). Each word is kept twice: as typed (lower-case NFC) and accent-free.
# A word typed without diacritics matches any accented form ("den" matches "đèn"); a word
# typed with diacritics must match the keyword's own ("đến" and "đen" do not match "đèn";
# "cấy", Huế for "cái", does not match "cây"). Abbreviations are expanded first ("đg" →
# "đường", "k" → "không"), and "bị", "đã", "đang" may come between a keyword's words
# ("cống bị nghẹt" matches "cống nghẹt").

# vitext's list, minus forms that mean something else in a report ("hong" is also "hỏng",
# broken; "hem" is also "hẻm", alley), plus ones frequent in reports and not in vitext.
_ABBREVIATIONS = {
    **{k: v.replace("_", " ") for k, v in ABBREVIATIONS.items() if k not in {"hong", "hem"}},
    "dg": "đường",
    "ng": "người",
    "nc": "nước",
    "cf": "cà phê",
    "bik": "biết",
}
_FILLERS = {"bi": "bị", "da": "đã", "dang": "đang"}
_CLAUSES = re.compile(r"[.,;:!?()\n]+")
_WORD = re.compile(r"[^\W_]+")


@dataclass(frozen=True)
class _Word:
    typed: str  # lower-case NFC, as typed; "" marks the end of a clause
    plain: str  # accent-free

    def matches(self, keyword_word: _Word) -> bool:
        return (
            bool(self.plain)
            and self.plain == keyword_word.plain
            and self.typed in (self.plain, keyword_word.typed)
        )

    @property
    def filler(self) -> bool:
        return self.plain in _FILLERS and self.typed in (self.plain, _FILLERS[self.plain])


_CLAUSE_END = _Word("", "")


def _words(text: str) -> list[_Word]:
    """The words of a text, clause ends marked, abbreviations expanded (accent-free)."""
    words: list[_Word] = []
    for clause in _CLAUSES.split(unicodedata.normalize("NFC", text).lower()):
        for typed in _WORD.findall(clause):
            plain = fold(typed)
            expansion = _ABBREVIATIONS.get(plain) if typed.replace("đ", "d") == plain else None
            if expansion is None:
                words.append(_Word(typed, plain))
            else:
                words.extend(_Word(fold(w), fold(w)) for w in expansion.split())
        words.append(_CLAUSE_END)
    return words


@lru_cache(maxsize=4096)
def _phrase(keyword: str) -> tuple[_Word, ...]:
    return tuple(w for w in _words(keyword) if w.plain)


def _match_at(words: list[_Word], start: int, phrase: tuple[_Word, ...]) -> int | None:
    """Where the phrase ends if it starts at ``start`` (fillers allowed inside), else None."""
    i = start
    for k, wanted in enumerate(phrase):
        if k:
            while i < len(words) and words[i].filler and not words[i].matches(wanted):
                i += 1
        if i >= len(words) or not words[i].matches(wanted):
            return None
        i += 1
    return i


def _find(
    words: list[_Word], phrases: dict[str, tuple[str, ...]]
) -> list[tuple[int, int, str, str]]:
    """Every (start, end, owner, phrase) occurrence of the owners' phrases in the words."""
    by_first: dict[str, list[tuple[str, str, tuple[_Word, ...]]]] = {}
    for owner, owned in phrases.items():
        for text in owned:
            phrase = _phrase(text)
            if phrase:
                by_first.setdefault(phrase[0].plain, []).append((owner, text, phrase))
    found = []
    for start, word in enumerate(words):
        for owner, text, phrase in by_first.get(word.plain, ()):
            end = _match_at(words, start, phrase)
            if end is not None:
                found.append((start, end, owner, text))
    return found


@dataclass(frozen=True)
class ReportCatalog:
    categories: dict[str, Category]
    agencies: dict[str, Agency]
    rules: dict[tuple[str, str], tuple[str, str]]  # (category, commune) → (agency, reason)
    fallback: tuple[str, str]
    urgent_when_any: tuple[str, ...]

    @classmethod
    def load(cls, directory: Path = CATALOG_DIR) -> ReportCatalog:
        def read(name: str) -> dict[str, Any]:
            data: dict[str, Any] = yaml.safe_load((directory / name).read_text("utf-8"))
            return data

        raw_categories = read("report_categories.yml")
        categories = {}
        for c in raw_categories["categories"]:
            deadline = Deadline.parse(c["deadline"])
            categories[c["code"]] = Category(
                code=c["code"],
                name=c["name"],
                description=c.get("description", ""),
                keywords=tuple(c.get("keywords") or ()),
                urgent_when=tuple(c.get("urgent_when") or ()),
                deadline=deadline,
                urgent_deadline=Deadline.parse(c["urgent_deadline"])
                if c.get("urgent_deadline")
                else deadline,
            )
        agencies = {}
        for a in read("agencies.yml")["agencies"]:
            contact = a.get("contact") or {}
            agencies[a["code"]] = Agency(
                code=a["code"],
                name=a["name"],
                kind=a["kind"],
                commune=a.get("commune"),
                email=contact.get("email"),
                phone=contact.get("phone"),
                webhook_url=contact.get("webhook_url"),
                contact_confirmed=bool(a.get("contact_confirmed")),
                telegram_chat_id=(
                    str(contact["telegram_chat_id"]) if contact.get("telegram_chat_id") else None
                ),
            )
        routing = read("routing_rules.yml")
        rules = {
            (r["category"], r["commune"]): (r["agency"], r["reason"]) for r in routing["rules"]
        }
        fallback = (routing["fallback"]["agency"], routing["fallback"]["reason"])
        catalog = cls(
            categories=categories,
            agencies=agencies,
            rules=rules,
            fallback=fallback,
            urgent_when_any=tuple(raw_categories.get("urgent_when_any") or ()),
        )
        catalog._check()
        return catalog

    def _check(self) -> None:
        for (category, _), (agency, _) in self.rules.items():
            if category not in self.categories or agency not in self.agencies:
                raise ValueError(f"routing rule names an unknown category or agency: {category}")
        if self.fallback[0] not in self.agencies:
            raise ValueError("the fallback agency is unknown")

    # -- routing -----------------------------------------------------------------------

    def route(self, category: str | None, commune: str | None) -> Route:
        """The agency for a report: commune rule, else city-wide rule, else fallback."""
        if category and commune and (found := self.rules.get((category, commune))):
            return Route(agency=self.agencies[found[0]], reason=found[1], rule="commune")
        if category and (found := self.rules.get((category, ANY_COMMUNE))):
            return Route(agency=self.agencies[found[0]], reason=found[1], rule="city-wide")
        agency, reason = self.fallback
        return Route(agency=self.agencies[agency], reason=reason, rule="fallback")

    # -- what a description says --------------------------------------------------------

    def classify(self, text: str) -> list[tuple[Category, int]]:
        """Categories whose keywords the text contains, best first, with their scores.

        A keyword matches whole words, in order, within a clause, ignoring case; diacritics
        only count where the citizen typed them, and common abbreviations are expanded (see
        `_Word`, `_words`). Each keyword found counts its number of words, once, so "đèn
        đường" beats a lone "đèn". A keyword found only inside a longer keyword of another
        category does not count ("rác" inside "song chắn rác" is drainage, not waste).
        Ties go to the category with the longest keyword found, then to the one mentioned
        first (people name the main problem first), then to catalogue order.
        """
        found = _find(_words(text), {c.code: c.keywords for c in self.categories.values()})
        matched: dict[str, set[str]] = {}
        first: dict[str, int] = {}
        for start, end, code, keyword in found:
            if any(
                other != code and s <= start and end <= e and e - s > end - start
                for s, e, other, _ in found
            ):
                continue  # inside a longer keyword of another category
            matched.setdefault(code, set()).add(keyword)
            first[code] = min(first.get(code, start), start)
        order = {code: i for i, code in enumerate(self.categories)}
        scores = {code: sum(len(_phrase(k)) for k in ks) for code, ks in matched.items()}
        longest = {code: max(len(_phrase(k)) for k in ks) for code, ks in matched.items()}
        ranked = sorted(scores, key=lambda c: (-scores[c], -longest[c], first[c], order[c]))
        return [(self.categories[code], scores[code]) for code in ranked]

    def urgency(self, text: str, category: Category | None) -> Urgency:
        """Urgent when the text describes danger to people (the category's or any)."""
        signals = self.urgent_when_any + (category.urgent_when if category else ())
        return "urgent" if _find(_words(text), {"urgent": signals}) else "normal"

    def deadline(
        self, category: str, urgency: Urgency, start: datetime, calendar: WorkingCalendar
    ) -> datetime:
        chosen = self.categories.get(category)
        if chosen is None:
            raise KeyError(category)
        rule = chosen.urgent_deadline if urgency == "urgent" else chosen.deadline
        return rule.due(start, calendar)


@lru_cache(maxsize=1)
def default_catalog() -> ReportCatalog:
    return ReportCatalog.load()
