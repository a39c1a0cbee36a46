"""What the project's trainable components share: a fitted model kept as one file, and the
model both of them fit (a logistic regression on n-grams of the folded text).

Rasa gives each component a resource in the model storage; a component that fits a
scikit-learn model (the out-of-scope gate, the linear intent mixer) writes it there after
training and reads it back when the model is loaded. A model that cannot be read (a resource
from a model trained without it) loads as none, and the component then changes nothing.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Dict, Optional

import joblib
from rasa.engine.graph import ExecutionContext, GraphComponent
from rasa.engine.storage.resource import Resource
from rasa.engine.storage.storage import ModelStorage
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import Pipeline, make_pipeline, make_union


class StoredModelComponent(GraphComponent):
    """A component whose fitted model is ``MODEL_FILE`` in its resource (joblib)."""

    MODEL_FILE = "model.joblib"

    def __init__(
        self,
        config: Dict[str, Any],
        model_storage: ModelStorage,
        resource: Resource,
        model: Optional[Any] = None,
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
    ) -> StoredModelComponent:
        return cls(config, model_storage, resource)

    @classmethod
    def load(
        cls,
        config: Dict[str, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
        **kwargs: Any,
    ) -> StoredModelComponent:
        try:
            with model_storage.read_from(resource) as path:
                model = joblib.load(Path(path) / cls.MODEL_FILE)
        except (ValueError, FileNotFoundError):
            model = None
        return cls(config, model_storage, resource, model)

    def persist(self) -> Resource:
        """Writes the fitted model to the component's resource."""
        with self._model_storage.write_to(self._resource) as path:
            joblib.dump(self.model, Path(path) / self.MODEL_FILE)
        return self._resource


def ngram_classifier(C: float, max_iter: int) -> Pipeline:
    """A logistic regression on TF-IDF of character 2–5-grams (within words) and of word 1–2-
    grams, for texts already folded (vitext.fold): what the out-of-scope gate and the linear
    intent mixer fit."""
    return make_pipeline(
        make_union(
            TfidfVectorizer(analyzer="char_wb", ngram_range=(2, 5), sublinear_tf=True),
            TfidfVectorizer(ngram_range=(1, 2), sublinear_tf=True),
        ),
        LogisticRegression(C=C, max_iter=max_iter),
    )
