"""The answer audit prints every aspect's answer next to the catalogue fields it comes from."""

from __future__ import annotations

import re

from bot.procedures.answers import Aspect
from bot.procedures.audit import SOURCE_FIELDS, audit, sample_codes
from bot.procedures.importer import read_catalog
from bot.procedures.models import Procedure

RECORDS = {str(r["ma_thu_tuc"]): r for r in read_catalog()}


def test_each_answer_is_followed_by_its_source_fields_verbatim(catalog):
    with catalog() as session:
        text = "\n".join(audit(session, RECORDS, ["1.001193"]))
    record = RECORDS["1.001193"]
    assert text.startswith("## 1.001193 — Thủ tục đăng ký khai sinh")
    for aspect in Aspect:
        section = text.split(f"### {aspect.value}\n", 1)[1].split("\n### ", 1)[0].lstrip()
        assert section.startswith("Answer:\n```text\n📄 Thủ tục đăng ký khai sinh")
        for field in SOURCE_FIELDS[aspect]:
            assert f"Source field `{field}`" in section
    # The documents' source is the catalogue's own text, unchanged.
    documents = text.split("### documents\n", 1)[1].split("\n### ", 1)[0]
    first_line = record["thanh_phan_ho_so"].strip().splitlines()[0]
    assert first_line in documents


def test_every_number_in_a_fee_or_time_answer_is_in_its_source(catalog):
    """The check a reviewer makes, done by machine on a sample: no invented amounts or days."""
    with catalog() as session:
        codes = sample_codes(session, 40, seed=7)
        for code in codes:
            lines = list(audit(session, RECORDS, [code], [Aspect.FEE, Aspect.TIME]))
            text = "\n".join(lines)
            for aspect in ("fee", "time"):
                section = text.split(f"### {aspect}\n", 1)[1].split("\n### ", 1)[0]
                answer, source = section.split("Source field", 1)
                body = answer.split("Mã thủ tục:", 1)[1].split("Nguồn:", 1)[0]
                digits = re.sub(r"[.,\s]", "", source)
                for number in re.findall(r"\d[\d.]*", body.replace(code, "")):
                    assert number.replace(".", "") in digits, (code, aspect, number)


def test_the_sample_is_reproducible_and_spread_over_ministries(catalog):
    with catalog() as session:
        first, again = sample_codes(session, 12, seed=3), sample_codes(session, 12, seed=3)
        assert first == again and len(set(first)) == 12
        assert sample_codes(session, 12, seed=4) != first
        ministries = {
            session.query(Procedure.ministry).filter(Procedure.code == c).scalar() for c in first
        }
        assert len(ministries) >= 6


def test_an_unknown_code_is_reported_not_skipped(catalog):
    with catalog() as session:
        assert list(audit(session, RECORDS, ["9.999999"])) == [
            "## 9.999999\n\nNot in the database or the catalogue file.\n"
        ]
