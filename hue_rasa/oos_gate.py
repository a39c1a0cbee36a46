"""A second opinion on out-of-scope messages, after DIET.

DIET takes some out-of-scope messages for an in-scope intent with high confidence when they
are asked like a procedure question ("kho cá bao lâu thì chín" → ask_procedure_time 1.00),
so the fallback threshold cannot catch them. This component is a binary linear model —
in scope or not — on character and word n-grams of the accent-folded text (TF-IDF, logistic
regression), trained on the same NLU data. Its classes are not re-weighted: the mixing below
needs a probability, and balancing the classes raised it for in-scope messages (three in-scope
tuning messages answered as out of scope instead of one).

Its probability ``p`` that a message is out of scope is mixed into DIET's ranking: an
in-scope intent keeps DIET's confidence times ``1 − p`` (in scope, and then this intent),
and out_of_scope gets the rest (``c + p·(1 − c)`` for DIET's own out-of-scope confidence
``c``). When the gate is sure (p above the fallback threshold) the message is answered as out
of scope; when it is half sure, the in-scope intent falls below the threshold and the
assistant asks back with its top guesses instead of acting on a guess.

Chosen on the tuning set (bench/nlu_tuning; make bench-nlu ARGS="--test-set tuning"); the
figures and the held-out measurement are in docs/benchmarks/nlu.md.
"""

from __future__ import annotations

from typing import Any, Dict, List, Optional

import joblib
from rasa.engine.graph import ExecutionContext, GraphComponent
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.resource import Resource
from rasa.engine.storage.storage import ModelStorage
from rasa.nlu.classifiers.classifier import IntentClassifier
from rasa.shared.nlu.constants import INTENT, INTENT_RANKING_KEY, TEXT
from rasa.shared.nlu.training_data.message import Message
from rasa.shared.nlu.training_data.training_data import TrainingData
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import Pipeline, make_pipeline, make_union

from vitext import fold

MODEL_FILE = "out_of_scope_gate.joblib"


@DefaultV1Recipe.register(DefaultV1Recipe.ComponentType.INTENT_CLASSIFIER, is_trainable=True)
class OutOfScopeGate(GraphComponent, IntentClassifier):
    @staticmethod
    def get_default_config() -> Dict[str, Any]:
        return {"intent": "out_of_scope", "C": 16.0}

    def __init__(
        self,
        config: Dict[str, Any],
        model_storage: ModelStorage,
        resource: Resource,
        model: Optional[Pipeline] = None,
    ) -> None:
        self._config = {**self.get_default_config(), **config}
        self._model_storage = model_storage
        self._resource = resource
        self.model = model

    @classmethod
    def create(
        cls,
        config: Dict[str, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
    ) -> OutOfScopeGate:
        return cls(config, model_storage, resource)

    def train(self, training_data: TrainingData) -> Resource:
        examples = training_data.intent_examples
        labels = [m.get(INTENT) == self._config["intent"] for m in examples]
        if len(set(labels)) < 2:  # no out-of-scope examples (or nothing else): no gate
            self.model = None
            return self._resource
        self.model = make_pipeline(
            make_union(
                TfidfVectorizer(analyzer="char_wb", ngram_range=(2, 5), sublinear_tf=True),
                TfidfVectorizer(ngram_range=(1, 2), sublinear_tf=True),
            ),
            LogisticRegression(C=self._config["C"], max_iter=2000),
        )
        self.model.fit([fold(m.get(TEXT) or "") for m in examples], labels)
        with self._model_storage.write_to(self._resource) as path:
            joblib.dump(self.model, path / MODEL_FILE)
        return self._resource

    @classmethod
    def load(
        cls,
        config: Dict[str, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
        **kwargs: Any,
    ) -> OutOfScopeGate:
        try:
            with model_storage.read_from(resource) as path:
                model = joblib.load(path / MODEL_FILE)
        except (ValueError, FileNotFoundError):
            model = None
        return cls(config, model_storage, resource, model)

    def out_of_scope_probability(self, texts: List[str]) -> List[float]:
        if self.model is None:
            return [0.0] * len(texts)
        return [float(p) for p in self.model.predict_proba([fold(t) for t in texts])[:, 1]]

    def process(self, messages: List[Message]) -> List[Message]:
        if self.model is None:
            return messages
        oos = self._config["intent"]
        probabilities = self.out_of_scope_probability([m.get(TEXT) or "" for m in messages])
        for message, probability in zip(messages, probabilities, strict=True):
            ranking = message.get(INTENT_RANKING_KEY) or []
            if not ranking:
                continue
            diet_oos = next((r["confidence"] for r in ranking if r["name"] == oos), 0.0)
            mixed = [
                {"name": r["name"], "confidence": r["confidence"] * (1.0 - probability)}
                for r in ranking
                if r["name"] != oos
            ]
            mixed.append({"name": oos, "confidence": diet_oos + probability * (1.0 - diet_oos)})
            mixed.sort(key=lambda r: -r["confidence"])
            message.set(INTENT, mixed[0], add_to_output=True)
            message.set(INTENT_RANKING_KEY, mixed, add_to_output=True)
        return messages
