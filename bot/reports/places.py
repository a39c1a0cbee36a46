"""Finding a Huế commune in an address written by a person ("kiệt 45, phường Thuận Hóa").

Names are matched with their diacritics first ("Thuận Hóa" is a current phường, "Thuận
Hòa" a former one now in Phú Xuân); without diacritics, a current name wins over a former
name spelt the same. Longer names are matched first and use up the words they match.
"""

from __future__ import annotations

import re
import unicodedata
from functools import lru_cache

import yaml

from bot.settings import ROOT
from vitext import fold


def _exact(text: str) -> str:
    words = re.findall(r"\w+", unicodedata.normalize("NFC", text).lower())
    return " " + " ".join(words) + " "


def _folded(text: str) -> str:
    return " " + " ".join(re.findall(r"[a-z0-9]+", fold(text))) + " "


@lru_cache(maxsize=1)
def _names() -> list[tuple[str, str, str, bool]]:
    """(exact name, folded name, current commune, is the current name), longest first."""
    raw = yaml.safe_load((ROOT / "data" / "catalog" / "communes.yml").read_text("utf-8"))
    rows = []
    for commune in raw["communes"]:
        rows.append((commune["name"], commune["name"], True))
        rows += [(alias, commune["name"], False) for alias in commune.get("aliases") or []]
    names = [(_exact(n).strip(), _folded(n).strip(), c, cur) for n, c, cur in rows]
    return sorted(names, key=lambda r: (-len(r[1]), not r[3]))


def _match(text: str, column: int) -> set[str]:
    found: set[str] = set()
    for row in _names():
        name = row[column]
        if f" {name} " in text:
            found.add(row[2])
            text = text.replace(f" {name} ", " | ")
    return found


def commune_in(text: str | None) -> str | None:
    """The current commune an address names (by current or former name), if exactly one."""
    if not text:
        return None
    exact = _match(_exact(text), 0)
    if len(exact) == 1:
        return exact.pop()
    folded = _match(_folded(text), 1)
    return folded.pop() if len(folded) == 1 else None
