"""Offset-preserving text normalisation for the NLU tokenizer.

Why same-length: Rasa locates entities by character offsets into the original
message. Converting character by character (NFKC, then OpenCC traditional →
simplified) and keeping any character whose conversion would change the length
lets tokens carry the canonical text while every offset stays valid. 點樣 → 点样,
妳好 → 你好 and full-width １３９ → 139 then meet the features learned from the
training data, which is written mostly in simplified characters.

The converter is the project's one (``knowledge.normalize.t2s_converter``); the Rasa
environment imports ``knowledge.normalize`` as it is (stdlib plus OpenCC, pinned in both
environments). Converting one character at a time never meets OpenCC's phrase table,
so simplified text (破坏土地) comes out unchanged, as in ``normalize_text``.
"""

from __future__ import annotations

import unicodedata
from functools import lru_cache

from knowledge.normalize import t2s_converter

# Variant forms OpenCC keeps because they are valid simplified characters.
VARIANTS = {"妳": "你", "祢": "你"}


@lru_cache(maxsize=8192)
def _char(ch: str) -> str:
    if ch in VARIANTS:
        return VARIANTS[ch]
    folded = unicodedata.normalize("NFKC", ch)
    if len(folded) != 1:
        folded = ch
    simplified = t2s_converter().convert(folded)
    return simplified if len(simplified) == 1 else folded


def normalize_same_length(text: str) -> str:
    """Canonical form of ``text`` with exactly one output character per input character."""
    return "".join(_char(ch) for ch in text)
