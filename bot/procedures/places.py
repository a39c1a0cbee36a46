"""Where in Huế a citizen goes for a procedure, from the body the national catalogue names.

Only what data/catalog/hue_offices.yml supports: when no rule matches, the answer repeats
the catalogue's own wording instead of guessing an office.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import yaml

from bot.settings import ROOT
from vitext.words import folded

OFFICES_FILE = ROOT / "data" / "catalog" / "hue_offices.yml"
ANY_COMMUNE = "phường/xã nơi bạn cư trú"


@dataclass(frozen=True)
class OfficeRule:
    match: tuple[str, ...]
    office: str
    level: str


@dataclass(frozen=True)
class Office:
    name: str
    level: str  # "commune" or "city"


@lru_cache(maxsize=4)
def load_rules(path: Path = OFFICES_FILE) -> tuple[OfficeRule, ...]:
    raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    return tuple(
        OfficeRule(match=tuple(folded(m) for m in r["match"]), office=r["office"], level=r["level"])
        for r in raw["offices"]
    )


def hue_offices(
    implementing_body: str | None,
    competent_body: str | None = None,
    commune: str | None = None,
    rules: tuple[OfficeRule, ...] | None = None,
) -> list[Office]:
    """The Huế offices for the bodies named (in the catalogue's order), without repeats."""
    rules = rules or load_rules()
    where = commune or ANY_COMMUNE
    offices: list[Office] = []
    for body in (implementing_body, competent_body):
        for part in re.split(r"[,;]", body or ""):
            plain = f" {folded(part)} "
            for rule in rules:
                if any(f" {phrase} " in plain for phrase in rule.match):
                    office = Office(name=rule.office.format(commune=where), level=rule.level)
                    if office not in offices:
                        offices.append(office)
                    break
        if offices:
            break
    return offices
