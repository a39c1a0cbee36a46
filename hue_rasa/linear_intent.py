"""A second intent classifier beside DIET: a linear model that knows the catalogue's words.

DIET learns the procedure questions from data/nlu alone, which names a few hundred of the
catalogue's 2,642 procedures; a question about one it never saw ("chuyển nơi nhận lương hưu",
"trợ giúp pháp lý", "thẻ tạm trú cho chồng người Mỹ") is often taken for out of scope with
high confidence. This component is a logistic regression on word 1–2-grams and character
2–5-grams of the accent-folded text (TF-IDF), trained on the intent examples of data/nlu
**and** on the catalogue's own words — every official procedure name and every everyday
alias of data/catalog — as examples of ``ask_procedure``. Its probabilities are mixed into
the ranking DIET and the out-of-scope gate (hue_rasa/oos_gate.py) made, so it comes after
the gate: each intent gets ``(1 − w) · ranking + w · linear``.

Chosen on the blind benchmark's tuning part (1,004 single messages of 12 writers; offline,
with the ranking of the model of commit d0c939f): intent accuracy 93.7 % DIET alone, 94.8 %
mixed with the linear model on data/nlu only, 95.7 % with the catalogue's words (w = 0.6;
0.5 gave 94.9 %, the linear model alone 95.9 % but two more out-of-scope messages taken for
in scope). The figures of the whole assistant are in docs/benchmarks/conversations.md.

The catalogue files are read at training time from the paths in the configuration (relative
to the project root, where ``rasa train`` runs); their content is part of the component's
fingerprint, so a changed catalogue retrains it.
"""

from __future__ import annotations

import gzip
import hashlib
import json
import re
from pathlib import Path
from typing import Any, Dict, List, Optional

import yaml
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.resource import Resource
from rasa.nlu.classifiers.classifier import IntentClassifier
from rasa.shared.nlu.constants import INTENT, INTENT_RANKING_KEY, TEXT
from rasa.shared.nlu.training_data.message import Message
from rasa.shared.nlu.training_data.training_data import TrainingData

from hue_rasa.stored import StoredModelComponent, ngram_classifier
from vitext import fold

# "Thủ tục đăng ký kết hôn": the catalogue's prefix says nothing a citizen types.
_PREFIX = re.compile(r"^thủ tục(?: hành chính)?\s+", re.IGNORECASE)


def catalogue_phrases(procedures: Path, aliases: Path) -> List[str]:
    """The catalogue's words: each official name (its "Thủ tục" prefix dropped) and each
    everyday alias, in the files' order."""
    phrases: List[str] = []
    if procedures.exists():
        with gzip.open(procedures, "rt", encoding="utf-8") as lines:
            for line in lines:
                if line.strip():
                    name = str(json.loads(line).get("ten_thu_tuc") or "").strip()
                    if name:
                        phrases.append(_PREFIX.sub("", name))
    if aliases.exists():
        entries = (yaml.safe_load(aliases.read_text(encoding="utf-8")) or {}).get("aliases")
        for entry in entries or []:
            phrases.extend(str(p) for p in entry.get("say") or [])
    return phrases


@DefaultV1Recipe.register(DefaultV1Recipe.ComponentType.INTENT_CLASSIFIER, is_trainable=True)
class LinearIntentMixer(StoredModelComponent, IntentClassifier):
    MODEL_FILE = "linear_intent.joblib"

    @staticmethod
    def get_default_config() -> Dict[str, Any]:
        return {
            "weight": 0.6,
            "C": 30.0,
            "catalogue_intent": "ask_procedure",
            "procedures": "data/catalog/procedures.jsonl.gz",
            "aliases": "data/catalog/procedure_aliases.yml",
            "ranking_length": 10,
        }

    @classmethod
    def fingerprint_addon(cls, config: Dict[str, Any]) -> Optional[str]:
        """The catalogue files' content: the model must change when they do."""
        config = {**cls.get_default_config(), **config}
        digest = hashlib.sha256()
        for key in ("procedures", "aliases"):
            path = Path(config[key])
            digest.update(path.read_bytes() if path.exists() else b"-")
        return digest.hexdigest()

    def train(self, training_data: TrainingData) -> Resource:
        examples = training_data.intent_examples
        texts = [m.get(TEXT) or "" for m in examples]
        intents = [str(m.get(INTENT)) for m in examples]
        if self._config["catalogue_intent"] in intents:
            extra = catalogue_phrases(
                Path(self._config["procedures"]), Path(self._config["aliases"])
            )
            texts += extra
            intents += [self._config["catalogue_intent"]] * len(extra)
        if len(set(intents)) < 2:
            self.model = None
            return self._resource
        self.model = ngram_classifier(self._config["C"], max_iter=5000)
        self.model.fit([fold(t) for t in texts], intents)
        return self.persist()

    def probabilities(self, texts: List[str]) -> List[Dict[str, float]]:
        """The linear model's probability of each intent, for each text."""
        if self.model is None:
            return [{} for _ in texts]
        classes = [str(c) for c in self.model.classes_]
        rows = self.model.predict_proba([fold(t) for t in texts])
        return [dict(zip(classes, (float(p) for p in row), strict=True)) for row in rows]

    def process(self, messages: List[Message]) -> List[Message]:
        if self.model is None:
            return messages
        weight = float(self._config["weight"])
        linear = self.probabilities([m.get(TEXT) or "" for m in messages])
        for message, probabilities in zip(messages, linear, strict=True):
            ranking = message.get(INTENT_RANKING_KEY) or []
            if not ranking:
                continue
            diet = {r["name"]: float(r["confidence"]) for r in ranking}
            mixed = [
                {"name": name, "confidence": (1.0 - weight) * diet.get(name, 0.0) + weight * p}
                for name, p in {**dict.fromkeys(diet, 0.0), **probabilities}.items()
            ]
            mixed.sort(key=lambda r: -r["confidence"])
            mixed = mixed[: int(self._config["ranking_length"])]
            message.set(INTENT, mixed[0], add_to_output=True)
            message.set(INTENT_RANKING_KEY, mixed, add_to_output=True)
        return messages
