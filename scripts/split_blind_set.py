"""Split one writer's blind set into a tuning part (~40 %) and a held-out part (~60 %).

    .venv/bin/python scripts/split_blind_set.py /path/to/writer-folder [--out bench/conversations]

Reads <folder>/messages.yml and <folder>/conversations.yml (the writers' brief format) and
writes <out>/tuning/<writer>/… and <out>/heldout/<writer>/… with the same fields. Each item
goes to a part by a stable hash of its id (SHA-256 with a fixed salt), so the split never
changes when it is run again, and an item's part does not depend on the others.

Prints counts only — never an item: whoever runs it must not see the held-out texts. A YAML
error is reported by line and column (PyYAML's own message would quote the line).
"""

from __future__ import annotations

import argparse
import hashlib
import sys
from pathlib import Path
from typing import Any

import yaml

ROOT = Path(__file__).resolve().parent.parent
SALT = "hue-s conversation benchmark v1"
TUNING_PERCENT = 40
FILES = {"messages.yml": "messages", "conversations.yml": "conversations"}


def part_of(item_id: str) -> str:
    digest = hashlib.sha256(f"{SALT}:{item_id}".encode()).digest()
    return "tuning" if int.from_bytes(digest[:8], "big") % 100 < TUNING_PERCENT else "heldout"


def read(path: Path) -> dict[str, Any]:
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark
        where = f"line {mark.line + 1}, column {mark.column + 1}" if mark else "unknown place"
        raise SystemExit(f"{path}: not valid YAML ({where})") from None
    except (yaml.YAMLError, UnicodeDecodeError):
        raise SystemExit(f"{path}: not valid YAML") from None
    if not isinstance(data, dict):
        raise SystemExit(f"{path}: expected a mapping at the top")
    return data


def split(folder: Path, out: Path, writer: str) -> dict[str, dict[str, int]]:
    """Write both parts of each file; return the counts (file → part → items)."""
    counts: dict[str, dict[str, int]] = {}
    for filename, key in FILES.items():
        source = folder / filename
        if not source.exists():
            continue
        data = read(source)
        items = data.get(key) or []
        ids = [str(item.get("id") or "") for item in items]
        if any(not i for i in ids) or len(set(ids)) != len(ids):
            raise SystemExit(f"{source}: every item needs an id, and ids must be unique")
        parts: dict[str, list[Any]] = {"tuning": [], "heldout": []}
        for item, item_id in zip(items, ids, strict=True):
            parts[part_of(item_id)].append(item)
        for part, chosen in parts.items():
            target = out / part / writer / filename
            target.parent.mkdir(parents=True, exist_ok=True)
            header = {k: v for k, v in data.items() if k != key}
            body = {**header, "writer": data.get("writer", writer), key: chosen}
            target.write_text(
                f"# {part} part of writer {writer}'s {filename} "
                "(scripts/split_blind_set.py; do not edit by hand)\n"
                + yaml.safe_dump(body, allow_unicode=True, sort_keys=False, width=10_000),
                encoding="utf-8",
            )
        counts[filename] = {part: len(chosen) for part, chosen in parts.items()}
    return counts


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("folder", type=Path, help="a writer's folder (messages.yml, …)")
    parser.add_argument("--out", type=Path, default=ROOT / "bench" / "conversations")
    parser.add_argument("--writer", help="the writer's name in the layout (default: folder name)")
    args = parser.parse_args(argv)
    writer = args.writer or args.folder.resolve().name
    counts = split(args.folder, args.out, writer)
    if not counts:
        print(f"no messages.yml or conversations.yml in {args.folder}")
        return 1
    for filename, parts in counts.items():
        total = sum(parts.values())
        print(
            f"{writer} {filename}: {total} items → tuning {parts['tuning']}, "
            f"held-out {parts['heldout']} ({args.out})"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
