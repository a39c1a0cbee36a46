"""Conversation benchmark: the real assistant on messages and conversations nobody here wrote.

    make bench-conversations                      (the tuning part; prints every mistake)
    make bench-conversations ARGS="--part both"   (the docs run: docs/benchmarks/conversations.*)

Starts Rasa (the trained model of this commit; trained first when stale unless --no-train),
the action server and the service on a fresh SQLite database with the catalogue, sends every
single message as the first message of a new chat and every conversation turn by turn through
``POST /api/v1/chat``, and reads what each message did from Rasa's tracker (bench/convscore.py).

Held-out discipline: ``--part heldout`` (and ``both``) never prints or writes a held-out text or
a per-item result — only aggregates — and appends a line to bench/conversations/heldout_runs.log
so that the docs can say how many candidates were scored on it. The service's logs of such a
run stay in a temporary directory that is deleted afterwards.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import subprocess
import sys
import tempfile
from dataclasses import asdict
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.convdata import PARTS, DataError, Dataset, load_part  # noqa: E402
from bench.convdocs import render_markdown  # noqa: E402
from bench.convreport import mistakes, part_figures  # noqa: E402
from bench.convscore import (  # noqa: E402
    ConversationResult,
    Outcome,
    intent_aspects,
    read_turn,
    score_conversation,
)
from bench.convstack import Recorded, drive, linear_floor, running_stack, say  # noqa: E402
from bot import devserver, engine  # noqa: E402
from bot.settings import Settings  # noqa: E402
from tests.service.conftest import free_port  # noqa: E402

DATA = ROOT / "bench" / "conversations"
HELDOUT_LOG = DATA / "heldout_runs.log"
DOCS = ROOT / "docs" / "benchmarks"
RESULTS = ROOT / "results"


# -- the run -----------------------------------------------------------------------------


def git_commit() -> str:
    def git(*args: str) -> str:
        return subprocess.run(
            ["git", *args], cwd=ROOT, capture_output=True, text=True, check=False
        ).stdout.strip()

    commit = git("rev-parse", "--short=12", "HEAD") or "unknown"
    dirty = git("status", "--porcelain", "--untracked-files=no")
    return f"{commit}+uncommitted" if dirty else commit


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--part", choices=["tuning", "heldout", "both"], default="tuning")
    parser.add_argument("--data", type=Path, default=DATA, help="folder with tuning/ heldout/")
    parser.add_argument("--no-train", action="store_true", help="use models/ as it is")
    parser.add_argument("--concurrency", type=int, default=4)
    parser.add_argument("--limit", type=int, help="only the first N messages/conversations")
    parser.add_argument("--out", type=Path, help="folder for conversations.md/.json")
    parser.add_argument("--no-floor", action="store_true", help="skip the linear floor (faster)")
    return parser.parse_args(argv)


def _limit(dataset: Dataset, limit: int | None) -> Dataset:
    if limit is not None:
        dataset.messages = dataset.messages[:limit]
        dataset.conversations = dataset.conversations[:limit]
    return dataset


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    parts = list(PARTS) if args.part == "both" else [args.part]
    real_data = args.data.resolve() == DATA.resolve()
    try:
        datasets = {p: _limit(load_part(args.data, p), args.limit) for p in parts}
    except DataError as exc:
        say(str(exc))
        return 1
    for part, dataset in datasets.items():
        say(
            f"{part}: {len(dataset.writers)} writers, {len(dataset.messages)} messages, "
            f"{len(dataset.conversations)} conversations, {len(dataset.invalid)} invalid"
        )
        for problem in dataset.invalid:
            say(f"  left out: {problem}")  # "<id>: <field at fault>", never the text
    if not any(d.messages or d.conversations for d in datasets.values()):
        say(f"no data under {args.data}/{{{','.join(parts)}}}/<writer>/")
        return 1
    if not engine.model_is_fresh():
        if args.no_train:
            if engine.latest_model() is None:
                say("no trained model in models/: run `make train` first")
                return 1
            say("the model is not trained from this commit's data (--no-train): scoring it anyway")
        else:
            settings = Settings(_env_file=None)  # type: ignore[call-arg]
            devserver.ensure_model(settings, action_port=free_port())
    model = engine.latest_model()
    assert model is not None
    secret = "heldout" in parts
    all_messages = [m for d in datasets.values() for m in d.messages]
    all_conversations = [c for d in datasets.values() for c in d.conversations]
    with tempfile.TemporaryDirectory(prefix="bench-conv-") as tmp_name:
        tmp = Path(tmp_name)
        log_dir = tmp if secret else ROOT / "var" / "log" / "bench-conversations"
        log_dir.mkdir(parents=True, exist_ok=True)
        with running_stack(tmp, log_dir) as stack:
            recorded = asyncio.run(
                drive(
                    stack,
                    all_messages,
                    all_conversations,
                    concurrency=args.concurrency,
                    secret_texts=secret,
                )
            )
    floor_result = None
    if not args.no_floor:
        say("linear floor: logistic regression on data/nlu (engine environment)")
        floor_result = linear_floor([m.text for m in all_messages])
    floor_intents, floor_c = floor_result or ([], None)
    floor = dict(zip((m.id for m in all_messages), floor_intents, strict=False))
    run = score(datasets, recorded, floor)
    run["floor_c"] = floor_c
    run.update(
        date=datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"),
        commit=git_commit(),
        model=model.name,
        model_fresh=engine.model_is_fresh(),
        command=" ".join(["bench/conversations.py", *(argv if argv is not None else sys.argv[1:])]),
    )
    if "heldout" in parts and real_data:
        with HELDOUT_LOG.open("a", encoding="utf-8") as log:
            heldout = run["parts"]["heldout"]
            log.write(
                f"{run['date']}\tcommit {run['commit']}\tmodel {run['model']}\t"
                f"{heldout['messages']} messages, {heldout['conversations']} conversations\n"
            )
    run["heldout_runs"] = _heldout_runs() if real_data else 0
    report(run, datasets, recorded, args, real_data=real_data)
    return 0


def _heldout_runs() -> int:
    if not HELDOUT_LOG.exists():
        return 0
    lines = HELDOUT_LOG.read_text(encoding="utf-8").splitlines()
    return sum(1 for line in lines if line.strip() and not line.startswith("#"))


def score(
    datasets: dict[str, Dataset], recorded: Recorded, floor: dict[str, str]
) -> dict[str, Any]:
    aspects = intent_aspects()
    run: dict[str, Any] = {"parts": {}, "outcomes": {}, "results": {}}
    for part, dataset in datasets.items():
        outcomes: dict[str, Outcome] = {
            m.id: read_turn(recorded.messages[m.id], aspects) for m in dataset.messages
        }
        results: list[ConversationResult] = [
            score_conversation(c, recorded.conversations[c.id], aspects)
            for c in dataset.conversations
        ]
        run["parts"][part] = part_figures(dataset, outcomes, recorded.search, floor, results)
        run["outcomes"][part] = outcomes
        run["results"][part] = results
    return run


def report(
    run: dict[str, Any],
    datasets: dict[str, Dataset],
    recorded: Recorded,
    args: argparse.Namespace,
    *,
    real_data: bool,
) -> None:
    if "tuning" in datasets:
        dataset = datasets["tuning"]
        texts = {c.id: [t.user for t in c.turns] for c in dataset.conversations}
        wrong = mistakes(dataset, run["outcomes"]["tuning"], run["results"]["tuning"], texts)
        print_mistakes(wrong)
        RESULTS.mkdir(exist_ok=True)
        path = RESULTS / "conversations_tuning_mistakes.json"
        path.write_text(json.dumps(wrong, ensure_ascii=False, indent=1), encoding="utf-8")
        say(f"tuning mistakes: {len(wrong)} items, also in {path.relative_to(ROOT)}")
        # What each tuning item did, as recorded (tracker events, replies): to study a
        # mistake, and the source of the scorer's test snapshots.
        raw = {m.id: asdict(recorded.messages[m.id]) for m in dataset.messages}
        raw |= {
            c.id: [asdict(r) for r in recorded.conversations[c.id]] for c in dataset.conversations
        }
        (RESULTS / "conversations_tuning_records.json").write_text(
            json.dumps(raw, ensure_ascii=False, indent=1), encoding="utf-8"
        )
    summary = {
        "date": run["date"],
        "commit": run["commit"],
        "model": run["model"],
        "model_fresh": run["model_fresh"],
        "heldout_runs": run["heldout_runs"],
        "command": run["command"],
        "linear_floor_c": run["floor_c"],
        **{p: run["parts"][p] for p in ("heldout", "tuning") if p in run["parts"]},
    }
    for part, figures in run["parts"].items():
        print_figures(part, figures)
    docs_run = real_data and args.part == "both" and args.limit is None
    out = args.out or (DOCS if docs_run else RESULTS)
    out.mkdir(parents=True, exist_ok=True)
    stem = "conversations" if out == DOCS else "conversations_bench"
    (out / f"{stem}.json").write_text(
        json.dumps(summary, ensure_ascii=False, indent=2) + "\n", encoding="utf-8"
    )
    (out / f"{stem}.md").write_text(render_markdown(run), encoding="utf-8")
    say(f"wrote {out / stem}.md and .json")


def print_mistakes(wrong: list[dict[str, Any]]) -> None:
    for item in wrong:
        if "turns" not in item:
            print(f"✗ {item['id']}: {item['text']}\n    expected {item['expected']}")
            print(f"    got      {item['got']}")
            continue
        again = f" (asked again: {', '.join(item['asked_again'])})" if item["asked_again"] else ""
        print(f"✗ {item['id']}{again}")
        for turn in item["turns"]:
            mark = "✓" if turn["ok"] else "✗"
            print(f"  {mark} {turn['text']}\n      expected {turn['expected']}")
            if not turn["ok"]:
                print(f"      got      {turn['got']}")


HEADLINE_KEYS = (
    "turns_right",
    "conversations_right",
    "reports_confirmed_with_code",
    "first_reply_right",
    "search_top1",
    "reports_declined_out_of_scope",
    "out_of_scope_answered_in_scope",
    "asked_back_in_scope",
    "intent_accuracy",
    "linear_floor_intent_accuracy",
)


def print_figures(part: str, figures: dict[str, Any]) -> None:
    say(
        f"{part}: {figures['writers']} writers, {figures['messages']} messages, "
        f"{figures['conversations']} conversations ({figures['turns']} turns), "
        f"{figures['errors']} errors"
    )
    for key in HEADLINE_KEYS:
        value = figures.get(key)
        print(f"    {key:32} {'—' if value is None else f'{value * 100:.1f} %'}")
    print(
        f"    {'asked_again_for_given':32} {figures['asked_again_for_given']} of "
        f"{figures['report_conversations']} report conversations"
    )


if __name__ == "__main__":
    sys.exit(main())
