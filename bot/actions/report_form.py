"""The report form (举报): respondent, specific leads, optional anonymity, evidence.

A report is a lead on a suspected violation, not a personal dispute, so it
needs 具体线索 (longer facts) but no demand; an anonymous reporter is not asked
for name or phone.
"""

from __future__ import annotations

from rasa_sdk import Action, Tracker
from rasa_sdk.events import EventType
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from bot.actions.common import label
from bot.actions.intake import REPORT_SLOTS, IntakeFormValidation, county_summary
from core.replies import summary_payload

REPORTER_SLOTS = ("complainant_name", "complainant_phone")


class ValidateReportForm(IntakeFormValidation):
    slot_table = REPORT_SLOTS
    confirm_slot = "report_confirmed"
    min_facts_chars = 10
    facts_too_short_response = "utter_report_leads_too_short"

    def name(self) -> str:
        return "validate_report_form"

    async def required_slots(
        self,
        domain_slots: list[str],
        dispatcher: CollectingDispatcher,
        tracker: Tracker,
        domain: DomainDict,
    ) -> list[str]:
        """An anonymous reporter skips name and phone."""
        if tracker.slots.get("anonymous") is True:
            return [s for s in domain_slots if s not in REPORTER_SLOTS]
        return list(domain_slots)


def report_summary(tracker: Tracker) -> dict[str, str]:
    show = REPORT_SLOTS.display
    slots = tracker.slots
    if slots.get("anonymous"):
        reporter = label("anonymous")
    else:
        reporter = label(
            "reporter",
            name=slots.get("complainant_name") or label("not_given"),
            phone=show("complainant_phone", slots.get("complainant_phone")),
        )
    return {
        "respondent_name": slots.get("respondent_name") or label("not_given"),
        "respondent_address_display": slots.get("respondent_address") or label("not_given"),
        "county_display": county_summary(slots),
        "facts": slots.get("facts") or label("not_given"),
        "evidence_display": show("evidence", slots.get("evidence")),
        "reporter_display": reporter,
    }


class ActionAskReportConfirmed(Action):
    def name(self) -> str:
        return "action_ask_report_confirmed"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[EventType]:
        values = report_summary(tracker)
        # The text is the domain response, as always; the payload (core.replies) is the
        # same summary one field a row, for the widget's card and WeChat.
        dispatcher.utter_message(
            response="utter_report_summary",
            json_message=summary_payload("report", values),
            **values,
        )
        return []
