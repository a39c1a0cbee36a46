"""Importing the catalogue: everything loads, a re-run changes nothing, changes are reported."""

from __future__ import annotations

import gzip
import json

from sqlalchemy import func, select

from bot.procedures.importer import CATALOG_FILE, import_catalog, read_catalog
from bot.procedures.models import Procedure


def test_the_whole_catalogue_is_imported_with_provenance(catalog_db, catalog):
    report = catalog_db.first_import
    assert report.total == len(report.added) == 2642
    assert report.failed == [] and report.updated == [] and report.removed == []
    with catalog() as session:
        assert session.scalar(select(func.count()).select_from(Procedure)) == 2642
        birth = session.scalars(select(Procedure).where(Procedure.code == "1.001193")).one()
    assert birth.name == "Thủ tục đăng ký khai sinh"
    assert birth.url.startswith("https://dichvucong.gov.vn/thu-tuc-hanh-chinh/")
    assert birth.source_retrieved == "2026"
    assert "commune" in birth.levels.split(",")
    assert birth.data["code"] == "1.001193"
    # Accent-free words of name and field are what full-text search indexes.
    assert "dang ky khai sinh" in birth.search_text


def test_a_second_import_reports_everything_unchanged(catalog):
    report = import_catalog(catalog)
    assert (report.unchanged, report.added, report.updated, report.removed) == (2642, [], [], [])


def test_a_changed_added_and_removed_record_are_reported(tmp_path, catalog_db):
    from bot.db import make_engine, make_sessionmaker
    from tests.service.conftest import migrate

    url = f"sqlite:///{tmp_path / 'small.db'}"
    migrate(url)
    factory = make_sessionmaker(make_engine(url))
    records = list(read_catalog(CATALOG_FILE))[:3]
    source = tmp_path / "v1.jsonl"
    source.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in records))
    assert len(import_catalog(factory, source).added) == 3

    changed = dict(records[0], ten_thu_tuc=records[0]["ten_thu_tuc"] + " (sửa đổi)")
    new = dict(records[1], ma_thu_tuc="9.999999")
    v2 = tmp_path / "v2.jsonl.gz"
    with gzip.open(v2, "wt", encoding="utf-8") as out:
        for record in (changed, records[1], new):
            out.write(json.dumps(record, ensure_ascii=False) + "\n")
    report = import_catalog(factory, v2)
    assert report.updated == [records[0]["ma_thu_tuc"]]
    assert report.added == ["9.999999"]
    assert report.removed == [records[2]["ma_thu_tuc"]]
    assert report.unchanged == 1
    with factory() as session:
        names = {c: n for c, n in session.execute(select(Procedure.code, Procedure.name))}
    assert names[records[0]["ma_thu_tuc"]].endswith("(sửa đổi)")
    assert records[2]["ma_thu_tuc"] not in names


def test_a_record_without_a_code_is_reported_and_the_rest_imported(tmp_path):
    from bot.db import make_engine, make_sessionmaker
    from tests.service.conftest import migrate

    url = f"sqlite:///{tmp_path / 'bad.db'}"
    migrate(url)
    factory = make_sessionmaker(make_engine(url))
    good = next(read_catalog(CATALOG_FILE))
    source = tmp_path / "bad.jsonl"
    source.write_text(
        json.dumps(dict(good, ma_thu_tuc=""), ensure_ascii=False)
        + "\n"
        + json.dumps(good, ensure_ascii=False)
        + "\n"
    )
    report = import_catalog(factory, source)
    assert [code for code, _ in report.failed] == ["#1"]
    assert report.added == [good["ma_thu_tuc"]]


def test_aliases_make_a_procedure_findable_and_a_changed_alias_updates_it(tmp_path):
    from bot.db import make_engine, make_sessionmaker
    from bot.procedures.search import ProcedureSearch
    from tests.service.conftest import migrate

    url = f"sqlite:///{tmp_path / 'aliases.db'}"
    migrate(url)
    factory = make_sessionmaker(make_engine(url))
    aliases = tmp_path / "aliases.yml"
    aliases.write_text(
        'aliases:\n  - code: "1.001193"\n    name: "Thủ tục đăng ký khai sinh"\n'
        '    say: ["làm giấy chào đời cho em bé"]\n',
        encoding="utf-8",
    )
    import_catalog(factory, aliases_path=aliases)
    with factory() as session:
        hit = ProcedureSearch().search(session, "lam giay chao doi cho em be").best
    assert hit is not None and hit.code == "1.001193"

    aliases.write_text(aliases.read_text(encoding="utf-8").replace("chào đời", "mừng tuổi"))
    report = import_catalog(factory, aliases_path=aliases)
    assert report.updated == ["1.001193"] and report.unchanged == 2641
    with factory() as session:
        row = session.scalars(select(Procedure).where(Procedure.code == "1.001193")).one()
    assert row.aliases == ["làm giấy mừng tuổi cho em bé"]


def test_every_alias_names_a_catalogue_procedure_by_its_official_name():
    import unicodedata

    import yaml

    from bot.procedures.importer import ALIASES_FILE
    from vitext import fold

    names = {r["ma_thu_tuc"]: r["ten_thu_tuc"] for r in read_catalog(CATALOG_FILE)}
    entries = yaml.safe_load(ALIASES_FILE.read_text(encoding="utf-8"))["aliases"]
    owners: dict[str, str] = {}
    for entry in entries:
        assert entry["code"] in names, entry["code"]
        assert unicodedata.normalize("NFC", entry["name"]) == names[entry["code"]]
        assert 1 <= len(entry["say"]) <= 8
        for phrase in entry["say"]:
            key = " ".join(fold(phrase).split())
            assert owners.setdefault(key, entry["code"]) == entry["code"], phrase
