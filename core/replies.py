"""Structured replies: the payloads the bot sends, and the one text rendering of them.

Why: answers and the complaint summary used to exist only as Chinese text, which the
web widget then parsed back with regexes to draw citation lists and summary cards.
Now an action sends the structure itself (Rasa's ``custom``, :data:`Payload`) beside
the text, and every text is rendered from it here (:func:`render_text`), so a plain
REST client reads exactly what it always read and no client has to parse Chinese.

Two payload types, told apart by ``type``:

* ``"answer"`` (:class:`AnswerPayload`): lead, explanation and citations (title,
  article or clause, date, quote, superseded note), or an abstention (``abstained``
  with the ``message`` said instead and the ``offers``: 12315 and a person);
* ``"complaint_summary"`` (:class:`SummaryPayload`): the confirmation step of the
  complaint or report form (``form``), one field per row.

The Chinese labels and layouts live in ``core/replies.yml``. This module is on the
ground floor (``retrieval`` builds answers, ``bot`` sends them, ``channels`` render
them) and uses only the standard library and PyYAML.
"""

from __future__ import annotations

from collections.abc import Mapping
from functools import lru_cache
from pathlib import Path
from typing import Any, Literal, TypedDict, cast

import yaml

REPLIES_PATH = Path(__file__).resolve().with_name("replies.yml")

ANSWER = "answer"
SUMMARY = "complaint_summary"
FormKind = Literal["complaint", "report"]


class Citation(TypedDict):
    """One source of an answer: 《title》clause, its date, what it says."""

    citation: str  # 《title》clause, as the text cites it
    title: str  # the document's title, without 《》
    clause: str  # 第十三条, 第14项, 第2段; may be empty
    date: str | None  # the document's date (YYYY-MM-DD), when known
    quote: str  # the start of the cited text; may be empty
    superseded_by: str | None  # the text that replaced a repealed document


class Offer(TypedDict):
    """What an abstention offers instead: ``hotline`` (a number) or ``handoff`` (a payload)."""

    kind: str
    label: str
    value: str


class AnswerPayload(TypedDict):
    type: Literal["answer"]
    abstained: bool
    lead: str  # the first sentence: the fact asked for ("" when abstained)
    explanation: str  # may be ""
    citations: list[Citation]
    message: str  # abstained: what is said instead of an answer; else ""
    offers: list[Offer]  # abstained: 12315 and a person; else []


class SummaryField(TypedDict):
    key: str  # the template value's name (complainant_name, masked_phone …)
    label: str
    value: str


class SummaryPayload(TypedDict):
    type: Literal["complaint_summary"]
    form: FormKind
    title: str
    fields: list[SummaryField]
    hint: str


Payload = AnswerPayload | SummaryPayload


@lru_cache(maxsize=1)
def strings() -> dict[str, Any]:
    """``core/replies.yml``, loaded once."""
    with REPLIES_PATH.open(encoding="utf-8") as fh:
        return dict(yaml.safe_load(fh))


# ---------------------------------------------------------------- builders
def citation(
    title: str,
    clause: str = "",
    date: str | None = None,
    quote: str = "",
    superseded_by: str | None = None,
) -> Citation:
    return {
        "citation": strings()["answer"]["citation"].format(title=title, clause=clause),
        "title": title,
        "clause": clause,
        "date": date or None,
        "quote": quote,
        "superseded_by": superseded_by or None,
    }


def answer_payload(lead: str, explanation: str, citations: list[Citation]) -> AnswerPayload:
    return {
        "type": "answer",
        "abstained": False,
        "lead": lead,
        "explanation": explanation,
        "citations": list(citations),
        "message": "",
        "offers": [],
    }


def abstention_payload(message: str) -> AnswerPayload:
    """No answer: ``message`` is said instead, and the offers of ``replies.yml`` follow."""
    offers = [
        Offer(kind=str(o["kind"]), label=str(o["label"]), value=str(o["value"]))
        for o in strings()["answer"]["offers"]
    ]
    return {
        "type": "answer",
        "abstained": True,
        "lead": "",
        "explanation": "",
        "citations": [],
        "message": message.strip(),
        "offers": offers,
    }


def summary_payload(form: FormKind, values: Mapping[str, Any]) -> SummaryPayload:
    """The form's review step from its template values (``complaint_summary`` …).

    Every field of ``replies.yml`` must have a value; a missing one raises ``KeyError``
    rather than show the citizen an empty row.
    """
    spec = strings()["summaries"][form]
    return {
        "type": "complaint_summary",
        "form": form,
        "title": str(spec["title"]),
        "fields": [
            SummaryField(key=key, label=str(label), value=str(values[key]))
            for key, label in spec["fields"].items()
        ],
        "hint": str(spec["hint"]),
    }


# ---------------------------------------------------------------- rendering
def is_payload(custom: object) -> bool:
    """Whether ``custom`` is a payload of this module (``type`` answer or summary)."""
    return isinstance(custom, Mapping) and custom.get("type") in (ANSWER, SUMMARY)


def render_text(payload: Payload | Mapping[str, Any], *, field_per_line: bool = False) -> str:
    """The text of a payload: what plain REST clients and the bot's text always said.

    ``field_per_line`` lays a summary out one field a line (WeChat); the default is
    the layout of the domain response (several fields a line). Answers have one layout.
    """
    if payload.get("type") == SUMMARY:
        return _summary_text(cast(SummaryPayload, payload), field_per_line)
    if payload.get("type") == ANSWER:
        return _answer_text(cast(AnswerPayload, payload))
    raise ValueError(f"not a reply payload: type {payload.get('type')!r}")


def _answer_text(payload: AnswerPayload) -> str:
    if payload.get("abstained"):
        return payload["message"]
    s = strings()["answer"]
    lines = [payload["lead"]]
    if payload.get("explanation"):
        lines.append(payload["explanation"])
    lines.append(s["basis_header"])
    for c in payload["citations"]:
        date = s["date_suffix"].format(date=c["date"]) if c.get("date") else ""
        lines.append(s["citation_line"].format(citation=c["citation"], date=date))
        if c.get("superseded_by"):
            note = s["superseded_note"].format(superseded_by=c["superseded_by"])
            lines.append(s["quote_line"].format(text=note))
        if c.get("quote"):
            lines.append(s["quote_line"].format(text=c["quote"]))
    return "\n".join(lines)


def _summary_text(payload: SummaryPayload, field_per_line: bool) -> str:
    s = strings()
    lines = [s["title_line"].format(title=payload["title"])]
    if field_per_line:
        lines += [
            s["field_line"].format(label=f["label"], value=f["value"]) for f in payload["fields"]
        ]
    else:
        values = {f["key"]: f["value"] for f in payload["fields"]}
        lines += [line.format(**values) for line in s["summaries"][payload["form"]]["lines"]]
    if payload.get("hint"):
        lines.append(payload["hint"])
    return "\n".join(lines)
