"""Small talk that is about the assistant; everything else is a question for knowledge search.

Why not ``utter_chitchat`` straight from a rule: DIET is overconfident off topic
(DESIGN), and small-talk examples share words with everyday questions (垃圾 in
你好垃圾 and in 垃圾分类怎么分). A small-talk reply to 怎么做蛋挞 neither answers
nor abstains. So the ResponseSelector's reply is used only when the message
addresses the assistant (a cue from ``labels.yml`` such as 你 / 您 / 机器人) and
both the intent and the response are confident; otherwise the knowledge action
runs, which answers with citations or abstains with 12315 and a person.
"""

from __future__ import annotations

from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.events import EventType
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from bot.actions.common import labels
from bot.actions.knowledge import ActionAnswerFromKnowledge

RETRIEVAL_INTENT = "chitchat"
MIN_INTENT_CONFIDENCE = 0.8
MIN_RESPONSE_CONFIDENCE = 0.5


def small_talk_response(message: dict[str, Any]) -> str | None:
    """``utter_chitchat/<key>`` when the message is confident small talk about the bot."""
    text = str(message.get("text") or "")
    intent = message.get("intent") or {}
    selector = (message.get("response_selector") or {}).get(RETRIEVAL_INTENT) or {}
    response = selector.get("response") or {}
    utter = response.get("utter_action") or ""
    if not utter.startswith(f"utter_{RETRIEVAL_INTENT}/"):
        return None
    if intent.get("name") != RETRIEVAL_INTENT:
        return None
    if float(intent.get("confidence") or 0) < MIN_INTENT_CONFIDENCE:
        return None
    if float(response.get("confidence") or 0) < MIN_RESPONSE_CONFIDENCE:
        return None
    if not any(cue in text for cue in labels()["small_talk_cues"]):
        return None
    return str(utter)


class ActionSmallTalk(Action):
    def name(self) -> str:
        return "action_small_talk"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[EventType]:
        utter = small_talk_response(tracker.latest_message or {})
        if utter is not None:
            dispatcher.utter_message(response=utter)
            return []
        return await ActionAnswerFromKnowledge().run(dispatcher, tracker, domain)
