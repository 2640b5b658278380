"""What the engine returns: ranked passages (:class:`Hit`) and answers (:class:`Answer`).

Why a module of its own: the answer's structure (:attr:`Answer.payload`, a
``core.replies`` payload) is what the bot sends and every channel renders, so it should
be readable without the engine's search machinery. ``retrieval.engine`` re-exports both
classes, so ``from retrieval.engine import Answer, Hit`` keeps working.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

from core.replies import AnswerPayload, render_text
from retrieval.answer_type import GENERAL


@dataclass
class Hit:
    """One ranked passage, shaped like the evaluation contract's ``hits`` rows."""

    doc: str
    text: str
    score: float
    citation: str
    chunk_id: str
    title: str
    label: str
    date: str | None
    kind: str
    superseded_by: str | None = None
    dense: float = 0.0
    bm25: float = 0.0
    faq: float = 0.0
    faq_agrees: bool = False  # a curated answer of the same kind and key terms as the question

    def public(self) -> dict[str, Any]:
        return {
            "doc": self.doc,
            "text": self.text,
            "score": round(self.score, 6),
            "citation": self.citation,
        }


@dataclass
class Answer:
    """An answer or an abstention; ``text`` is always ``render_text(payload)``."""

    question: str
    text: str
    abstained: bool
    confidence: float
    citations: list[str] = field(default_factory=list)
    hits: list[Hit] = field(default_factory=list)
    latency_ms: float = 0.0
    question_type: str = GENERAL
    lead: str = ""  # the first sentence: the fact asked for
    lead_citation: str = ""  # where the lead's fact is written (a curated answer: its source)
    payload: AnswerPayload | None = None  # the structure of ``text`` (core.replies)

    @classmethod
    def from_payload(cls, question: str, payload: AnswerPayload, **rest: Any) -> Answer:
        """The answer whose text, citations and lead all come from ``payload``."""
        text = render_text(payload)
        return cls(
            question=question,
            text=text,
            abstained=payload["abstained"],
            citations=[c["citation"] for c in payload["citations"]],
            lead="" if payload["abstained"] else text.split("\n", 1)[0],
            payload=payload,
            **rest,
        )

    def to_dict(self) -> dict[str, Any]:
        d = asdict(self)
        d["hits"] = [h.public() for h in self.hits]
        return d
