"""Small talk the assistant is sure of; requests it cannot do; everything else is a question.

Why not ``utter_chitchat`` straight from a rule: the classifiers are overconfident
off topic (DESIGN), and small-talk examples share words with everyday questions
(垃圾 in 你好垃圾 and in 垃圾分类怎么分). A ResponseSelector trained on a few lines per
topic always picks *some* topic: 给我唱首歌 once got the reply about which languages
the assistant reads. So the small-talk reply is used only when

* the message addresses the assistant (a cue from ``labels.yml`` such as 你 / 您 / 机器人),
* the intent and the picked response are both confident, and
* the message has a word typical of the picked topic (``small_talk_topics``).

A request for something the assistant cannot do (唱歌, 讲笑话, 画画 …) gets an honest
``utter_cannot_do`` that says what it can do instead. Anything else goes to the
knowledge action, which answers with citations or abstains with 12315 and a person.
"""

from __future__ import annotations

from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.events import EventType
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from bot.actions.common import asks_for_something_unsupported, labels
from bot.actions.knowledge import ActionAnswerFromKnowledge
from bot.actions.parsing.text import normalise

RETRIEVAL_INTENT = "chitchat"
MIN_INTENT_CONFIDENCE = 0.8
MIN_RESPONSE_CONFIDENCE = 0.5


def small_talk_response(message: dict[str, Any]) -> str | None:
    """``utter_chitchat/<key>`` when the message is small talk about the bot we are sure of."""
    text = normalise(str(message.get("text") or ""))
    intent = message.get("intent") or {}
    selector = (message.get("response_selector") or {}).get(RETRIEVAL_INTENT) or {}
    response = selector.get("response") or {}
    utter = str(response.get("utter_action") or "")
    prefix = f"utter_{RETRIEVAL_INTENT}/"
    if not utter.startswith(prefix):
        return None
    if intent.get("name") != RETRIEVAL_INTENT:
        return None
    if float(intent.get("confidence") or 0) < MIN_INTENT_CONFIDENCE:
        return None
    if float(response.get("confidence") or 0) < MIN_RESPONSE_CONFIDENCE:
        return None
    if asks_for_something_unsupported(text):
        return None
    if not any(cue in text for cue in labels()["small_talk_cues"]):
        return None
    topic_words = labels()["small_talk_topics"].get(utter.removeprefix(prefix)) or []
    if not any(word in text for word in topic_words):
        return None
    return utter


class ActionSmallTalk(Action):
    """Reply to chitchat-classified messages: sure small talk, cannot-do, or knowledge search."""

    def name(self) -> str:
        return "action_small_talk"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[EventType]:
        message = tracker.latest_message or {}
        utter = small_talk_response(message)
        if utter is not None:
            dispatcher.utter_message(response=utter)
            return []
        # The knowledge action answers unsupported requests with utter_cannot_do itself.
        return await ActionAnswerFromKnowledge().run(dispatcher, tracker, domain)
