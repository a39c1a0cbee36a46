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

from typing import Any, Dict, List

from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.resource import Resource
from rasa.nlu.classifiers.classifier import IntentClassifier
from rasa.shared.nlu.constants import INTENT, INTENT_RANKING_KEY, TEXT
from rasa.shared.nlu.training_data.message import Message
from rasa.shared.nlu.training_data.training_data import TrainingData

from hue_rasa.stored import StoredModelComponent, ngram_classifier
from vitext import fold


@DefaultV1Recipe.register(DefaultV1Recipe.ComponentType.INTENT_CLASSIFIER, is_trainable=True)
class OutOfScopeGate(StoredModelComponent, IntentClassifier):
    MODEL_FILE = "out_of_scope_gate.joblib"

    @staticmethod
    def get_default_config() -> Dict[str, Any]:
        return {"intent": "out_of_scope", "C": 16.0}

    def train(self, training_data: TrainingData) -> Resource:
        examples = training_data.intent_examples
        labels = [m.get(INTENT) == self._config["intent"] for m in examples]
        if len(set(labels)) < 2:  # no out-of-scope examples (or nothing else): no gate
            self.model = None
            return self._resource
        self.model = ngram_classifier(self._config["C"], max_iter=2000)
        self.model.fit([fold(m.get(TEXT) or "") for m in examples], labels)
        return self.persist()

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
