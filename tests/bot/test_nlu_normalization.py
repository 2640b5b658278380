"""The NLU tokenizer sees simplified, NFKC-folded text, with offsets into the original."""

from __future__ import annotations

import json

import pytest

from bot.nlu.textnorm import normalize_same_length
from tests.bot.conftest import run_in_rasa_env


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("點樣申請個轉企嘅補貼", "点样申请个转企嘅补贴"),
        ("妳好", "你好"),
        ("１３９１２３４５６７８", "13912345678"),
        ("我要投訴（好又多）", "我要投诉(好又多)"),
        ("㎡", "㎡"),  # NFKC would make two characters: kept as is
    ],
)
def test_normalisation_keeps_one_character_per_character(raw: str, expected: str) -> None:
    assert normalize_same_length(raw) == expected
    assert len(normalize_same_length(raw)) == len(raw)


def test_rasa_tokens_are_simplified_and_offsets_point_into_the_original() -> None:
    script = """
import json, sys
from rasa.engine.storage.local_model_storage import LocalModelStorage
from rasa.engine.storage.resource import Resource
from rasa.engine.graph import ExecutionContext, GraphSchema
from rasa.shared.nlu.training_data.message import Message
from bot.nlu.normalizing_tokenizer import NormalizingJiebaTokenizer
import tempfile, pathlib
storage = LocalModelStorage(pathlib.Path(tempfile.mkdtemp()))
tok = NormalizingJiebaTokenizer.create(
    {**NormalizingJiebaTokenizer.get_default_config(), "dictionary_path": "retrieval/jieba_dict"},
    storage, Resource("tok"), ExecutionContext(GraphSchema({}), "x"))
text = sys.argv[1]
tokens = tok.tokenize(Message(data={"text": text}), "text")
print(json.dumps([[t.text, t.start, t.end] for t in tokens], ensure_ascii=False))
"""
    raw = "點樣投訴個體工商戶"
    tokens = json.loads(run_in_rasa_env(script, raw))
    assert [t[0] for t in tokens] == ["点样", "投诉", "个体工商户"]  # dictionary word kept whole
    for text, start, end in tokens:
        assert normalize_same_length(raw[start:end]) == text
