"""What kind of fact a question asks for: an amount, a count, a deadline, a place…

Why: retrieval finds the right passage far more often than the answer's first
sentence states the fact asked for. A citizen who asks 个转企能拿多少钱 must read
1万元 first, not a definition of 个转企 that quotes the amount further down.
Knowing the asked-for kind lets the composer pick the sentence that states it,
and lets the FAQ shortcut refuse a curated answer of another kind.

The vocabulary (how citizens ask, what a stating sentence contains) is data in
``retrieval/question_types.yml``, so staff can extend it without code.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import yaml

from knowledge.normalize import normalize_text

TYPES_PATH = Path(__file__).resolve().parent / "question_types.yml"
GENERAL = "general"
# Kinds whose fact a passage either states or does not (a number, a place…); for these
# a curated answer without such a sentence must not lead.
SPECIFIC = frozenset({"amount", "percent", "count", "duration", "place", "materials"})
# Kinds that one answer serves alike (有什么奖励 / 给多少钱; 要什么材料 / 要哪些信息).
_COMPATIBLE = ({"amount", "benefit"}, {"materials", "list"})


@dataclass(frozen=True)
class TypeSpec:
    name: str
    ask: re.Pattern[str]
    evidence: re.Pattern[str]
    local: bool = False
    legal: bool = False


@dataclass(frozen=True)
class QuestionType:
    """The asked-for kind (``kind``) and whether the question is also a yes/no one."""

    kind: str
    yesno: bool

    @property
    def specific(self) -> bool:
        return self.kind in SPECIFIC

    @property
    def label(self) -> str:
        return (
            f"{self.kind}+yesno"
            if self.yesno and self.kind != GENERAL
            else ("yesno" if self.yesno else self.kind)
        )


@dataclass(frozen=True)
class TypeTable:
    types: tuple[TypeSpec, ...]
    yesno: re.Pattern[str]
    openers: tuple[str, ...]
    fillers: frozenset[str] = frozenset()

    def spec(self, kind: str) -> TypeSpec | None:
        return next((t for t in self.types if t.name == kind), None)


def _pattern(raw: object, where: str) -> re.Pattern[str]:
    if not isinstance(raw, str) or not raw.strip():
        raise ValueError(f"{TYPES_PATH.name}：{where} 需要一个正则表达式。")
    try:
        return re.compile(re.sub(r"\s+", "", raw))
    except re.error as exc:
        raise ValueError(f"{TYPES_PATH.name}：{where} 的正则表达式有误：{exc}") from exc


@lru_cache(maxsize=2)
def load_types(path: Path = TYPES_PATH) -> TypeTable:
    """Read and check the table; a broken pattern fails at start-up, not mid-answer."""
    data = yaml.safe_load(path.read_text("utf-8")) or {}
    specs = []
    for name, spec in (data.get("types") or {}).items():
        specs.append(
            TypeSpec(
                name=str(name),
                ask=_pattern(spec.get("ask"), f"types.{name}.ask"),
                evidence=_pattern(spec.get("evidence"), f"types.{name}.evidence"),
                local=bool(spec.get("local", False)),
                legal=bool(spec.get("legal", False)),
            )
        )
    yesno = _pattern((data.get("yesno") or {}).get("ask"), "yesno.ask")
    openers = tuple(sorted((str(o) for o in data.get("openers") or []), key=len, reverse=True))
    fillers = frozenset(str(f) for f in data.get("fillers") or [])
    return TypeTable(tuple(specs), yesno, openers, fillers)


def detect(question: str, table: TypeTable | None = None) -> QuestionType:
    """The kind of fact ``question`` asks for (normalised here; idempotent on normalised text)."""
    t = table or load_types()
    q = normalize_text(question).strip()
    kind = next((s.name for s in t.types if s.ask.search(q)), GENERAL)
    return QuestionType(kind=kind, yesno=bool(t.yesno.search(q)))


def asking_words(question: str, table: TypeTable | None = None) -> frozenset[str]:
    """The spans of a normalised question that only say *how* it asks.

    能不能 in 企业能不能加入合作社, and the colloquial fillers of the table (嘢, 咗 …):
    words a stating sentence never needs to share. The kinds' own ask patterns are not
    used here, since theirs hold content words (补贴 in 有补贴吗).
    """
    t = table or load_types()
    return frozenset(m.group(0) for m in t.yesno.finditer(question) if m.group(0)) | t.fillers


def kinds_agree(asked: str, offered: str) -> bool:
    """Whether an answer to an ``offered`` question serves an ``asked`` one.

    A question for a specific fact (多少钱, 找哪里) is served only by a curated
    question of the same kind; a general question by any.
    """
    if asked in (offered, GENERAL):
        return True
    if offered == GENERAL:
        return asked not in SPECIFIC
    return any(asked in group and offered in group for group in _COMPATIBLE)


def evidence_in(text: str, kind: str, table: TypeTable | None = None) -> bool:
    """Whether ``text`` contains the kind of fact ``kind`` asks for (general: always)."""
    spec = (table or load_types()).spec(kind)
    return True if spec is None else bool(spec.evidence.search(text))


def strip_opener(sentence: str, table: TypeTable | None = None) -> str:
    """``有。每户…`` → ``每户…``: a bare yes/no must not open a non-yes/no answer."""
    s = sentence.lstrip()
    for opener in (table or load_types()).openers:
        if s.startswith(opener) and len(s) > len(opener):
            return s[len(opener) :].lstrip()
    return s


def prefers_local(qtype: QuestionType, table: TypeTable | None = None) -> bool:
    spec = (table or load_types()).spec(qtype.kind)
    return bool(spec and spec.local)


def prefers_law(qtype: QuestionType, table: TypeTable | None = None) -> bool:
    spec = (table or load_types()).spec(qtype.kind)
    return bool(spec and spec.legal)
