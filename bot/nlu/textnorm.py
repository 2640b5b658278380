"""Offset-preserving text normalisation for the NLU tokenizer.

Why same-length: Rasa locates entities by character offsets into the original
message. Converting character by character (NFKC, then OpenCC traditional →
simplified) and keeping any character whose conversion would change the length
lets tokens carry the canonical text while every offset stays valid. 點樣 → 点样,
妳好 → 你好 and full-width １３９ → 139 then meet the features learned from the
training data, which is written mostly in simplified characters.
"""

from __future__ import annotations

import unicodedata
from functools import lru_cache

from opencc import OpenCC


@lru_cache(maxsize=1)
def _converter() -> OpenCC:
    return OpenCC("t2s")


# Variant forms OpenCC keeps because they are valid simplified characters.
VARIANTS = {"妳": "你", "祢": "你"}


@lru_cache(maxsize=8192)
def _char(ch: str) -> str:
    if ch in VARIANTS:
        return VARIANTS[ch]
    folded = unicodedata.normalize("NFKC", ch)
    if len(folded) != 1:
        folded = ch
    simplified = _converter().convert(folded)
    return simplified if len(simplified) == 1 else folded


def normalize_same_length(text: str) -> str:
    """Canonical form of ``text`` with exactly one output character per input character."""
    return "".join(_char(ch) for ch in text)
