"""The linear floor of the conversation benchmark: the intent any chosen pipeline must beat.

    .venv-engine/bin/python bench/linear_floor.py < {"texts": [...]}  → {"intents": [...]}

A logistic regression on TF-IDF of accent-folded (vitext.fold) character 2–5-grams, trained
on the project's own data/nlu (read with Rasa's loader, so entity annotations are stripped as
Rasa strips them). Its one knob, C, is chosen by 5-fold cross-validation on data/nlu itself —
never on the messages it is asked about. Deterministic: one fit, no seeds. Reads the texts on
stdin and writes only the intents on stdout (no text is printed or stored).
"""

from __future__ import annotations

import json
import logging
import os
import sys
import warnings
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
logging.disable(logging.WARNING)
warnings.filterwarnings("ignore")

from rasa.shared.nlu.training_data.loading import load_data  # noqa: E402
from sklearn.feature_extraction.text import TfidfVectorizer  # noqa: E402
from sklearn.linear_model import LogisticRegression  # noqa: E402
from sklearn.model_selection import GridSearchCV, StratifiedKFold  # noqa: E402
from sklearn.pipeline import Pipeline  # noqa: E402

from vitext import fold  # noqa: E402

C_GRID = [1.0, 10.0, 100.0, 1000.0]


def training_examples(folder: Path = ROOT / "data" / "nlu") -> tuple[list[str], list[str]]:
    texts, intents = [], []
    for message in load_data(str(folder)).intent_examples:
        texts.append(message.get("text"))
        intents.append(message.get("intent"))
    return texts, intents


def fit(texts: list[str], intents: list[str]) -> Pipeline:
    pipeline = Pipeline(
        [
            (
                "ngrams",
                TfidfVectorizer(
                    preprocessor=fold, analyzer="char_wb", ngram_range=(2, 5), sublinear_tf=True
                ),
            ),
            ("classifier", LogisticRegression(max_iter=5000)),
        ]
    )
    folds = StratifiedKFold(n_splits=5, shuffle=True, random_state=0)
    search = GridSearchCV(pipeline, {"classifier__C": C_GRID}, cv=folds, n_jobs=1)
    search.fit(texts, intents)
    best: Pipeline = search.best_estimator_
    return best


def main() -> int:
    texts = json.load(sys.stdin)["texts"]
    model = fit(*training_examples())
    intents = [str(i) for i in model.predict(texts)] if texts else []
    json.dump(
        {"intents": intents, "C": model.named_steps["classifier"].C},
        sys.stdout,
        ensure_ascii=False,
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
