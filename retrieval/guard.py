"""Refuse off-topic questions that only share a word with our documents.

Why: dense and lexical retrieval both reward a shared word. 驾驶执照 shares 执照
with 营业执照, 结婚登记 shares 登记 with 市场主体登记, and the engine then answers
"confidently" from the wrong law. For a government assistant a wrong answer that
looks authoritative is worse than an honest "not ours, call 12315". The word
lists are data (``retrieval/guard.yml``), collected from the corpus's terms and
the everyday senses they collide with.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import yaml

from knowledge.normalize import normalize_text

GUARD_PATH = Path(__file__).resolve().parent / "guard.yml"


@dataclass(frozen=True)
class Guard:
    always: re.Pattern[str]
    homonyms: re.Pattern[str]
    anchors: re.Pattern[str]

    def trapped(self, question: str) -> bool:
        """True when ``question`` belongs to another office (see the module docstring)."""
        q = normalize_text(question)
        if self.always.search(q):
            return True
        return bool(self.homonyms.search(q)) and not self.anchors.search(q)


@lru_cache(maxsize=2)
def load_guard(path: Path = GUARD_PATH) -> Guard:
    data = yaml.safe_load(path.read_text("utf-8")) or {}

    def pattern(name: str) -> re.Pattern[str]:
        raw = data.get(name)
        if not isinstance(raw, str) or not raw.strip():
            return re.compile(r"(?!)")
        try:
            return re.compile(re.sub(r"\s+", "", raw))
        except re.error as exc:
            raise ValueError(f"{path.name}：{name} 的正则表达式有误：{exc}") from exc

    return Guard(pattern("always"), pattern("homonyms"), pattern("anchors"))
