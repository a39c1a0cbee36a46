"""The blind benchmark's single messages as an NLU test set (``bench/nlu_pipelines.py
--test-set blind``), the linear floor on the same messages, and the held-out discipline.

Messages come from bench/conversations/{tuning,heldout}/<writer>/messages.yml through the
conversation benchmark's own loader (bench/convdata.py). A message's kind says which intents
are right exactly as the conversation benchmark's "intent accuracy" does
(bench/convreport.py: ``intent_fits``): a procedure message → any ask_procedure* intent, a
report → report_problem, out of scope → out_of_scope, small talk → its act's intent, a
report status question → check_report_status.

Held-out: only counts leave this module for the held-out part — no text is printed or
written, no per-item result and no confusion between intents is kept for it — and every
variant scored on it adds a line to bench/conversations/heldout_runs.log.
"""

from __future__ import annotations

import statistics
import time
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from bench.convdata import load_part
from bench.convreport import intent_fits

ROOT = Path(__file__).resolve().parent.parent
DATA = ROOT / "bench" / "conversations"
HELDOUT_LOG = DATA / "heldout_runs.log"
PARTS = ("tuning", "heldout")
SECRET_PARTS = frozenset({"heldout"})


@dataclass(frozen=True)
class TestItem:
    """One message to classify and what counts as right for it."""

    text: str
    gold: str  # the label shown in confusions: an intent, or "ask_procedure*"
    fits: Callable[[str | None], bool]
    out_of_scope: bool
    entities: tuple[dict[str, Any], ...] | None = None  # None: not annotated, not scored


def _gold_label(kind: str, act: str | None) -> str:
    return {
        "procedure": "ask_procedure*",
        "report": "report_problem",
        "out_of_scope": "out_of_scope",
        "report_status": "check_report_status",
    }.get(kind, act or kind)


def load_blind(data: Path = DATA) -> dict[str, list[TestItem]]:
    """The single messages of each part, text NFC-normalised as the service's gateway does."""
    parts: dict[str, list[TestItem]] = {}
    for part in PARTS:
        items = []
        for message in load_part(data, part).messages:
            items.append(
                TestItem(
                    text=unicodedata.normalize("NFC", message.text),
                    gold=_gold_label(message.kind, message.expectation.act),
                    fits=lambda intent, m=message: intent_fits(m, intent),
                    out_of_scope=message.kind == "out_of_scope",
                )
            )
        parts[part] = items
    return parts


_E5_CACHE: dict[str, Any] = {}


def e5_vectors(texts: list[str]) -> Any:
    """The e5 sentence vector of each text, each text embedded once per process
    (cross-validation would otherwise embed the training data 21 times)."""
    import numpy as np

    from hue_rasa.dense_featurizer import embed

    missing = [t for t in dict.fromkeys(texts) if t not in _E5_CACHE]
    if missing:
        _E5_CACHE.update(zip(missing, embed(missing), strict=True))
    return np.vstack([_E5_CACHE[t] for t in texts])


# Linear baselines: the floor (bench/linear_floor.py as it is), and the same logistic
# regression on e5 sentence vectors, alone and beside the floor's n-grams — whether the
# dense features carry intent signal at all, apart from how DIET uses them.
LINEAR = ("linear_floor", "linear_e5", "linear_floor_plus_e5")


def fit_linear(kind: str, texts: list[str], intents: list[str]) -> Any:
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.linear_model import LogisticRegression
    from sklearn.model_selection import GridSearchCV, StratifiedKFold
    from sklearn.pipeline import Pipeline, make_union
    from sklearn.preprocessing import FunctionTransformer

    from bench.linear_floor import C_GRID, fit
    from vitext import fold

    if kind == "linear_floor":
        return fit(texts, intents)
    vectors = FunctionTransformer(e5_vectors)
    features: Any = vectors
    if kind == "linear_floor_plus_e5":
        ngrams = TfidfVectorizer(
            preprocessor=fold, analyzer="char_wb", ngram_range=(2, 5), sublinear_tf=True
        )
        features = make_union(ngrams, vectors)
    pipeline = Pipeline([("features", features), ("classifier", LogisticRegression(max_iter=5000))])
    folds = StratifiedKFold(n_splits=5, shuffle=True, random_state=0)
    search = GridSearchCV(pipeline, {"classifier__C": C_GRID}, cv=folds, n_jobs=1)
    search.fit(texts, intents)
    return search.best_estimator_


def score_linear(subsets: dict[str, list[TestItem]], kind: str = "linear_floor") -> dict[str, Any]:
    """A linear baseline, trained on data/nlu, on every subset: one deterministic fit."""
    from bench.linear_floor import training_examples

    _E5_CACHE.clear()  # each baseline's times include its own embedding
    started = time.perf_counter()
    model = fit_linear(kind, *training_examples())
    train_s = time.perf_counter() - started
    result: dict[str, Any] = {"subsets": {}, "train_s": train_s}
    latencies = []
    for subset, items in subsets.items():
        correct = leaks = 0
        for item in items:
            started = time.perf_counter()
            intent = str(model.predict([item.text])[0])
            latencies.append(time.perf_counter() - started)
            correct += item.fits(intent)
            leaks += item.out_of_scope and intent != "out_of_scope"
        result["subsets"][subset] = {
            "correct": correct,
            "total": len(items),
            "oos_leaks": leaks,
            "oos_total": sum(i.out_of_scope for i in items),
        }
    result["parse_ms_p50"] = statistics.median(latencies) * 1000 if latencies else None
    result["C"] = model.named_steps["classifier"].C
    return result


def log_heldout_run(variant: str, commit: str, seeds: int, messages: int) -> None:
    """One line per variant scored on the held-out part, in the conversation bench's format."""
    date = datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    runs = f"{seeds} seeds" if seeds > 1 else "1 fit"
    with HELDOUT_LOG.open("a", encoding="utf-8") as log:
        log.write(
            f"{date}\tcommit {commit}\tmodel nlu-bench {variant} ({runs}, NLU only)\t"
            f"{messages} messages, 0 conversations\n"
        )


def _accuracy(result: dict[str, Any], subset: str, key: str = "correct") -> float:
    counts = result["subsets"][subset]
    return float(counts[key] / counts["total"]) if counts["total"] else 0.0


def summarise_blind(runs: dict[str, list[dict[str, Any]]], seeds: list[int]) -> dict[str, Any]:
    """Per variant and part: accuracy mean, sd and per seed; leaks; train and parse time."""
    summary: dict[str, Any] = {}
    for name, results in runs.items():
        entry: dict[str, Any] = {"seeds": seeds[: len(results)]}
        for part in results[0]["subsets"]:
            per_seed = [_accuracy(r, part) for r in results]
            counts = [r["subsets"][part] for r in results]
            entry[part] = {
                "messages": counts[0]["total"],
                "intent_accuracy_mean": round(statistics.mean(per_seed), 4),
                "intent_accuracy_sd": round(statistics.pstdev(per_seed), 4),
                "intent_accuracy_per_seed": [round(a, 4) for a in per_seed],
                "oos_leaks_per_seed": [c["oos_leaks"] for c in counts],
                "oos_total": counts[0]["oos_total"],
            }
            if "correct_acting" in counts[0]:
                entry[part]["intent_accuracy_with_fallback_mean"] = round(
                    statistics.mean(_accuracy(r, part, "correct_acting") for r in results), 4
                )
                entry[part]["in_scope_asked_back_mean"] = round(
                    statistics.mean(
                        c["fallbacks"] / c["in_scope_total"] if c["in_scope_total"] else 0.0
                        for c in counts
                    ),
                    4,
                )
        entry["train_s_mean"] = round(statistics.mean(r["train_s"] for r in results), 1)
        entry["train_s_per_seed"] = [round(r["train_s"], 1) for r in results]
        entry["parse_ms_p50"] = round(statistics.mean(r["parse_ms_p50"] for r in results), 2)
        confusions: dict[str, int] = {}
        for r in results:
            for key, n in r.get("confusions", {}).items():
                confusions[key] = confusions.get(key, 0) + n
        entry["tuning_confusions"] = sorted(confusions.items(), key=lambda kv: -kv[1])[:8]
        summary[name] = entry
    return summary


def _pct(value: float | None) -> str:
    return "—" if value is None else f"{value * 100:.1f}"


def render_blind(summary: dict[str, Any], meta: dict[str, Any]) -> str:
    """The markdown section for docs/benchmarks/nlu.md (aggregates only)."""
    parts = [p for p in PARTS if any(p in s for s in summary.values())]
    sizes = {p: next(s[p]["messages"] for s in summary.values() if p in s) for p in parts}
    head = ["variant"]
    for p in parts:
        head += [f"{p} intent acc. % (mean ± sd)", f"{p} per seed", f"{p} OOS leaks"]
    head += ["train s", "predict ms p50"]
    lines = [
        f"Command: `{meta['command']}` (bench/nlu_pipelines.py), {meta['date']}, commit "
        f"{meta['commit']}. Seeds {meta['seeds']}. Messages: "
        + ", ".join(f"{p} {n}" for p, n in sizes.items())
        + ".",
        "",
        "| " + " | ".join(head) + " |",
        "|---" * len(head) + "|",
    ]
    for name, s in summary.items():
        row = [f"`{name}`"]
        for p in parts:
            f = s[p]
            per_seed = ", ".join(_pct(a) for a in f["intent_accuracy_per_seed"])
            row += [
                f"{_pct(f['intent_accuracy_mean'])} ± {_pct(f['intent_accuracy_sd'])}",
                per_seed,
                f"{'/'.join(str(x) for x in f['oos_leaks_per_seed'])} of {f['oos_total']}",
            ]
        row += [f"{s['train_s_mean']:.0f}", f"{s['parse_ms_p50']:.1f}"]
        lines.append("| " + " | ".join(row) + " |")
    return "\n".join(lines) + "\n"
