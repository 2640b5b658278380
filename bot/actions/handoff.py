"""转人工: give the hotline and office hours, and flag the conversation for staff.

The flag is the ``handoff_requested`` slot, so staff can find these
conversations in the tracker store (e.g. ``slot handoff_requested = true``).
"""

from __future__ import annotations

from rasa_sdk import Action, Tracker
from rasa_sdk.events import EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict


class ActionHumanHandoff(Action):
    def name(self) -> str:
        return "action_human_handoff"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[EventType]:
        dispatcher.utter_message(response="utter_handoff")
        return [SlotSet("handoff_requested", True)]
