"""The intent classifier component: scaled features, persistence, loud load failure.

Driven in the Rasa env with hand-made features, so each check isolates one
behaviour of ``bot.nlu.linear_intent_classifier`` rather than the whole pipeline.
"""

from __future__ import annotations

import json

import pytest

from tests.bot.conftest import run_in_rasa_env

SCRIPT = """
import json, pathlib, tempfile
import numpy as np
import scipy.sparse as sp
from rasa.engine.graph import ExecutionContext, GraphSchema
from rasa.engine.storage.local_model_storage import LocalModelStorage
from rasa.engine.storage.resource import Resource
from rasa.shared.nlu.training_data.features import Features
from rasa.shared.nlu.training_data.message import Message
from rasa.shared.nlu.training_data.training_data import TrainingData
from bot.nlu.linear_intent_classifier import LinearIntentClassifier

rng = np.random.default_rng(0)

def message(intent, sparse_row, dense_row):
    m = Message(data={"text": "x", "intent": intent} if intent else {"text": "x"})
    m.add_features(Features(sp.coo_matrix(np.asarray([sparse_row], float)),
                            "sentence", "text", "counts"))
    if dense_row is not None:
        m.add_features(Features(np.asarray([dense_row], float), "sentence", "text", "e5"))
    return m

# Two intents: the sparse counts say nothing (same tokens, one message repeats them
# ten times), the dense feature separates them.
def example(intent, repeat):
    direction = np.array([1.0, 0.0]) if intent == "a" else np.array([0.0, 1.0])
    dense = direction + rng.normal(0, 0.1, 2)
    return message(intent, [repeat, repeat, 0.0], dense / np.linalg.norm(dense))

train = [example("a", 1) for _ in range(20)] + [example("b", 10) for _ in range(20)]
storage = LocalModelStorage(pathlib.Path(tempfile.mkdtemp()))
resource = Resource("intents")
context = ExecutionContext(GraphSchema({}), "intents")
config = {**LinearIntentClassifier.get_default_config(), "C": 5.0}
clf = LinearIntentClassifier.create(config, storage, resource, context)
clf.train(TrainingData(train))

probe = [message(None, [10, 10, 0], [1.0, 0.0]), message(None, [1, 1, 0], [0.0, 1.0])]
clf.process(probe)
loaded = LinearIntentClassifier.load(config, storage, resource, context)
again = [message(None, [10, 10, 0], [1.0, 0.0]), message(None, [1, 1, 0], [0.0, 1.0])]
loaded.process(again)

out = {
    "C": clf.clf.C,
    "intents": [m.get("intent")["name"] for m in probe],
    "confidence": [m.get("intent")["confidence"] for m in probe],
    "ranking": [r["name"] for r in probe[0].get("intent_ranking")],
    "reloaded": [m.get("intent")["name"] for m in again],
    "reloaded_confidence": [m.get("intent")["confidence"] for m in again],
}
try:
    LinearIntentClassifier.load(config, storage, Resource("never-trained"), context)
    out["missing"] = "loaded"
except Exception as error:
    out["missing"] = type(error).__name__
try:
    LinearIntentClassifier.validate_config({"C": 0})
    out["bad_config"] = None
except ValueError as error:
    out["bad_config"] = str(error)
print(json.dumps(out, ensure_ascii=False))
"""


@pytest.fixture(scope="module")
def result() -> dict:
    return json.loads(run_in_rasa_env(SCRIPT))


def test_dense_meaning_decides_when_counts_only_differ_in_length(result: dict) -> None:
    """Log-damped, length-normalised counts: repeating words is not a signal."""
    assert result["intents"] == ["a", "b"]
    assert all(c > 0.8 for c in result["confidence"])
    assert sorted(result["ranking"]) == ["a", "b"]


def test_configured_regularisation_is_used(result: dict) -> None:
    assert result["C"] == 5.0


def test_trained_model_survives_persist_and_load(result: dict) -> None:
    assert result["reloaded"] == result["intents"]
    assert result["reloaded_confidence"] == pytest.approx(result["confidence"])


def test_missing_model_fails_at_load_not_at_the_first_message(result: dict) -> None:
    assert result["missing"] != "loaded"


def test_bad_config_is_rejected_in_chinese(result: dict) -> None:
    assert result["bad_config"] and "必须是正数" in result["bad_config"]
