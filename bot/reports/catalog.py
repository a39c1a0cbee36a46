"""Who does what: report categories, agencies and routing rules, from data/catalog/.

Loaded once per process. Routing follows FixMyStreet's pattern: the most specific rule for
(category, commune) wins, a city-wide rule ("*") comes next, and anything no rule covers —
an unknown category or a place outside Huế's 40 communes — goes to the operations centre,
which triages. The decision and its reason are returned to be stored on the report.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, replace
from datetime import datetime
from functools import lru_cache
from pathlib import Path
from typing import Any, Literal

import yaml

from bot.reports.calendar import WorkingCalendar
from bot.settings import ROOT
from vitext.words import Word, same_word, words

CATALOG_DIR = ROOT / "data" / "catalog"
# Labelled citizens' texts for the model (each optional): copies of bench/report_texts.yml,
# bench/report_texts_extra.yml and bench/report_texts_everyday.yml.
EXAMPLES_FILES = (
    "report_examples.yml",
    "report_examples_extra.yml",
    "report_examples_everyday.yml",
)
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
# A text and a keyword are compared word by word (vitext.words), within one clause (a keyword
# never spans a comma or a full stop). A word typed without diacritics matches any accented
# form ("den" matches "đèn"); a word typed with diacritics must match the keyword's own
# ("đến" and "đen" do not match "đèn"; "cấy", Huế for "cái", does not match "cây"); i/y and
# the tone's place do not count ("kĩ"/"kỹ", "hoà"/"hòa"). Abbreviations are expanded first
# ("đg" → "đường", "k" → "không"), and "bị", "đã", "đang" may come between a keyword's words
# ("cống bị nghẹt" matches "cống nghẹt").

_FILLERS = {w.folded: w for w in words("bị đã đang")}
_CLAUSES = re.compile(r"[.,;:!?()\n]")
_CLAUSE_END = Word(0, 0, "", "", "")  # folded "" marks the end of a clause


def _is_filler(word: Word) -> bool:
    filler = _FILLERS.get(word.folded)
    return filler is not None and same_word(word, filler)


def _words(text: str) -> list[Word]:
    """The words of a text, clause ends marked, abbreviations expanded (accent-free)."""
    found: list[Word] = []
    end = 0
    for word in words(text, expand=True):
        if found and _CLAUSES.search(text, end, word.start):
            found.append(_CLAUSE_END)
        found.append(word)
        end = word.end
    found.append(_CLAUSE_END)
    return found


@lru_cache(maxsize=4096)
def _phrase(keyword: str) -> tuple[Word, ...]:
    return tuple(w for w in _words(keyword) if w.folded)


def _matches(word: Word, wanted: Word) -> bool:
    return bool(word.folded) and same_word(word, wanted)


def _match_at(text: list[Word], start: int, phrase: tuple[Word, ...]) -> int | None:
    """Where the phrase ends if it starts at ``start`` (fillers allowed inside), else None."""
    i = start
    for k, wanted in enumerate(phrase):
        if k:
            while i < len(text) and _is_filler(text[i]) and not _matches(text[i], wanted):
                i += 1
        if i >= len(text) or not _matches(text[i], wanted):
            return None
        i += 1
    return i


def _find(
    text_words: list[Word], phrases: dict[str, tuple[str, ...]]
) -> list[tuple[int, int, str, str]]:
    """Every (start, end, owner, phrase) occurrence of the owners' phrases in the words."""
    by_first: dict[str, list[tuple[str, str, tuple[Word, ...]]]] = {}
    for owner, owned in phrases.items():
        for text in owned:
            phrase = _phrase(text)
            if phrase:
                by_first.setdefault(phrase[0].folded, []).append((owner, text, phrase))
    found = []
    for start, word in enumerate(text_words):
        for owner, text, phrase in by_first.get(word.folded, ()):
            end = _match_at(text_words, start, phrase)
            if end is not None:
                found.append((start, end, owner, text))
    return found


# -- the model: a statistical guess, and a second opinion on keyword matches --------------
#
# A multinomial Naive Bayes over the words of `_words` (accent-free, lower-case,
# abbreviations expanded, "bị/đã/đang" dropped): unigrams and bigrams within a clause, plus
# each word typed with diacritics as typed ("chó" and "chợ", both "cho" accent-free), each
# counted once per text. Each feature's log-likelihood is weighted by how few categories it
# was seen in, ln(categories / categories with the feature) (an idf over categories): with a
# few hundred training texts, words such as "đường", "nhà" or street names otherwise decide
# more than the words that name the problem, and a feature seen in every category counts
# for nothing. The weighted scores are divided by a temperature so that the posteriors match
# how often the model is right. Trained when the catalogue loads, from each category's
# keywords (one text each), name and description, and from the labelled citizens' texts of
# data/catalog/report_examples*.yml. Settings chosen by 5-fold cross-validation on those
# texts (bench/report_classification.py, docs/benchmarks/classification.md).

_ALPHA = 0.5  # Laplace smoothing
_TEMPERATURE = 3.0  # weighted scores are divided by this (CV log-loss within 0.01 of lowest)
GUESS_AT = 0.7  # posterior from which a model guess is returned at all
SURE_AT = 0.9  # posterior from which it is returned alone (preview: "confident")
_GUESS_CHOICES = 3  # a guess below SURE_AT comes with the runners-up, for the buttons
# Keyword matches and the model together: a category's keyword score (words matched) plus
# MODEL_WEIGHT x ln(posterior), the posterior floored at POSTERIOR_FLOOR. The floor bounds
# what the model can take away (0.4 x ln 0.01 = -1.84): it can overturn a lead of one
# keyword word, never of two.
MODEL_WEIGHT = 0.4
POSTERIOR_FLOOR = 0.01


def _features(text_words: list[Word]) -> list[str]:
    """Unigrams and in-clause bigrams of the folded words, and the words typed with
    diacritics as typed (never equal to a folded feature, which is accent-free), each once.

    A text typed without diacritics has only the folded features, which texts typed with
    them share; a text typed with them also tells apart the words folding merges."""
    found: list[str] = []
    previous = ""
    for word in text_words:
        if not word.folded:
            previous = ""
        elif not _is_filler(word):
            found.append(word.folded)
            if word.marked:
                found.append(word.spelling)
            if previous:
                found.append(f"{previous} {word.folded}")
            previous = word.folded
    return list(dict.fromkeys(found))


@dataclass(frozen=True)
class CategoryModel:
    """Multinomial Naive Bayes, uniform prior, features weighted by their spread over categories."""

    log_likelihood: dict[str, dict[str, float]]  # category → feature → log P(feature | c)
    log_unseen: dict[str, float]  # log P(feature | c) of a known feature never seen with c
    weight: dict[str, float]  # feature → ln(categories / categories it was seen in), if > 0
    temperature: float = _TEMPERATURE

    @classmethod
    def train(
        cls,
        documents: list[tuple[str, str]],
        *,
        alpha: float = _ALPHA,
        temperature: float = _TEMPERATURE,
    ) -> CategoryModel:
        """From (text, category code) pairs."""
        counts: dict[str, dict[str, int]] = {}
        for text, code in documents:
            bag = counts.setdefault(code, {})
            for feature in _features(_words(text)):
                bag[feature] = bag.get(feature, 0) + 1
        spreads: dict[str, int] = {}
        for bag in counts.values():
            for feature in bag:
                spreads[feature] = spreads.get(feature, 0) + 1
        weight = {f: math.log(len(counts) / n) for f, n in spreads.items() if n < len(counts)}
        log_likelihood: dict[str, dict[str, float]] = {}
        log_unseen: dict[str, float] = {}
        for code, bag in counts.items():
            total = sum(bag.values()) + alpha * len(spreads)
            log_likelihood[code] = {
                f: math.log((n + alpha) / total) for f, n in bag.items() if f in weight
            }
            log_unseen[code] = math.log(alpha / total)
        return cls(log_likelihood, log_unseen, weight, temperature)

    def probabilities(self, text: str) -> list[tuple[str, float]]:
        """Posterior of each category, best first (ties by code); [] if no feature is known."""
        features = [f for f in _features(_words(text)) if f in self.weight]
        if not features:
            return []
        scores = {
            code: sum(self.weight[f] * bag.get(f, self.log_unseen[code]) for f in features)
            / self.temperature
            for code, bag in self.log_likelihood.items()
        }
        top = max(scores.values())
        weights = {code: math.exp(score - top) for code, score in scores.items()}
        total = sum(weights.values())
        return sorted(((c, w / total) for c, w in weights.items()), key=lambda cp: (-cp[1], cp[0]))


@dataclass(frozen=True)
class ReportCatalog:
    categories: dict[str, Category]
    agencies: dict[str, Agency]
    rules: dict[tuple[str, str], tuple[str, str]]  # (category, commune) → (agency, reason)
    fallback: tuple[str, str]
    urgent_when_any: tuple[str, ...]
    model: CategoryModel | None = None  # the guess when no keyword matches; see `classify`

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
        examples = [
            (e["text"], e["category"])
            for name in EXAMPLES_FILES
            if (directory / name).exists()
            for e in read(name)["texts"]
        ]
        return catalog.with_model(examples)

    def with_model(self, examples: list[tuple[str, str]]) -> ReportCatalog:
        """This catalogue with a model trained on its categories and (text, code) examples."""
        unknown = {code for _, code in examples} - set(self.categories)
        if unknown:
            raise ValueError(f"report examples name unknown categories: {sorted(unknown)}")
        documents = [
            (text, c.code)
            for c in self.categories.values()
            for text in (*c.keywords, c.name, c.description)
            if text
        ]
        return replace(self, model=CategoryModel.train(documents + examples))

    def _check(self) -> None:
        for (category, _), (agency, _) in self.rules.items():
            if category not in self.categories or agency not in self.agencies:
                raise ValueError(f"routing rule names an unknown category or agency: {category}")
        if self.fallback[0] not in self.agencies:
            raise ValueError("the fallback agency is unknown")

    def operations_centres(self) -> list[Agency]:
        """The agencies that triage and follow up on reports (told when one is late)."""
        return [a for a in self.agencies.values() if a.kind == "operations_centre"]

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
        """Categories the text is about, best first, with their keyword scores.

        A keyword matches whole words, in order, within a clause, ignoring case; diacritics
        only count where the citizen typed them, and common abbreviations are expanded (see
        vitext.words, `_words`). Each keyword found counts its number of words, once, so "đèn
        đường" beats a lone "đèn". A keyword found only inside a longer keyword of another
        category does not count ("rác" inside "song chắn rác" is drainage, not waste).

        With a model (`CategoryModel`), the matched categories are ranked by their score plus
        `MODEL_WEIGHT` x ln(posterior), the posterior floored at `POSTERIOR_FLOOR`: the model
        breaks ties and may overturn a lead of one keyword word, never of two. The model's
        best category without a keyword comes first, scored 0, when it ranks above them all
        that way (a one-word match the model finds very unlikely). Either way the first
        result then scores no more than the second, so the preview is not confident and the
        chat asks with these as buttons (`submit_report`, without a category, files the
        first). Exact ties, and every tie without a model, go to the category with the
        longest keyword found, then to the one mentioned first (people name the main problem
        first), then to catalogue order.

        When no keyword matches, the model may guess; a guess scores 0, so callers can tell
        it from a keyword match (score ≥ 1). Its posterior decides what is returned: from
        `SURE_AT`, the category alone (the preview calls a lone result "confident" and the
        chat takes it without asking); from `GUESS_AT`, the category and its runners-up, all
        scored 0 (the tie makes the preview not confident, so the chat asks with these as
        buttons, while `submit_report` files the first); below, nothing (a wrong category is
        worse than none: the citizen is asked to choose among all).
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
        if not matched:
            return [] if self.model is None else self._guess(self.model, text)
        order = {code: i for i, code in enumerate(self.categories)}
        scores = {code: sum(len(_phrase(k)) for k in ks) for code, ks in matched.items()}
        longest = {code: max(len(_phrase(k)) for k in ks) for code, ks in matched.items()}
        by_model = self.model.probabilities(text) if self.model is not None else []
        posteriors = dict(by_model)

        def combined(code: str) -> float:
            if not posteriors:
                return float(scores.get(code, 0))
            posterior = max(posteriors.get(code, 0.0), POSTERIOR_FLOOR)
            return scores.get(code, 0) + MODEL_WEIGHT * math.log(posterior)

        ranked = sorted(
            scores, key=lambda c: (-combined(c), -scores[c], -longest[c], first[c], order[c])
        )
        result = [(self.categories[code], scores[code]) for code in ranked]
        challenger = next((code for code, _ in by_model if code not in scores), None)
        if challenger is not None and combined(challenger) > combined(ranked[0]):
            result.insert(0, (self.categories[challenger], 0))
        return result

    def _guess(self, model: CategoryModel, text: str) -> list[tuple[Category, int]]:
        """The model's guess for a text no keyword matched: see `classify`."""
        posteriors = model.probabilities(text)
        if not posteriors or posteriors[0][1] < GUESS_AT:
            return []
        choices = 1 if posteriors[0][1] >= SURE_AT else _GUESS_CHOICES
        return [(self.categories[code], 0) for code, _ in posteriors[:choices]]

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
