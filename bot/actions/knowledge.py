"""Knowledge answers from the in-process retrieval engine, and answer feedback.

``action_answer_from_knowledge`` handles the domain questions and every
low-confidence or out-of-scope message. The engine (``retrieval.engine``) is
preloaded when the action server starts (see :mod:`bot.actions.startup`); it
runs on one dedicated worker thread so CPU-bound retrieval never blocks the
action server's event loop and calls into the engine are never concurrent.
Every question, its lead and the citizen's later rating go to the question log
(``review_log``), which the staff console reads.
"""

from __future__ import annotations

import asyncio
import logging
import re
import time
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.events import EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from bot.actions import review_log
from bot.actions.common import (
    UNSUPPORTED_REQUEST_INTENTS,
    asks_for_something_unsupported,
    entity_values,
    latest_intent,
    response_text,
)
from core import metrics
from core.replies import abstention_payload, render_text

logger = logging.getLogger(__name__)

# An out_of_scope intent this confident abstains without a search (我想吃火锅).
OUT_OF_SCOPE_DIRECT = 0.85
_NEGATIVE_FEEDBACK = re.compile(r"没|不|冇|唔|差|答非所问|无用|没用")

_ENGINE_THREAD = ThreadPoolExecutor(max_workers=1, thread_name_prefix="yiwen-engine")


def get_engine() -> Any:
    """The process-wide engine (imported lazily so tests can run without an index)."""
    from retrieval.engine import get_engine as _get_engine

    return _get_engine()


async def ask_engine(question: str) -> Any:
    """Answer on the engine current at this moment (a new index may come between turns)."""
    loop = asyncio.get_running_loop()
    return await loop.run_in_executor(_ENGINE_THREAD, lambda: get_engine().ask(question))


def _count(channel: str | None, outcome: str, seconds: float | None = None) -> None:
    label = channel or "unknown"
    metrics.QUESTIONS.labels(channel=label, outcome=outcome).inc()
    if seconds is not None:
        metrics.QUESTION_SECONDS.labels(channel=label).observe(seconds)


def _channel(tracker: Tracker) -> str | None:
    try:
        return tracker.get_latest_input_channel()
    except (AttributeError, KeyError, TypeError):
        return None


async def _log(**entry: Any) -> None:
    """Write to the question log; a database problem must never break the chat turn."""
    try:
        await asyncio.to_thread(lambda: review_log.record(**entry))
    except Exception:
        logger.exception("could not write to the review log")


async def _rate(**entry: Any) -> None:
    """Attach a rating to its logged question; never breaks the chat turn either."""
    try:
        await asyncio.to_thread(lambda: review_log.rate(**entry))
    except Exception:
        logger.exception("could not write to the review log")


def _abstain(dispatcher: CollectingDispatcher, domain: DomainDict) -> None:
    """Say that nothing answers, with the abstention payload (its text is the response's)."""
    payload = abstention_payload(response_text(domain, "utter_knowledge_abstain"))
    dispatcher.utter_message(response="utter_knowledge_abstain", json_message=payload)


class ActionAnswerFromKnowledge(Action):
    def name(self) -> str:
        return "action_answer_from_knowledge"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[EventType]:
        question = ((tracker.latest_message or {}).get("text") or "").strip()
        if not question or question.startswith("/"):
            dispatcher.utter_message(response="utter_ask_question")
            return []
        intent, confidence = latest_intent(tracker)
        meta = {"sender_id": tracker.sender_id, "channel": _channel(tracker)}

        if intent in UNSUPPORTED_REQUEST_INTENTS and asks_for_something_unsupported(question):
            # 给我唱首歌: say honestly that it can't, and what it can do; not a knowledge miss.
            dispatcher.utter_message(response="utter_cannot_do")
            return []

        if intent == "out_of_scope" and confidence >= OUT_OF_SCOPE_DIRECT:
            _count(meta["channel"], "abstained")
            _abstain(dispatcher, domain)
            await _log(question=question, answer=None, abstained=True, **meta)
            return [SlotSet("kb_question", question), SlotSet("kb_abstained", True)]

        started = time.perf_counter()
        try:
            answer = await ask_engine(question)
        except Exception:
            _count(meta["channel"], "error")
            logger.exception("knowledge engine failed")
            dispatcher.utter_message(response="utter_knowledge_unavailable")
            await _log(question=question, answer=None, abstained=True, **meta)
            return []

        citations = [str(c) for c in (getattr(answer, "citations", None) or [])]
        abstained = bool(getattr(answer, "abstained", False))
        _count(
            meta["channel"], "abstained" if abstained else "answered", time.perf_counter() - started
        )
        if abstained:
            _abstain(dispatcher, domain)
            await _log(question=question, answer=None, abstained=True, citations=citations, **meta)
            return [
                SlotSet("kb_question", question),
                SlotSet("kb_answer", None),
                SlotSet("kb_citations", []),
                SlotSet("kb_abstained", True),
            ]
        payload = getattr(answer, "payload", None)
        lead_doc, topic = review_log.lead_of(answer)
        await _log(
            question=question,
            answer=answer.text,
            abstained=False,
            citations=citations,
            lead_doc=lead_doc,
            topic=topic,
            **meta,
        )
        if payload:
            # One message, text and structure: the widget draws the card from
            # ``custom``, plain clients read the text rendered from it.
            dispatcher.utter_message(
                response="utter_knowledge_answer", answer=render_text(payload), json_message=payload
            )
        else:
            dispatcher.utter_message(response="utter_knowledge_answer", answer=answer.text)
        return [
            SlotSet("kb_question", question),
            SlotSet("kb_answer", answer.text),
            SlotSet("kb_citations", citations),
            SlotSet("kb_abstained", False),
        ]


class ActionRecordFeedback(Action):
    """有帮助 / 没帮助 on the last answer → its row in the question log."""

    def name(self) -> str:
        return "action_record_feedback"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[EventType]:
        values = entity_values(tracker, "feedback")
        if values:
            helpful = values[0] == "helpful"
        else:
            text = ((tracker.latest_message or {}).get("text") or "").strip()
            helpful = not _NEGATIVE_FEEDBACK.search(text)
        question = tracker.get_slot("kb_question")
        if question:
            await _rate(
                question=question,
                answer=tracker.get_slot("kb_answer"),
                abstained=bool(tracker.get_slot("kb_abstained")),
                citations=tracker.get_slot("kb_citations") or [],
                feedback="helpful" if helpful else "unhelpful",
                sender_id=tracker.sender_id,
                channel=_channel(tracker),
            )
        dispatcher.utter_message(
            response="utter_feedback_thanks" if helpful else "utter_feedback_sorry"
        )
        return []
