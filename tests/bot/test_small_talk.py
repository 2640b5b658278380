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


@pytest.mark.parametrize(
    ("text", "key"),
    [
        ("你叫什么名字", "ask_name"),
        ("你係邊個", "ask_name"),
        ("邑问是谁做的", "ask_creator"),
        ("笨死了", "complain_bot"),
        ("你识唔识讲广东话", "ask_language"),
        ("你會做啲咩", "ask_abilities"),
    ],
)
def test_small_talk_about_the_bot_gets_its_reply(text: str, key: str) -> None:
    assert small_talk_response(parsed(text, key=key)) == f"utter_chitchat/{key}"


@pytest.mark.parametrize(
    ("message", "why"),
    [
        (parsed("怎么做蛋挞"), "not about the assistant"),
        (parsed("垃圾分类怎么分", key="complain_bot"), "shares a word, not the addressee"),
        (parsed("你叫什么名字", confidence=0.5), "intent not confident"),
        (parsed("你叫什么名字", rs_confidence=0.2), "response not confident"),
        ({"text": "你好", "intent": {"name": "greet", "confidence": 1.0}}, "not chitchat"),
        (parsed("给我唱首歌", key="ask_language"), "a request it cannot do, not a language"),
        (parsed("你会唱歌吗", key="ask_abilities"), "a request it cannot do"),
        (parsed("你喜欢什么颜色", key="ask_name"), "picked topic not in the message"),
        (parsed("你觉得今年经济怎么样", key="ask_language"), "picked topic not in the message"),
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


@pytest.mark.parametrize(
    ("text", "intent"),
    [
        ("给我唱首歌", "chitchat"),
        ("你会唱歌吗", "chitchat"),
        ("講個笑話嚟聽下", "out_of_scope"),
        ("帮我画一只猫", "out_of_scope"),
        ("陪我玩游戏", "nlu_fallback"),
    ],
)
def test_requests_it_cannot_do_get_an_honest_no(
    monkeypatch: pytest.MonkeyPatch, text: str, intent: str
) -> None:
    """Sing, joke, draw: utter_cannot_do (what it can do instead), no search, no small talk."""
    searched: list[str] = []

    def no_engine() -> Any:
        searched.append(text)
        raise AssertionError("the engine must not be asked")

    monkeypatch.setattr("bot.actions.knowledge.get_engine", no_engine)
    message = parsed(text, key="ask_language")
    message["intent"] = {"name": intent, "confidence": 0.9}
    dispatcher = CollectingDispatcher()
    action = ActionSmallTalk() if intent == "chitchat" else small_talk.ActionAnswerFromKnowledge()
    asyncio.run(action.run(dispatcher, make_tracker(message=message), {}))
    assert [m["response"] for m in dispatcher.messages] == ["utter_cannot_do"]
    assert searched == []


def test_a_domain_question_is_never_taken_for_a_request_it_cannot_do() -> None:
    """Only chitchat / out_of_scope / fallback messages are checked for cannot-do cues."""
    from bot.actions.common import UNSUPPORTED_REQUEST_INTENTS

    assert "ask_policy" not in UNSUPPORTED_REQUEST_INTENTS
    assert "file_complaint" not in UNSUPPORTED_REQUEST_INTENTS
