"""Colloquial → formal query expansion for the lexical (BM25) side.

Why only BM25: citizens say 个体户变成公司 where the law says 个体工商户转型为企业.
Dense vectors bridge such paraphrases on their own, but BM25 scores nothing for
words the document never uses; adding the formal terms lets both sides vote.
The table lives in retrieval/synonyms.yml so staff can extend it.
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

import yaml

from knowledge.normalize import normalize_text
from retrieval.tokenizer import tokenize

SYNONYMS_PATH = Path(__file__).resolve().parent / "synonyms.yml"


@lru_cache(maxsize=1)
def load_synonyms(path: Path = SYNONYMS_PATH) -> dict[str, tuple[str, ...]]:
    data = yaml.safe_load(path.read_text("utf-8")) or {}
    table: dict[str, tuple[str, ...]] = {}
    for key, terms in data.items():
        if not isinstance(terms, list) or not all(isinstance(t, str) for t in terms):
            raise ValueError(f"{path.name}：“{key}”的值必须是词语列表。")
        expanded = [tok for t in terms for tok in tokenize(normalize_text(t))]
        table[normalize_text(str(key))] = tuple(dict.fromkeys(expanded))
    return table


def expand_query(tokens: list[str], synonyms: dict[str, tuple[str, ...]], text: str) -> list[str]:
    """``tokens`` plus the formal terms of every synonym key found in ``text``."""
    extra = [t for key, terms in synonyms.items() if key in text for t in terms]
    return tokens + [t for t in dict.fromkeys(extra) if t not in tokens]
