"""Compare NLU pipelines on a test set, over several seeds.

    make bench-nlu            (= .venv-engine/bin/python bench/nlu_pipelines.py)
    ... --seeds 1 --variants chosen   (a quick run)
    ... --test-set blind      (the blind benchmark's single messages, tuning and held-out)

Each variant trains an NLU-only model on data/nlu with the same DIET budget as config.yml
and is scored on tests/nlu (held out; examples that also occur in the training data are
left out and counted). Writes docs/benchmarks/nlu.md and results/nlu_bench.json.

``--test-set blind`` scores the single messages of bench/conversations/{tuning,heldout}
(bench/nlu_blind.py) by the conversation benchmark's intent accuracy, with the linear floor
(bench/linear_floor.py) on the same messages; it writes docs/benchmarks/nlu.json and the
table for docs/benchmarks/nlu.md to results/nlu_blind.md, prints only the tuning part's
mistakes, and logs each variant scored on the held-out part.
"""

from __future__ import annotations

import argparse
import asyncio
import copy
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import datetime, timezone
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

# Every variant and seed is trained from scratch, so that "train s" is a real training time
# (Rasa would otherwise restore components from its cache when nothing changed).
os.environ.setdefault("RASA_MAX_CACHE_SIZE", "0")

from rasa.core.agent import Agent  # noqa: E402
from rasa.model_training import train_nlu  # noqa: E402
from rasa.shared.nlu.training_data.loading import load_data  # noqa: E402

from bench.nlu_blind import (  # noqa: E402
    LINEAR,
    SECRET_PARTS,
    TestItem,
    load_blind,
    log_heldout_run,
    render_blind,
    score_linear,
    summarise_blind,
)
from vitext import fold  # noqa: E402

FALLBACK_THRESHOLD = 0.6
# The held-out set is the measure; the tuning set (bench/nlu_tuning, written by someone who
# read neither the training data nor the held-out set) is the one to look at while changing
# the pipeline or the data: only for it are the misclassified texts printed.
TEST_SETS = {
    "heldout": {
        "standard": "tests/nlu/heldout_standard.yml",
        "informal": "tests/nlu/heldout_informal.yml",
    },
    "tuning": {
        "in_scope": "bench/nlu_tuning/in_scope.yml",
        "out_of_scope": "bench/nlu_tuning/out_of_scope.yml",
    },
}


CONFIG = ROOT / "config.yml"


def chosen_config() -> dict:
    return yaml.safe_load(CONFIG.read_text(encoding="utf-8"))


def _replace_tokenizer(config: dict, tokenizer: dict) -> dict:
    config = copy.deepcopy(config)
    config["pipeline"][0] = tokenizer
    return config


def variants() -> dict[str, dict]:
    chosen = chosen_config()
    diet = next(c for c in chosen["pipeline"] if c["name"] == "DIETClassifier")
    tail = [c for c in chosen["pipeline"] if "Extractor" in c["name"]]
    default = {
        "recipe": "default.v1",
        "language": "vi",
        "pipeline": [
            {"name": "WhitespaceTokenizer"},
            {"name": "RegexFeaturizer"},
            {"name": "LexicalSyntacticFeaturizer"},
            {"name": "CountVectorsFeaturizer"},
            {
                "name": "CountVectorsFeaturizer",
                "analyzer": "char_wb",
                "min_ngram": 1,
                "max_ngram": 4,
            },
            {**diet},
            *tail,
            {"name": "EntitySynonymMapper"},
            {"name": "FallbackClassifier", "threshold": FALLBACK_THRESHOLD},
        ],
    }
    tok = "hue_rasa.tokenizer.VietnameseTokenizer"
    e5 = {"name": "hue_rasa.dense_featurizer.E5Featurizer"}
    return {
        "rasa_default": default,
        "pyvi_with_accents": _replace_tokenizer(
            chosen,
            {"name": tok, "segment": True, "strip_accents": False, "expand_abbreviations": False},
        ),
        "syllables_stripped": _replace_tokenizer(
            chosen,
            {"name": tok, "segment": False, "strip_accents": True, "expand_abbreviations": True},
        ),
        "chosen": chosen,
        "dense_e5": _before_diet(chosen, e5),
        # e5 sentence vectors instead of the count vectors; the lexical-syntactic features
        # stay, as the token-level features the entity tagger needs.
        "dense_e5_only": _before_diet(
            {
                **chosen,
                "pipeline": [
                    c for c in chosen["pipeline"] if c["name"] != "CountVectorsFeaturizer"
                ],
            },
            e5,
        ),
    }


def _before_diet(config: dict, component: dict) -> dict:
    config = copy.deepcopy(config)
    at = next(i for i, c in enumerate(config["pipeline"]) if c["name"] == "DIETClassifier")
    config["pipeline"].insert(at, dict(component))
    return config


def load_tests(
    files: dict[str, str], training_texts: set[str]
) -> tuple[dict[str, list[TestItem]], int]:
    subsets: dict[str, list[TestItem]] = {}
    overlap = 0
    for subset, path in files.items():
        examples = []
        for message in load_data(str(ROOT / path)).intent_examples:
            if fold(message.get("text")).strip() in training_texts:
                overlap += 1
                continue
            intent = message.get("intent")
            examples.append(
                TestItem(
                    text=message.get("text"),
                    gold=intent,
                    fits=lambda predicted, gold=intent: predicted == gold,
                    out_of_scope=intent == "out_of_scope",
                    entities=tuple(message.get("entities") or ()),
                )
            )
        subsets[subset] = examples
    return subsets, overlap


def with_seed(config: dict, seed: int) -> dict:
    config = copy.deepcopy(config)
    config.pop("policies", None)
    for component in config["pipeline"]:
        if component["name"] == "DIETClassifier":
            component["random_seed"] = seed
    return config


def span_key(entity: dict) -> tuple:
    return (entity["entity"], entity["start"], entity["end"])


def fallback_threshold(config: dict) -> float:
    """The FallbackClassifier threshold of a pipeline: below it, the assistant asks back."""
    for component in config["pipeline"]:
        if component["name"] == "FallbackClassifier":
            return float(component.get("threshold", FALLBACK_THRESHOLD))
    return FALLBACK_THRESHOLD


async def evaluate(
    model_path: str,
    subsets: dict[str, list[TestItem]],
    threshold: float = FALLBACK_THRESHOLD,
    *,
    show_errors: bool = False,
    secret: frozenset[str] = frozenset(),
) -> dict:
    """Scores a model on every subset. For a ``secret`` subset only counts are kept: its
    texts are never printed, and no confusion or leak target is recorded for it."""
    agent = Agent.load(model_path)
    result: dict = {
        "subsets": {},
        "oos_leaks": 0,
        "oos_leaks_into": {},
        "oos_total": 0,
        "in_scope_fallbacks": 0,
        "in_scope_total": 0,
        "threshold": threshold,
        "entities": {},
        "confusions": {},
    }
    latencies = []
    for subset, examples in subsets.items():
        hidden = subset in secret
        show = show_errors and not hidden
        counts = dict.fromkeys(
            ("correct", "correct_acting", "oos_leaks", "oos_total", "fallbacks", "in_scope_total"),
            0,
        )
        for item in examples:
            started = time.perf_counter()
            parsed = await agent.parse_message(item.text)
            latencies.append(time.perf_counter() - started)
            predicted = parsed["intent"]["name"]
            confidence = parsed["intent"]["confidence"]
            if predicted == "nlu_fallback":
                ranking = parsed.get("intent_ranking") or []
                top = next((r for r in ranking if r["name"] != "nlu_fallback"), None)
                predicted_top = top["name"] if top else None
            else:
                predicted_top = predicted
            right = item.fits(predicted_top)
            counts["correct"] += right
            counts["correct_acting"] += item.fits(predicted)
            if not right and not hidden:
                key = f"{item.gold} → {predicted_top}"
                result["confusions"][key] = result["confusions"].get(key, 0) + 1
            if item.out_of_scope:
                counts["oos_total"] += 1
                if predicted not in {"out_of_scope", "nlu_fallback"} and confidence >= threshold:
                    counts["oos_leaks"] += 1
                    if not hidden:
                        into = result["oos_leaks_into"]
                        into[predicted] = into.get(predicted, 0) + 1
                    if show:
                        print(f"   leak: {item.text!r} → {predicted} {confidence:.2f}")
            else:
                # An in-scope message the assistant would not act on but ask back about.
                counts["in_scope_total"] += 1
                counts["fallbacks"] += predicted == "nlu_fallback"
                if show and predicted == "nlu_fallback":
                    print(f"   asks back: {item.text!r} ({item.gold}; top {predicted_top})")
            if show and not right and predicted != "nlu_fallback":
                print(f"   wrong: {item.text!r} {item.gold} → {predicted_top} {confidence:.2f}")
            if item.entities is None:  # a test set without entity annotations
                continue
            gold_spans = {span_key(e) for e in item.entities}
            found = {span_key(e) for e in parsed.get("entities") or []}
            for entity in {k[0] for k in gold_spans | found}:
                stats = result["entities"].setdefault(entity, {"tp": 0, "fp": 0, "fn": 0})
                g = {k for k in gold_spans if k[0] == entity}
                f = {k for k in found if k[0] == entity}
                stats["tp"] += len(g & f)
                stats["fp"] += len(f - g)
                stats["fn"] += len(g - f)
        counts["total"] = len(examples)
        result["subsets"][subset] = counts
        result["oos_leaks"] += counts["oos_leaks"]
        result["oos_total"] += counts["oos_total"]
        result["in_scope_fallbacks"] += counts["fallbacks"]
        result["in_scope_total"] += counts["in_scope_total"]
    result["parse_ms_p50"] = statistics.median(latencies) * 1000
    return result


def f1(stats: dict) -> float:
    tp, fp, fn = stats["tp"], stats["fp"], stats["fn"]
    return 2 * tp / (2 * tp + fp + fn) if tp else 0.0


def _summed(results: list[dict], key: str) -> dict[str, int]:
    """Counts per label over seeds (confusions, or the intents out-of-scope messages leak into)."""
    return {k: sum(r[key].get(k, 0) for r in results) for r in results for k in r[key]}


def _most_frequent(counts: dict[str, int]) -> list[tuple[str, int]]:
    return sorted(counts.items(), key=lambda kv: -kv[1])


def summarise(runs: dict[str, list[dict]]) -> dict:
    summary = {}
    for name, results in runs.items():

        def acc(subsets: list[str], r: dict) -> float:
            c = sum(r["subsets"][s]["correct"] for s in subsets)
            t = sum(r["subsets"][s]["total"] for s in subsets)
            return c / t

        names = list(results[0]["subsets"])
        overall = [acc(names, r) for r in results]
        entities = sorted({e for r in results for e in r["entities"]})
        summary[name] = {
            "overall_mean": statistics.mean(overall),
            "overall_sd": statistics.pstdev(overall),
            "subset_mean": {n: statistics.mean(acc([n], r) for r in results) for n in names},
            "oos_leaks": [r["oos_leaks"] for r in results],
            "oos_leaks_into": _summed(results, "oos_leaks_into"),
            "oos_total": results[0]["oos_total"],
            "threshold": results[0]["threshold"],
            "in_scope_fallback": statistics.mean(
                r["in_scope_fallbacks"] / r["in_scope_total"] for r in results
            ),
            "entity_f1": {
                e: statistics.mean(
                    f1(r["entities"].get(e, {"tp": 0, "fp": 0, "fn": 0})) for r in results
                )
                for e in entities
            },
            "train_s_mean": statistics.mean(r["train_s"] for r in results),
            "parse_ms_p50": statistics.mean(r["parse_ms_p50"] for r in results),
            "top_confusions": _most_frequent(_summed(results, "confusions"))[:8],
        }
    return summary


def write_report(
    summary: dict, seeds: list[int], overlap: int, sizes: dict[str, int], path: Path, test_set: str
) -> None:
    command = "make bench-nlu" + ("" if test_set == "heldout" else f" ARGS='--test-set {test_set}'")
    scored = " + ".join(f"{n} {name}" for name, n in sizes.items())
    where = "tests/nlu (held out)" if test_set == "heldout" else "bench/nlu_tuning (tuning)"
    lines = [
        "# NLU pipeline comparison" + ("" if test_set == "heldout" else f" on the {test_set} set"),
        "",
        f"Command: `{command}` (bench/nlu_pipelines.py). Seeds: {seeds}. Test set: "
        f"{where} ({scored} utterances scored; "
        f"{overlap} that also occur in the training data, after folding case and diacritics, left out). "
        "Same DIET budget for every variant (config.yml). Intent accuracy counts the top "
        "intent, also when the fallback fires. An out-of-scope leak is an out-of-scope utterance "
        "classified into an in-scope intent with confidence at or above the pipeline's "
        "fallback threshold; 'in-scope fallback' is the share of in-scope utterances on which "
        "the fallback fires (the assistant asks back instead of acting). Entity F1 is "
        "per exact span (not per token as `rasa test nlu` reports).",
        "",
        "| variant | intent acc. overall | ± sd | "
        + " | ".join(sizes)
        + " | fallback threshold | OOS leaks (per seed) | in-scope fallback | train s | parse ms p50 |",
        "|---|---|---|" + "---|" * len(sizes) + "---|---|---|---|---|",
    ]
    for name, s in summary.items():
        per_subset = " | ".join(f"{s['subset_mean'][n]:.1%}" for n in sizes)
        lines.append(
            f"| {name} | {s['overall_mean']:.1%} | {s['overall_sd']:.1%} | {per_subset} | "
            f"{s['threshold']} | {s['oos_leaks']} of {s['oos_total']} | "
            f"{s['in_scope_fallback']:.1%} | {s['train_s_mean']:.0f} | {s['parse_ms_p50']:.1f} |"
        )
    lines += [
        "",
        "Entity span F1 (mean over seeds):",
        "",
        "| variant | "
        + " | ".join(sorted({e for s in summary.values() for e in s["entity_f1"]}))
        + " |",
    ]
    entities = sorted({e for s in summary.values() for e in s["entity_f1"]})
    lines.append("|---" * (len(entities) + 1) + "|")
    for name, s in summary.items():
        lines.append(
            f"| {name} | " + " | ".join(f"{s['entity_f1'].get(e, 0):.2f}" for e in entities) + " |"
        )
    lines += ["", "Most frequent confusions (gold → predicted, summed over seeds):", ""]
    for name, s in summary.items():
        lines.append(f"- **{name}**: " + "; ".join(f"{k} ({v})" for k, v in s["top_confusions"]))
    lines += ["", "Out-of-scope leaks by the intent they were taken for (summed over seeds):", ""]
    for name, s in summary.items():
        into = _most_frequent(s["oos_leaks_into"])
        lines.append(f"- **{name}**: " + ("; ".join(f"{k} ({v})" for k, v in into) or "none"))
    lines += [
        "",
        "Variants: `rasa_default` = Rasa's default pipeline (whitespace tokens, word + char n-gram "
        "counts, DIET); `pyvi_with_accents` = pyvi words, features keep diacritics; "
        "`syllables_stripped` = no pyvi (syllables), features without diacritics and with "
        "abbreviations expanded; `chosen` = config.yml (pyvi words, features without diacritics, "
        "abbreviations expanded). All variants share the commune gazetteer and pattern extractors.",
    ]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")


def train_and_score(
    name: str, config: dict, seed: int, subsets: dict[str, list[TestItem]], tmp: str, **scoring
) -> dict:
    config_path = Path(tmp) / f"{name}-{seed}.yml"
    config_path.write_text(yaml.safe_dump(with_seed(config, seed)), encoding="utf-8")
    print(f"== {name} seed {seed}: training", flush=True)
    started = time.perf_counter()
    model = train_nlu(
        str(config_path), str(ROOT / "data" / "nlu"), tmp, fixed_model_name=f"{name}-{seed}"
    )
    train_s = time.perf_counter() - started
    result = asyncio.run(evaluate(model, subsets, fallback_threshold(config), **scoring))
    result["train_s"] = train_s
    accuracy = ", ".join(
        f"{subset} {c['correct'] / c['total']:.1%}" for subset, c in result["subsets"].items()
    )
    print(
        f"   accuracy {accuracy}; oos leaks {result['oos_leaks']}; trained in {train_s:.0f}s",
        flush=True,
    )
    return result


def git_commit() -> str:
    def git(*args: str) -> str:
        return subprocess.run(
            ["git", *args], cwd=ROOT, capture_output=True, text=True, check=False
        ).stdout.strip()

    commit = git("rev-parse", "--short=12", "HEAD") or "unknown"
    return (
        f"{commit}+uncommitted" if git("status", "--porcelain", "--untracked-files=no") else commit
    )


def run_blind(args: argparse.Namespace, training_texts: set[str]) -> int:
    """The blind benchmark's single messages: tuning and held-out, with the linear floor."""
    subsets = {p: items for p, items in load_blind().items() if p in args.parts}
    seeds = list(range(1, args.seeds + 1))
    meta = {
        "command": 'make bench-nlu ARGS="' + " ".join(sys.argv[1:]) + '"',
        "date": datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
        "commit": git_commit(),
        "seeds": seeds,
        "messages": {p: len(items) for p, items in subsets.items()},
        # Messages whose folded text is also a training example (counted, not left out:
        # the conversation benchmark scores them all).
        "also_in_training": {
            p: sum(fold(i.text).strip() in training_texts for i in items)
            for p, items in subsets.items()
        },
    }
    print(f"blind messages: {meta['messages']}; also in training: {meta['also_in_training']}")
    summary: dict = {}
    linear: dict = {}
    for kind in args.linear:
        print(f"== {kind}: one fit (C by 5-fold cross-validation on data/nlu)", flush=True)
        result = score_linear(subsets, kind)
        linear.update(summarise_blind({kind: [result]}, []))
        linear[kind]["C"] = result["C"]
        for part in subsets:
            print(f"   {part} {linear[kind][part]['intent_accuracy_mean']:.1%}", flush=True)
            if part in SECRET_PARTS:
                log_heldout_run(kind, meta["commit"], 1, len(subsets[part]))
    all_variants = variants()
    runs: dict[str, list[dict]] = {}
    # Only a run of both parts is the docs run; a tuning-only run writes under results/.
    both = set(subsets) == {"tuning", "heldout"}
    out = Path(args.out or ROOT / "results" / ("nlu_blind.md" if both else "nlu_blind_tuning.md"))
    figures = ROOT / "docs" / "benchmarks" / "nlu.json" if both else out.with_suffix(".json")
    with tempfile.TemporaryDirectory() as tmp:
        for name in args.variants or ["rasa_default", "chosen", "dense_e5"]:
            for seed in seeds:
                result = train_and_score(
                    name, all_variants[name], seed, subsets, tmp,
                    show_errors=True, secret=SECRET_PARTS,
                )  # fmt: skip
                runs.setdefault(name, []).append(result)
            for part in SECRET_PARTS & set(subsets):
                log_heldout_run(name, meta["commit"], len(seeds), len(subsets[part]))
            # Written after every variant, so an interrupted run still leaves its figures.
            summary = {**linear, **summarise_blind(runs, seeds)}
            figures.write_text(
                json.dumps({**meta, "variants": summary}, ensure_ascii=False, indent=1) + "\n",
                encoding="utf-8",
            )
            out.parent.mkdir(exist_ok=True)
            out.write_text(render_blind(summary, meta), encoding="utf-8")
    print(out.read_text(encoding="utf-8"))
    return 0


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--seeds", type=int, default=3)
    parser.add_argument("--variants", nargs="*", default=None)
    parser.add_argument("--out", default=None)
    parser.add_argument(
        "--config", default=None, help="the 'chosen' pipeline file (to try a candidate)"
    )
    parser.add_argument(
        "--test-set",
        choices=[*TEST_SETS, "blind"],
        default="heldout",
        help="tuning: bench/nlu_tuning, with the misclassified texts printed; blind: the "
        "blind benchmark's single messages (tuning and held-out parts, floor included)",
    )
    parser.add_argument(
        "--parts",
        nargs="+",
        choices=["tuning", "heldout"],
        default=["tuning", "heldout"],
        help="blind: the parts to score (tuning only: nothing is logged as a held-out run)",
    )
    parser.add_argument(
        "--linear",
        nargs="*",
        choices=LINEAR,
        default=["linear_floor"],
        help="blind: linear baselines to score beside the pipelines (none: --linear)",
    )
    args = parser.parse_args()
    global CONFIG
    if args.config:
        CONFIG = Path(args.config)
    nlu = load_data(str(ROOT / "data" / "nlu"))
    training_texts = {fold(m.get("text")).strip() for m in nlu.intent_examples}
    if args.test_set == "blind":
        return run_blind(args, training_texts)
    # Only the tuning set's mistakes are printed, never the held-out set's.
    show_errors = args.test_set == "tuning"
    if args.out is None:
        name = "nlu.md" if args.test_set == "heldout" else f"nlu-{args.test_set}.md"
        args.out = str(ROOT / "docs" / "benchmarks" / name)
    seeds = list(range(1, args.seeds + 1))
    subsets, overlap = load_tests(TEST_SETS[args.test_set], training_texts)
    all_variants = variants()
    chosen_names = args.variants or list(all_variants)
    runs: dict[str, list[dict]] = {}
    with tempfile.TemporaryDirectory() as tmp:
        for name in chosen_names:
            for seed in seeds:
                result = train_and_score(
                    name, all_variants[name], seed, subsets, tmp, show_errors=show_errors
                )
                runs.setdefault(name, []).append(result)
            # Written after every variant, so an interrupted run still leaves its figures.
            summary = summarise(runs)
            (ROOT / "results").mkdir(exist_ok=True)
            (ROOT / "results" / f"nlu_bench_{args.test_set}.json").write_text(
                json.dumps({"runs": runs, "summary": summary}, ensure_ascii=False, indent=1)
            )
            write_report(
                summary,
                seeds,
                overlap,
                {k: len(v) for k, v in subsets.items()},
                Path(args.out),
                args.test_set,
            )
    print(Path(args.out).read_text())
    return 0


if __name__ == "__main__":
    sys.exit(main())
