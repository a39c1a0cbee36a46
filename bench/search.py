"""Procedure search benchmark: top-1/top-3 accuracy and latency on SQLite and PostgreSQL.

    make bench-search      (= .venv/bin/python bench/search.py)

Loads the full catalogue into a fresh database of each kind (PostgreSQL: a throw-away
database on the local server), asks every question of the two tuning sets
(bench/search_questions.yml and bench/search_questions_2.yml, both written independently of
the synonym list) and of the held-out set (totals only), and writes docs/benchmarks/search.md, its headline
figures in docs/benchmarks/search.json, and results/search_bench.json. A question counts as top-k correct when one of its expected
codes is among the first k hits; a no-match question counts as correct when nothing is above
the match threshold.

    .venv/bin/python bench/search.py --tuning-only --databases sqlite

is the loop for tuning: it never opens the held-out file, and writes its report to
results/search_bench_tuning.md (not to docs/) unless --out is given.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
import uuid
from collections import Counter
from pathlib import Path
from typing import Any

import yaml

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bot.db import make_engine, make_sessionmaker  # noqa: E402
from bot.procedures.importer import import_catalog  # noqa: E402
from bot.procedures.search import ProcedureSearch  # noqa: E402

SETS = {
    # Written independently of the synonym list; its misses were studied while tuning.
    "tuning": ROOT / "bench" / "search_questions.yml",
    # A second tuning set, written before its writer read the synonym and alias files;
    # its misses are studied too.
    "tuning-2": ROOT / "bench" / "search_questions_2.yml",
    # Written later by another writer who saw neither the engine nor the tuning set;
    # only its totals are ever printed, so it stays an unbiased estimate.
    "held-out": ROOT / "tests" / "search" / "heldout_questions.yml",
}
TUNING_SETS = ("tuning", "tuning-2")
PG_ADMIN_DSN = "postgresql://postgres@127.0.0.1:5432/postgres"


def migrate(url: str) -> None:
    from alembic import command
    from alembic.config import Config

    config = Config(str(ROOT / "alembic.ini"))
    config.set_main_option("script_location", str(ROOT / "bot" / "migrations"))
    config.cmd_opts = type("Opts", (), {"x": [f"url={url}"]})()  # type: ignore[assignment]
    command.upgrade(config, "head")


def evaluate(
    url: str, questions: list[dict], no_match: list[str], repeat: int, reimport: bool = True
) -> dict[str, Any]:
    if reimport:
        migrate(url)
    engine = make_engine(url)
    factory = make_sessionmaker(engine)
    started = time.perf_counter()
    report = import_catalog(factory)
    import_s = time.perf_counter() - started
    search = ProcedureSearch()
    top1 = top3 = 0
    by_style: dict[str, list[int]] = {}
    misses = []
    latencies = []
    answers: dict[str, list[str]] = {}
    with factory() as session:
        search.search(session, "khai sinh")  # warm the word statistics
        for q in questions:
            for _ in range(repeat):
                t0 = time.perf_counter()
                result = search.search(session, q["q"], limit=3)
                latencies.append((time.perf_counter() - t0) * 1000)
            got = [h.code for h in result.hits] if result.best else []
            answers[q["q"]] = got
            expected = set(q["expected"])
            first = bool(got[:1] and got[0] in expected)
            three = bool(expected & set(got[:3]))
            top1 += first
            top3 += three
            by_style.setdefault(q.get("style", "?"), []).append(int(first))
            if not first:
                misses.append({"q": q["q"], "expected": q["expected"], "got": got[:3]})
        rejected = 0
        false_matches = []
        for text in no_match:
            result = search.search(session, text, limit=3)
            if result.best is None:
                rejected += 1
            else:
                false_matches.append({"q": text, "got": result.best.code})
            answers[text] = [result.best.code] if result.best else []
    engine.dispose()
    latencies.sort()
    return {
        "import": report.summary(),
        "import_s": round(import_s, 1),
        "questions": len(questions),
        "top1": top1 / len(questions),
        "top3": top3 / len(questions),
        "by_style": {k: sum(v) / len(v) for k, v in sorted(by_style.items())},
        "style_counts": {k: len(v) for k, v in sorted(by_style.items())},
        "no_match_rejected": f"{rejected}/{len(no_match)}",
        "false_matches": false_matches,
        "p50_ms": round(statistics.median(latencies), 2),
        "p95_ms": round(latencies[int(0.95 * (len(latencies) - 1))], 2),
        "misses": misses,
        "answers": answers,
    }


def load_set(path: Path) -> tuple[list[dict], list[str]]:
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    no_match = [q["q"] if isinstance(q, dict) else q for q in data.get("no_match") or []]
    return data["questions"], no_match


def run_sets(url: str, sets: dict[str, tuple[list[dict], list[str]]], repeat: int) -> dict:
    """Each tuning set in full; the held-out set's totals only (never its questions)."""
    result: dict[str, Any] = {}
    first = True
    for name in TUNING_SETS:
        if name in sets:
            questions, no_match = sets[name]
            result[name] = evaluate(url, questions, no_match, repeat, reimport=first)
            first = False
    if "held-out" in sets:
        held_q, held_n = sets["held-out"]
        held = evaluate(url, held_q, held_n, repeat, reimport=first)
        result["held-out"] = {
            k: held[k]
            for k in ("questions", "top1", "top3", "no_match_rejected", "p50_ms", "p95_ms")
        }
        result["held-out_answers"] = held["answers"]
    return result


def postgres_url() -> tuple[str, str]:
    import psycopg

    name = f"hue_s_bench_{uuid.uuid4().hex[:10]}"
    with psycopg.connect(PG_ADMIN_DSN, autocommit=True) as admin:
        admin.execute(f'CREATE DATABASE "{name}"')
    return f"postgresql+psycopg://postgres@127.0.0.1:5432/{name}", name


def drop_postgres(name: str) -> None:
    import psycopg

    with psycopg.connect(PG_ADMIN_DSN, autocommit=True) as admin:
        admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def write_docs(results: dict[str, dict], out: Path, repeat: int) -> None:
    first = next(iter(results.values()))
    tuning = [name for name in TUNING_SETS if name in first]
    lines = [
        "# Procedure search benchmark",
        "",
        "Command: `make bench-search` (bench/search.py), over the full catalogue "
        f"({first[tuning[0]]['import']}). Three question sets, all in citizens' wording (with "
        "and without diacritics, abbreviations, Huế dialect, typos, everyday words) and written "
        "without seeing the synonym list: two **tuning** sets, whose misses were studied while "
        "tuning the ranking — bench/search_questions.yml (`tuning`) and "
        "bench/search_questions_2.yml (`tuning-2`, written before its writer read the synonym "
        "and alias files) — and the **held-out** set (tests/search/heldout_questions.yml), "
        "written by another writer and never inspected — only its totals are printed. Latency: "
        "one search call, both stages (full-text candidates + ranking), each question asked "
        f"{repeat} times.",
        "",
        "| database | set | questions | top-1 | top-3 | no-match rejected | p50 ms | p95 ms |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for name, r in results.items():
        for set_name in [*tuning, "held-out"]:
            if set_name not in r:
                continue
            s = r[set_name]
            lines.append(
                f"| {name} | {set_name} | {s['questions']} | {s['top1']:.1%} | {s['top3']:.1%} | "
                f"{s['no_match_rejected']} | {s['p50_ms']} | {s['p95_ms']} |"
            )
    for set_name in tuning:
        styles = first[set_name]["by_style"]
        counts = first[set_name]["style_counts"]
        lines += [
            "",
            f"Top-1 by writing style ({set_name} set):",
            "",
            "| database | " + " | ".join(f"{k} ({counts[k]})" for k in styles) + " |",
            "|---|" + "---|" * len(styles),
        ]
        for name, r in results.items():
            by_style = r[set_name]["by_style"]
            lines.append(f"| {name} | " + " | ".join(f"{by_style[k]:.1%}" for k in styles) + " |")
    if len(results) == 2:
        a, b = (
            {
                **{q: got for t in tuning for q, got in r[t]["answers"].items()},
                **r.get("held-out_answers", {}),
            }
            for r in results.values()
        )
        same = sum(1 for q in a if a[q][:1] == b.get(q, [])[:1])
        sets_named = "all sets" if "held-out" in first else "tuning sets"
        lines += [
            "",
            f"Same top answer on both databases: {same}/{len(a)} questions ({sets_named}).",
        ]
    for set_name in tuning:
        r = first[set_name]
        lines += ["", f"Misses (top-1, {set_name} set) on the first database:", ""]
        for m in r["misses"]:
            lines.append(
                f"- {m['q']} — expected {', '.join(m['expected'])}, got {m['got'] or 'none'}"
            )
        if r["false_matches"]:
            lines += ["", f"No-match questions that matched something ({set_name} set):", ""]
            lines += [f"- {m['q']} → {m['got']}" for m in r["false_matches"]]
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text("\n".join(lines) + "\n", encoding="utf-8")


def headline(results: dict[str, dict], repeat: int) -> dict[str, Any]:
    """The figures of the page's first table, for docs/benchmarks/search.json."""
    keys = ("questions", "top1", "top3", "no_match_rejected", "p50_ms", "p95_ms")
    return {
        "command": "make bench-search",
        "repeat": repeat,
        "databases": {
            db: {name: {k: r[k] for k in keys} for name, r in sets.items() if "questions" in r}
            for db, sets in results.items()
        },
    }


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--databases", default="sqlite,postgresql")
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--out", default=None, help="default: docs/benchmarks/search.md")
    parser.add_argument(
        "--tuning-only",
        action="store_true",
        help="skip the held-out set entirely (never opened); report to "
        "results/search_bench_tuning.md unless --out is given",
    )
    parser.add_argument("--quiet", action="store_true")
    args = parser.parse_args()
    names = TUNING_SETS if args.tuning_only else (*TUNING_SETS, "held-out")
    sets = {name: load_set(SETS[name]) for name in names if SETS[name].exists()}
    default_out = (
        ROOT / "results" / "search_bench_tuning.md"
        if args.tuning_only
        else ROOT / "docs" / "benchmarks" / "search.md"
    )
    out = Path(args.out) if args.out else default_out
    results: dict[str, dict] = {}
    for database in args.databases.split(","):
        if database == "sqlite":
            import tempfile

            with tempfile.TemporaryDirectory() as tmp:
                url = f"sqlite:///{tmp}/bench.db"
                results["SQLite (FTS5)"] = run_sets(url, sets, args.repeat)
        else:
            url, name = postgres_url()
            try:
                results["PostgreSQL (tsvector + GIN)"] = run_sets(url, sets, args.repeat)
            finally:
                drop_postgres(name)
    write_docs(results, out, args.repeat)
    if not args.tuning_only:
        out.with_suffix(".json").write_text(
            json.dumps(headline(results, args.repeat), ensure_ascii=False, indent=1) + "\n",
            encoding="utf-8",
        )
    (ROOT / "results").mkdir(exist_ok=True)
    public = {
        db: {k: v for k, v in r.items() if k != "held-out_answers"} for db, r in results.items()
    }
    json_name = "search_bench_tuning.json" if args.tuning_only else "search_bench.json"
    (ROOT / "results" / json_name).write_text(
        json.dumps(public, ensure_ascii=False, indent=1), encoding="utf-8"
    )
    if not args.quiet:
        print(out.read_text(encoding="utf-8"))
    for name in TUNING_SETS:
        if name in sets:
            styles = Counter(q.get("style") for q in sets[name][0])
            print(name, dict(styles), file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
