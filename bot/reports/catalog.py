"""Who does what: report categories, agencies and routing rules, from data/catalog/.

Loaded once per process. Routing follows FixMyStreet's pattern: the most specific rule for
(category, commune) wins, a city-wide rule ("*") comes next, and anything no rule covers —
an unknown category or a place outside Huế's 40 communes — goes to the operations centre,
which triages. The decision and its reason are returned to be stored on the report.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime
from functools import lru_cache
from pathlib import Path
from typing import Any, Literal

import yaml

from bot.reports.calendar import WorkingCalendar
from bot.settings import ROOT
from vitext import fold

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


def _plain(text: str) -> str:
    """Lower-case, accent-free words separated by single spaces, padded for matching."""
    return " " + " ".join(re.findall(r"[a-z0-9]+", fold(text))) + " "


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
        """Categories whose keywords the text contains, most matched words first.

        Matching ignores case and diacritics (citizens often type without them); a keyword
        counts by its number of words, so "đèn đường" beats a lone "đèn".
        """
        plain = _plain(text)
        scored = []
        for category in self.categories.values():
            score = sum(
                len(keyword.split()) for keyword in category.keywords if _plain(keyword) in plain
            )
            if score:
                scored.append((category, score))
        scored.sort(key=lambda item: (-item[1], item[0].code))
        return scored

    def urgency(self, text: str, category: Category | None) -> Urgency:
        """Urgent when the text describes danger to people (the category's or any)."""
        plain = _plain(text)
        signals = self.urgent_when_any + (category.urgent_when if category else ())
        return "urgent" if any(_plain(s) in plain for s in signals) else "normal"

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
