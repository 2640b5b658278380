"""action_small_talk: replies only to confident small talk about the assistant."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from rasa_sdk.executor import CollectingDispatcher

from bot.actions import small_talk
from bot.actions.small_talk import ActionSmallTalk, small_talk_response
from tests.bot.conftest import make_tracker


def parsed(
    text: str, confidence: float = 0.99, rs_confidence: float = 0.95, key: str = "ask_name"
) -> dict[str, Any]:
    return {
        "text": text,
        "intent": {"name": "chitchat", "confidence": confidence},
        "entities": [],
        "intent_ranking": [{"name": "chitchat", "confidence": confidence}],
        "response_selector": {
            "chitchat": {
                "response": {
                    "confidence": rs_confidence,
                    "intent_response_key": f"chitchat/{key}",
                    "utter_action": f"utter_chitchat/{key}",
                }
            }
        },
    }


@pytest.mark.parametrize("text", ["你叫什么名字", "你係邊個", "邑问是谁做的", "笨死了"])
def test_small_talk_about_the_bot_gets_its_reply(text: str) -> None:
    assert small_talk_response(parsed(text)) == "utter_chitchat/ask_name"


@pytest.mark.parametrize(
    ("message", "why"),
    [
        (parsed("怎么做蛋挞"), "not about the assistant"),
        (parsed("垃圾分类怎么分", key="complain_bot"), "shares a word, not the addressee"),
        (parsed("你叫什么名字", confidence=0.5), "intent not confident"),
        (parsed("你叫什么名字", rs_confidence=0.2), "response not confident"),
        ({"text": "你好", "intent": {"name": "greet", "confidence": 1.0}}, "not chitchat"),
    ],
)
def test_everything_else_is_not_small_talk(message: dict[str, Any], why: str) -> None:
    assert small_talk_response(message) is None, why


def test_off_topic_goes_to_knowledge_search(monkeypatch: pytest.MonkeyPatch) -> None:
    searched: list[str] = []

    async def fake_search(self: Any, dispatcher: Any, tracker: Any, domain: Any) -> list[Any]:
        searched.append(tracker.latest_message["text"])
        return []

    monkeypatch.setattr(small_talk.ActionAnswerFromKnowledge, "run", fake_search)
    dispatcher = CollectingDispatcher()
    tracker = make_tracker(message=parsed("世界杯下一届在哪里办", key="ask_location"))
    asyncio.run(ActionSmallTalk().run(dispatcher, tracker, {}))
    assert searched == ["世界杯下一届在哪里办"] and dispatcher.messages == []

    tracker = make_tracker(message=parsed("你在哪里", key="ask_location"))
    asyncio.run(ActionSmallTalk().run(dispatcher, tracker, {}))
    assert [m["response"] for m in dispatcher.messages] == ["utter_chitchat/ask_location"]
    assert searched == ["世界杯下一届在哪里办"]
