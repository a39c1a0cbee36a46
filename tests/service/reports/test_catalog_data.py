"""The report catalogue files are complete and consistent with each other.

data/catalog/report_categories.yml, agencies.yml, routing_rules.yml and holidays/<year>.yml
are hand-maintained data: these checks catch a typo before it routes a citizen's report to
nobody.
"""

from __future__ import annotations

import re
import unicodedata
from datetime import date
from pathlib import Path
from typing import Any

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[3]
CATALOG = ROOT / "data" / "catalog"
HOLIDAY_YEARS = (2026, 2027)

URGENCIES = {"normal", "urgent"}
DEADLINE_UNITS = {"working_days", "working_hours"}
AGENCY_KINDS = {
    "operations_centre",
    "department",
    "commune_committee",
    "police",
    "utility",
    "other",
}
CONFIDENCES = {"high", "medium", "low"}
ANY = "*"


def load(name: str) -> Any:
    return yaml.safe_load((CATALOG / name).read_text(encoding="utf-8"))


def strip_accents(text: str) -> str:
    decomposed = unicodedata.normalize("NFD", text.replace("Đ", "D").replace("đ", "d"))
    return "".join(ch for ch in decomposed if unicodedata.category(ch) != "Mn").lower()


def strings(node: Any) -> list[str]:
    """Every string in a loaded YAML tree, keys included."""
    if isinstance(node, str):
        return [node]
    if isinstance(node, dict):
        return [s for key, value in node.items() for s in strings(key) + strings(value)]
    if isinstance(node, list):
        return [s for item in node for s in strings(item)]
    return []


@pytest.fixture(scope="module")
def communes() -> dict[str, dict[str, Any]]:
    return {c["name"]: c for c in load("communes.yml")["communes"]}


@pytest.fixture(scope="module")
def categories() -> list[dict[str, Any]]:
    return load("report_categories.yml")["categories"]


@pytest.fixture(scope="module")
def agencies() -> list[dict[str, Any]]:
    return load("agencies.yml")["agencies"]


@pytest.fixture(scope="module")
def routing() -> dict[str, Any]:
    return load("routing_rules.yml")


def resolve(
    rules: list[dict[str, Any]], fallback: str, category: str, commune: str
) -> tuple[str, bool]:
    """Most specific rule wins: (category, commune) beats (category, "*"); else the fallback."""
    by_key = {(r["category"], r["commune"]): r["agency"] for r in rules}
    for key in ((category, commune), (category, ANY)):
        if key in by_key:
            return by_key[key], True
    return fallback, False


# --- categories ------------------------------------------------------------------------------


def test_categories_have_required_fields(categories: list[dict[str, Any]]) -> None:
    required = {
        "code",
        "name",
        "description",
        "keywords",
        "default_urgency",
        "urgent_when",
        "deadline",
        "deadline_source",
    }
    assert len(categories) >= 14
    for cat in categories:
        missing = required - cat.keys()
        assert not missing, f"{cat.get('code')}: missing {sorted(missing)}"
        assert re.fullmatch(r"[a-z][a-z0-9_]*", cat["code"]), cat["code"]
        for field in ("name", "description", "deadline_source"):
            assert isinstance(cat[field], str) and cat[field].strip(), (cat["code"], field)
        assert "\n" not in cat["description"], cat["code"]
        assert cat["default_urgency"] in URGENCIES, cat["code"]
        # A handful of words per kind of problem, never word soup (45: the blind tuning set's
        # missed wordings were added in 2026-12 — "ồn không chịu", "máy cưa", "vứt xác").
        assert 20 <= len(cat["keywords"]) <= 45, (cat["code"], len(cat["keywords"]))
        assert cat["urgent_when"], cat["code"]
        for phrase in cat["keywords"] + cat["urgent_when"]:
            assert isinstance(phrase, str) and phrase.strip() == phrase and phrase, cat["code"]


def test_category_codes_are_unique_and_other_exists(categories: list[dict[str, Any]]) -> None:
    codes = [c["code"] for c in categories]
    assert len(codes) == len(set(codes))
    assert "other" in codes


def valid_deadline(deadline: Any) -> bool:
    return (
        isinstance(deadline, dict)
        and len(deadline) == 1
        and next(iter(deadline)) in DEADLINE_UNITS
        and isinstance(next(iter(deadline.values())), int)
        and not isinstance(next(iter(deadline.values())), bool)
        and next(iter(deadline.values())) > 0
    )


def test_deadlines_are_valid_and_sourced(categories: list[dict[str, Any]]) -> None:
    for cat in categories:
        assert valid_deadline(cat["deadline"]), (cat["code"], cat["deadline"])
        if "urgent_deadline" in cat:
            assert valid_deadline(cat["urgent_deadline"]), cat["code"]
            assert cat.get("urgent_deadline_source", "").strip(), cat["code"]
        source = cat["deadline_source"]
        # Either a named source from the facts gathered, or an explicit project default.
        assert any(s in source for s in ("Đà Nẵng", "iHanoi", "Hue-S")) or (
            "project default" in source.lower() and "operator" in source
        ), (cat["code"], source)
    acknowledgement = load("report_categories.yml")["acknowledgement"]
    assert valid_deadline(acknowledgement["deadline"])
    assert acknowledgement["source"].strip()


def test_keywords_do_not_collide_across_categories(categories: list[dict[str, Any]]) -> None:
    """Matching runs on accent-stripped text too, so a phrase must point to one category."""
    owner: dict[str, str] = {}
    for cat in categories:
        seen: set[str] = set()
        for phrase in cat["keywords"]:
            key = strip_accents(phrase)
            assert key not in seen, f"{cat['code']}: duplicate keyword {phrase!r}"
            seen.add(key)
            assert owner.setdefault(key, cat["code"]) == cat["code"], (
                f"{phrase!r} is a keyword of both {owner[key]} and {cat['code']}"
            )


def test_keywords_carry_diacritics(categories: list[dict[str, Any]]) -> None:
    """Stored with full diacritics: most phrases must differ from their accent-free form."""
    for cat in categories:
        accented = [k for k in cat["keywords"] if strip_accents(k) != k.lower()]
        assert len(accented) >= len(cat["keywords"]) * 0.8, cat["code"]


# --- agencies --------------------------------------------------------------------------------


def test_agency_codes_are_unique(agencies: list[dict[str, Any]]) -> None:
    codes = [a["code"] for a in agencies]
    duplicates = sorted({c for c in codes if codes.count(c) > 1})
    assert not duplicates


def test_agencies_have_required_fields(
    agencies: list[dict[str, Any]], communes: dict[str, dict[str, Any]]
) -> None:
    for agency in agencies:
        code = agency["code"]
        assert re.fullmatch(r"[a-z][a-z0-9_]*", code), code
        assert isinstance(agency["name"], str) and agency["name"].strip(), code
        assert agency["kind"] in AGENCY_KINDS, code
        assert isinstance(agency["name_confirmed"], bool), code
        if agency["kind"] == "commune_committee":
            assert agency.get("commune") in communes, code
        if "commune" in agency:
            assert agency["commune"] in communes, code
            assert agency["kind"] in {"commune_committee", "police"}, code
        contact = agency["contact"]
        assert set(contact) == {"email", "phone", "webhook_url"}, code
        assert isinstance(agency["contact_confirmed"], bool), code
        if not agency["contact_confirmed"]:
            # Placeholders only: nothing that could reach a real inbox or endpoint.
            for value in contact.values():
                assert value is None or "example.invalid" in str(value), code


def test_exactly_one_operations_centre(agencies: list[dict[str, Any]]) -> None:
    centres = [a for a in agencies if a["kind"] == "operations_centre"]
    assert len(centres) == 1


def test_every_commune_has_a_committee_and_a_police_station(
    agencies: list[dict[str, Any]], communes: dict[str, dict[str, Any]]
) -> None:
    for name, commune in communes.items():
        committees = [
            a for a in agencies if a["kind"] == "commune_committee" and a.get("commune") == name
        ]
        police = [a for a in agencies if a["kind"] == "police" and a.get("commune") == name]
        assert len(committees) == 1, name
        assert len(police) == 1, name
        assert committees[0]["name"] == f"Ủy ban nhân dân {commune['type']} {name}"
        assert police[0]["name"] == f"Công an {commune['type']} {name}"


# --- routing rules ---------------------------------------------------------------------------


def test_rules_reference_existing_things(
    routing: dict[str, Any],
    categories: list[dict[str, Any]],
    agencies: list[dict[str, Any]],
    communes: dict[str, dict[str, Any]],
) -> None:
    category_codes = {c["code"] for c in categories}
    agency_by_code = {a["code"]: a for a in agencies}
    rules = routing["rules"]
    assert rules
    for rule in rules:
        assert rule["category"] in category_codes, rule
        assert rule["agency"] in agency_by_code, rule
        assert rule["commune"] == ANY or rule["commune"] in communes, rule
        assert rule["confidence"] in CONFIDENCES, rule
        assert isinstance(rule["reason"], str) and rule["reason"].strip(), rule
        agency_commune = agency_by_code[rule["agency"]].get("commune")
        if agency_commune is not None:
            # A commune-level agency only handles its own commune.
            assert rule["commune"] == agency_commune, rule
    assert agency_by_code[routing["fallback"]["agency"]]["kind"] == "operations_centre"
    assert routing["fallback"]["reason"].strip()


def test_no_two_rules_share_a_key(routing: dict[str, Any]) -> None:
    keys = [(r["category"], r["commune"]) for r in routing["rules"]]
    assert len(keys) == len(set(keys))


def test_every_category_and_commune_resolves(
    routing: dict[str, Any],
    categories: list[dict[str, Any]],
    agencies: list[dict[str, Any]],
    communes: dict[str, dict[str, Any]],
) -> None:
    agency_codes = {a["code"] for a in agencies}
    centre = next(a["code"] for a in agencies if a["kind"] == "operations_centre")
    fallback = routing["fallback"]["agency"]
    assert fallback == centre
    unrouted = []
    for cat in categories:
        for commune in [*communes, "a commune nobody knows"]:
            agency, matched = resolve(routing["rules"], fallback, cat["code"], commune)
            assert agency in agency_codes
            if not matched and commune in communes:
                unrouted.append((cat["code"], commune))
    # Only categories with no rule at all fall through to the operations centre.
    assert not unrouted, unrouted[:5]


def test_most_specific_rule_wins(routing: dict[str, Any]) -> None:
    rules = [
        {"category": "street_lighting", "commune": ANY, "agency": "city_wide"},
        {"category": "street_lighting", "commune": "Thuận Hóa", "agency": "ubnd_thuan_hoa"},
    ]
    assert resolve(rules, "ioc", "street_lighting", "Thuận Hóa") == ("ubnd_thuan_hoa", True)
    assert resolve(rules, "ioc", "street_lighting", "Vỹ Dạ") == ("city_wide", True)
    assert resolve(rules, "ioc", "trees", "Vỹ Dạ") == ("ioc", False)
    # The real data: lighting in Thuận Hóa goes to that ward's People's Committee.
    agency, _ = resolve(routing["rules"], "ioc", "street_lighting", "Thuận Hóa")
    assert agency == "ubnd_thuan_hoa"
    agency, _ = resolve(routing["rules"], "ioc", "noise_public_order", "Phú Vang")
    assert agency == "cong_an_phu_vang"


# --- holidays --------------------------------------------------------------------------------


def as_date(value: Any) -> date:
    return value if isinstance(value, date) else date.fromisoformat(str(value))


@pytest.mark.parametrize("year", HOLIDAY_YEARS)
def test_holidays_parse_and_lie_in_their_year(year: int) -> None:
    data = load(f"holidays/{year}.yml")
    assert data["year"] == year
    days_off = [as_date(d["date"]) for d in data["holidays"]]
    extra_work = [as_date(d["date"]) for d in data["working_weekend_days"]]
    assert len(days_off) == len(set(days_off))
    for day in days_off + extra_work:
        assert day.year == year
    for entry in data["holidays"] + data["working_weekend_days"]:
        assert isinstance(entry["confirmed"], bool)
        assert entry["name"].strip() and entry["basis"].strip()
    for day in extra_work:
        assert day.weekday() >= 5 and day not in days_off
    # The fixed dates of Labour Code 2019, Art. 112 are all there.
    for month, day in ((1, 1), (4, 30), (5, 1), (9, 2)):
        assert date(year, month, day) in days_off
    # Tết Âm lịch: 5 days named Tết Nguyên đán; nothing computed is marked confirmed unseen.
    tet = [d for d in data["holidays"] if d["name"].startswith("Tết Nguyên đán")]
    assert len(tet) == 5
    assert not any(d["confirmed"] for d in tet)
    assert any(d["name"].startswith("Giỗ Tổ Hùng Vương") for d in data["holidays"])


def test_lunar_holidays_match_the_computed_dates() -> None:
    """Tết (mùng 1) and Giỗ Tổ (10/3 âm lịch) as computed and cross-checked for the files."""
    expected = {
        2026: (date(2026, 2, 17), date(2026, 4, 26)),
        2027: (date(2027, 2, 6), date(2027, 4, 16)),
    }
    for year, (tet, gio_to) in expected.items():
        entries = {as_date(d["date"]): d["name"] for d in load(f"holidays/{year}.yml")["holidays"]}
        assert "mùng 1" in entries[tet]
        assert entries[gio_to].startswith("Giỗ Tổ Hùng Vương")


# --- text ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "name",
    [
        "report_categories.yml",
        "agencies.yml",
        "routing_rules.yml",
        *(f"holidays/{y}.yml" for y in HOLIDAY_YEARS),
    ],
)
def test_text_is_nfc(name: str) -> None:
    raw = (CATALOG / name).read_text(encoding="utf-8")
    assert unicodedata.normalize("NFC", raw) == raw, name
    for text in strings(load(name)):
        assert unicodedata.normalize("NFC", text) == text, text


@pytest.mark.parametrize("year", HOLIDAY_YEARS)
def test_working_calendar_reads_every_holiday(year: int) -> None:
    from bot.reports.calendar import WorkingCalendar

    listed = {as_date(d["date"]) for d in load(f"holidays/{year}.yml")["holidays"]}
    assert WorkingCalendar.load([year]).holidays == listed
