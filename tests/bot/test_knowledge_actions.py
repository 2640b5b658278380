"""Knowledge answers, abstention, feedback and the review log.

The retrieval engine is the lead's module; here it is replaced by a stand-in
that implements its interface (``ask(question) -> Answer``), so these tests
check what the action does with answers, not retrieval quality. A test at
the end uses the real engine when its index can be built.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from typing import Any

import pytest
from click.testing import CliRunner
from rasa_sdk.executor import CollectingDispatcher

from bot.actions import knowledge, review_log
from bot.actions.handoff import ActionHumanHandoff
from bot.actions.knowledge import ActionAnswerFromKnowledge, ActionRecordFeedback
from core.replies import answer_payload, citation, render_text
from retrieval.answer import Answer
from tests.bot.conftest import make_tracker, user_message


@dataclass
class StubAnswer:
    text: str
    abstained: bool
    citations: list[str] = field(default_factory=list)
    hits: list[Any] = field(default_factory=list)


class StubEngine:
    """Implements the engine interface: answers about 个转企, abstains otherwise."""

    def __init__(self) -> None:
        self.questions: list[str] = []

    def ask(self, question: str) -> StubAnswer:
        self.questions.append(question)
        if "个转企" in question:
            cite = "《促进个体工商户发展条例》第十三条"
            return StubAnswer(f"个转企可以保留原字号。（{cite}）", False, [cite])
        return StubAnswer("", True)


@pytest.fixture
def engine(monkeypatch: pytest.MonkeyPatch) -> StubEngine:
    stub = StubEngine()
    monkeypatch.setattr(knowledge, "get_engine", lambda: stub)
    return stub


def run(action: Any, tracker: Any, domain: dict[str, Any]) -> tuple[list[dict], list[dict]]:
    dispatcher = CollectingDispatcher()
    events = asyncio.run(action.run(dispatcher, tracker, domain))
    return dispatcher.messages, events


def slots_of(events: list[dict]) -> dict[str, Any]:
    return {e["name"]: e["value"] for e in events if e.get("event") == "slot"}


def test_answer_is_cited_and_offers_feedback(engine: StubEngine, domain: dict[str, Any]) -> None:
    tracker = make_tracker(message=user_message("个转企能保留字号吗", "ask_policy", 0.97))
    messages, events = run(ActionAnswerFromKnowledge(), tracker, domain)
    assert messages[0]["response"] == "utter_knowledge_answer"
    assert "《促进个体工商户发展条例》第十三条" in messages[0]["answer"]
    buttons = domain["responses"]["utter_knowledge_answer"][0]["buttons"]
    assert [b["title"] for b in buttons] == ["有帮助", "没帮助"]
    assert slots_of(events)["kb_citations"] == ["《促进个体工商户发展条例》第十三条"]
    # Every question is logged (the console's statistics), answered ones too.
    [entry] = review_log.list_entries()
    assert entry["abstained"] is False and entry["feedback"] is None
    assert entry["citations"] == ["《促进个体工商户发展条例》第十三条"]


def test_answer_carries_its_payload(monkeypatch: pytest.MonkeyPatch, domain: dict) -> None:
    """One message: the text plain clients read, and the structure the widget draws."""
    payload = answer_payload(
        "个转企可以保留原字号。",
        "",
        [citation("促进个体工商户发展条例", "第十三条", "2022-11-01", "第十三条 …")],
    )
    stub = StubEngine()
    stub.ask = lambda q: Answer.from_payload(q, payload, confidence=0.95)  # type: ignore[method-assign]
    monkeypatch.setattr(knowledge, "get_engine", lambda: stub)
    tracker = make_tracker(message=user_message("个转企能保留字号吗", "ask_policy", 0.97))
    messages, events = run(ActionAnswerFromKnowledge(), tracker, domain)
    [message] = messages
    assert message["response"] == "utter_knowledge_answer"
    assert message["custom"] == payload
    assert message["answer"] == render_text(payload)
    assert message["answer"].startswith("个转企可以保留原字号。\n依据：\n· 《促进")
    assert slots_of(events)["kb_citations"] == ["《促进个体工商户发展条例》第十三条"]


def test_abstention_carries_the_domain_text_and_offers(
    engine: StubEngine, domain: dict[str, Any]
) -> None:
    tracker = make_tracker(message=user_message("帮我订个外卖", "ask_policy", 0.6))
    [message], _ = run(ActionAnswerFromKnowledge(), tracker, domain)
    assert message["response"] == "utter_knowledge_abstain"
    payload = message["custom"]
    assert payload["type"] == "answer" and payload["abstained"] is True
    assert render_text(payload) == domain["responses"]["utter_knowledge_abstain"][0]["text"]
    assert [o["kind"] for o in payload["offers"]] == ["hotline", "handoff"]


def test_abstention_is_logged_with_masked_phone(engine: StubEngine, domain: dict[str, Any]) -> None:
    tracker = make_tracker(message=user_message("13912345678 这个号码是谁的", "ask_policy", 0.6))
    messages, _ = run(ActionAnswerFromKnowledge(), tracker, domain)
    assert messages[0]["response"] == "utter_knowledge_abstain"
    [miss] = review_log.list_misses()
    assert miss["abstained"] is True
    assert "13912345678" not in miss["question"] and "139****5678" in miss["question"]
    assert miss["channel"] == "rest"


def test_confident_out_of_scope_abstains_without_searching(
    engine: StubEngine, domain: dict[str, Any]
) -> None:
    tracker = make_tracker(message=user_message("我想吃火锅", "out_of_scope", 0.98))
    messages, _ = run(ActionAnswerFromKnowledge(), tracker, domain)
    assert messages[0]["response"] == "utter_knowledge_abstain"
    assert engine.questions == []
    assert review_log.list_misses()[0]["question"] == "我想吃火锅"


def test_engine_failure_is_a_polite_reply(monkeypatch: pytest.MonkeyPatch, domain: dict) -> None:
    def broken() -> Any:
        raise RuntimeError("index missing")

    monkeypatch.setattr(knowledge, "get_engine", broken)
    tracker = make_tracker(message=user_message("个转企", "ask_policy", 0.9))
    messages, _ = run(ActionAnswerFromKnowledge(), tracker, domain)
    assert messages[0]["response"] == "utter_knowledge_unavailable"


def test_feedback_goes_to_the_review_log(engine: StubEngine, domain: dict[str, Any]) -> None:
    asked = make_tracker(message=user_message("个转企能保留字号吗", "ask_policy", 0.97))
    _, events = run(ActionAnswerFromKnowledge(), asked, domain)
    slots = slots_of(events)

    bad = user_message(
        '/feedback{"feedback":"unhelpful"}', "feedback", 1.0, {"feedback": "unhelpful"}
    )
    messages, _ = run(ActionRecordFeedback(), make_tracker(slots, bad), domain)
    assert messages[0]["response"] == "utter_feedback_sorry"
    good = user_message("有帮助", "feedback", 0.9, {"feedback": "helpful"})
    messages, _ = run(ActionRecordFeedback(), make_tracker(slots, good), domain)
    assert messages[0]["response"] == "utter_feedback_thanks"
    typed = user_message("答非所问", "feedback", 0.8)
    run(ActionRecordFeedback(), make_tracker(slots, typed), domain)

    # One row per question: each rating updates it, the latest one wins.
    [entry] = review_log.list_entries()
    assert entry["question"] == "个转企能保留字号吗" and entry["feedback"] == "unhelpful"
    assert entry["citations"] == ["《促进个体工商户发展条例》第十三条"]
    assert entry["feedback_at"] is not None
    assert [m["feedback"] for m in review_log.list_misses()] == ["unhelpful"]


def test_rating_without_its_logged_question_is_a_row_of_its_own(
    engine: StubEngine, domain: dict[str, Any]
) -> None:
    slots = {"kb_question": "个转企能保留字号吗", "kb_abstained": False, "kb_citations": []}
    good = user_message("有帮助", "feedback", 0.9, {"feedback": "helpful"})
    run(ActionRecordFeedback(), make_tracker(slots, good), domain)
    [entry] = review_log.list_entries()
    assert entry["feedback"] == "helpful" and entry["question"] == "个转企能保留字号吗"


def test_misses_command_lists_the_log(engine: StubEngine, domain: dict[str, Any]) -> None:
    run(ActionAnswerFromKnowledge(), make_tracker(message=user_message("社保怎么交")), domain)
    result = CliRunner().invoke(review_log.misses, ["--limit", "5"])
    assert result.exit_code == 0, result.output
    assert "社保怎么交" in result.output and "[abstained]" in result.output
    as_json = CliRunner().invoke(review_log.misses, ["--json"])
    assert '"question": "社保怎么交"' in as_json.output


def test_handoff_flags_the_conversation(domain: dict[str, Any]) -> None:
    messages, events = run(ActionHumanHandoff(), make_tracker(), domain)
    assert messages[0]["response"] == "utter_handoff"
    assert slots_of(events) == {"handoff_requested": True}
    handoff_text = domain["responses"]["utter_handoff"][0]["text"]
    assert "12315" in handoff_text and "8:30" in handoff_text


@pytest.mark.slow
def test_real_engine_answers_with_a_citation(core_engine: Any, domain: dict[str, Any]) -> None:
    """Through the lead's engine over the shared corpus (skipped when it is absent)."""
    knowledge_get = knowledge.get_engine
    assert knowledge_get() is core_engine
    tracker = make_tracker(message=user_message("个体工商户可以转为企业吗", "ask_policy", 0.95))
    messages, _ = run(ActionAnswerFromKnowledge(), tracker, domain)
    assert messages[0]["response"] in ("utter_knowledge_answer", "utter_knowledge_abstain")
    if messages[0]["response"] == "utter_knowledge_answer":
        assert "《" in messages[0]["answer"]
