"""How much of the procedure catalogue the parser reads with confidence.

    .venv/bin/python scripts/procedure_coverage.py [PATH] [--examples N] [--json]

PATH is a jsonl file (gzip when it ends in .gz), by default data/catalog/procedures.jsonl.gz.
Prints, per field and per ministry, the share of records whose cells were fully parsed, and
a few examples of the cells that stay raw.
"""

from __future__ import annotations

import argparse
import gzip
import json
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bot.procedures.parsing import ParsedProcedure, coverage, parse_record  # noqa: E402

DEFAULT = ROOT / "data" / "catalog" / "procedures.jsonl.gz"
FIELDS = ("channels", "times", "fees", "documents", "legal_bases", "result", "fully_parsed")
CELLS = ("time_cells", "fee_cells", "document_rows")


def read_jsonl(path: Path) -> Iterator[dict[str, Any]]:
    opener = gzip.open if path.suffix == ".gz" else open
    with opener(path, "rt", encoding="utf-8") as lines:
        for line in lines:
            if line.strip():
                yield json.loads(line)


def percent(value: float) -> str:
    return f"{100 * value:5.1f}%"


def examples(parsed: list[ParsedProcedure], limit: int) -> dict[str, list[str]]:
    """A few distinct unparsed cells of each kind, shortened."""
    found: dict[str, list[str]] = {"time": [], "fee": [], "document row": [], "legal bases": []}

    def add(kind: str, code: str, text: str) -> None:
        text = text if len(text) <= 160 else text[:157] + "…"
        entry = f"{code}: {text}"
        if len(found[kind]) < limit and not any(e.endswith(text) for e in found[kind]):
            found[kind].append(entry)

    for item in parsed:
        for channel in item.channels:
            if not channel.time.parsed:
                add("time", item.code, repr(channel.time.text))
            if not channel.fee.parsed:
                add("fee", item.code, channel.fee.text)
        for document in item.documents:
            if not document.parsed:
                add("document row", item.code, document.text[-160:])
        if "can_cu_phap_ly" in item.raw:
            add("legal bases", item.code, item.raw["can_cu_phap_ly"][-160:])
    return found


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("path", nargs="?", type=Path, default=DEFAULT)
    parser.add_argument("--examples", type=int, default=4, help="unparsed examples per kind")
    parser.add_argument("--json", action="store_true", help="print the figures as JSON")
    args = parser.parse_args(argv)
    if not args.path.exists():
        print(f"no such file: {args.path}", file=sys.stderr)
        return 2

    parsed = [parse_record(record) for record in read_jsonl(args.path)]
    figures = coverage(parsed)
    if args.json:
        print(json.dumps(figures, ensure_ascii=False, indent=2))
        return 0

    print(f"{args.path}: {figures['records']} procedures\n")
    print("Records fully parsed, per field")
    for name in FIELDS:
        print(f"  {name:<14}{percent(figures[name])}")
    print("Cells parsed")
    for name in CELLS:
        print(f"  {name:<14}{percent(figures[name])}")
    print(f"Fee cells by kind: {figures['fee_kinds']}")
    print(f"Time cells by unit: {figures['time_units']}\n")

    header = f"{'ministry':<20}{'n':>5}" + "".join(f"{name:>13}" for name in FIELDS)
    print(header)
    for ministry, row in figures["per_ministry"].items():
        cells = "".join(f"{percent(row[name]):>13}" for name in FIELDS)
        print(f"{ministry:<20}{row['records']:>5}{cells}")

    print("\nExamples of cells kept raw")
    for kind, entries in examples(parsed, args.examples).items():
        print(f"  {kind}:")
        for entry in entries:
            print(f"    {entry}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
