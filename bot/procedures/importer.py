"""Loading data/catalog/procedures.jsonl.gz into the database: re-runnable, reports changes.

A record is re-parsed when its source text or the parser changed (``PARSER_VERSION``), so
the import is quick when nothing changed and a parser fix reaches every record.
"""

from __future__ import annotations

import gzip
import hashlib
import json
import unicodedata
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml
from sqlalchemy import delete, select, text
from sqlalchemy.orm import Session, sessionmaker

from bot.db import utcnow
from bot.procedures.models import Procedure
from bot.procedures.parsing import PARSER_VERSION, parse_record
from bot.procedures.search import search_text_for
from bot.settings import ROOT

CATALOG_FILE = ROOT / "data" / "catalog" / "procedures.jsonl.gz"
ALIASES_FILE = ROOT / "data" / "catalog" / "procedure_aliases.yml"


def read_aliases(path: Path = ALIASES_FILE) -> dict[str, list[str]]:
    """Citizens' names for procedures, by code (empty when the file does not exist)."""
    if not path.exists():
        return {}
    raw = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    aliases: dict[str, list[str]] = {}
    for item in raw.get("aliases") or []:
        phrases = [unicodedata.normalize("NFC", str(p)).strip() for p in item.get("say") or []]
        aliases.setdefault(str(item["code"]), []).extend(p for p in phrases if p)
    return aliases


Progress = Callable[[int, int], None]


@dataclass
class ImportReport:
    total: int = 0
    added: list[str] = field(default_factory=list)
    updated: list[str] = field(default_factory=list)
    unchanged: int = 0
    removed: list[str] = field(default_factory=list)
    failed: list[tuple[str, str]] = field(default_factory=list)

    @property
    def changed(self) -> bool:
        return bool(self.added or self.updated or self.removed)

    def summary(self) -> str:
        return (
            f"{self.total} procedures: {len(self.added)} added, {len(self.updated)} updated, "
            f"{self.unchanged} unchanged, {len(self.removed)} removed, {len(self.failed)} failed"
        )


def read_catalog(path: Path = CATALOG_FILE) -> Iterator[dict[str, Any]]:
    opener = gzip.open if path.suffix == ".gz" else open
    with opener(path, "rt", encoding="utf-8") as lines:
        for line in lines:
            if line.strip():
                yield json.loads(line)


def source_hash(record: dict[str, Any], aliases: list[str] | None = None) -> str:
    canonical = json.dumps(record, ensure_ascii=False, sort_keys=True)
    said = json.dumps(aliases or [], ensure_ascii=False)
    return hashlib.sha256(f"{PARSER_VERSION}\n{said}\n{canonical}".encode()).hexdigest()


def import_catalog(
    factory: sessionmaker[Session],
    path: Path = CATALOG_FILE,
    *,
    progress: Progress | None = None,
    batch: int = 200,
    aliases_path: Path = ALIASES_FILE,
) -> ImportReport:
    """Insert new procedures, update changed ones, delete those no longer in the file."""
    records = list(read_catalog(path))
    aliases = read_aliases(aliases_path)
    report = ImportReport(total=len(records))
    with factory() as session:
        rows = session.execute(select(Procedure.code, Procedure.source_hash))
        known = {code: digest for code, digest in rows}
        seen: set[str] = set()
        for done, record in enumerate(records, 1):
            code = str(record.get("ma_thu_tuc") or "").strip()
            if not code or code in seen:
                report.failed.append((code or f"#{done}", "missing or repeated code"))
                continue
            seen.add(code)
            digest = source_hash(record, aliases.get(code))
            if known.get(code) == digest:
                report.unchanged += 1
            else:
                try:
                    values = _row_values(record, digest, aliases.get(code, []))
                except Exception as exc:  # noqa: BLE001 - one bad record must not stop the rest
                    report.failed.append((code, f"{type(exc).__name__}: {exc}"))
                    continue
                if code in known:
                    existing = session.scalars(
                        select(Procedure).where(Procedure.code == code)
                    ).one()
                    for key, value in values.items():
                        setattr(existing, key, value)
                    report.updated.append(code)
                else:
                    session.add(Procedure(**values, imported_at=values["updated_at"]))
                    report.added.append(code)
            if done % batch == 0:
                session.flush()
            if progress:
                progress(done, len(records))
        report.removed = sorted(set(known) - seen)
        if report.removed:
            session.execute(delete(Procedure).where(Procedure.code.in_(report.removed)))
        session.commit()
        if report.changed:
            _tidy_search_index(session)
    return report


def _tidy_search_index(session: Session) -> None:
    """After bulk changes: merge FTS5 segments (SQLite) or refresh planner statistics."""
    if session.get_bind().dialect.name == "sqlite":
        session.execute(text("INSERT INTO procedures_fts(procedures_fts) VALUES ('optimize')"))
    else:
        session.execute(text("ANALYZE procedures"))
    session.commit()


def _row_values(record: dict[str, Any], digest: str, aliases: list[str]) -> dict[str, Any]:
    parsed = parse_record(record)
    return {
        "code": parsed.code,
        "name": parsed.name,
        "field": parsed.field,
        "levels": ",".join(parsed.levels),
        "ministry": parsed.ministry,
        "applicants": parsed.applicants,
        "url": record.get("source_url") or parsed.url,
        "source_name": record.get("source_name") or "Cổng Dịch vụ công quốc gia",
        "source_retrieved": record.get("source_retrieved") or "",
        "aliases": aliases,
        "search_text": search_text_for(parsed.name, parsed.field, aliases),
        "data": parsed.model_dump(mode="json"),
        "source_hash": digest,
        "updated_at": utcnow(),
    }
