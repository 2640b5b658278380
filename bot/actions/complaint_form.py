"""The complaint form (投诉): validation and the review summary.

Slots follow Art. 9 of 《市场监督管理投诉举报处理暂行办法》 (complainant name,
phone, address; respondent name, address; demand and facts) plus the practical
fields county offices ask for (date, amount, product, evidence, consent to
share contact details for mediation). Extraction and validation are shared
with the report form in :mod:`bot.actions.intake`; each slot is one row of
:data:`~bot.actions.intake.slots.COMPLAINT_SLOTS`.
"""

from __future__ import annotations

from rasa_sdk import Action, Tracker
from rasa_sdk.events import EventType
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from bot.actions.common import label
from bot.actions.intake import COMPLAINT_SLOTS, IntakeFormValidation, county_summary
from core.replies import summary_payload


class ValidateComplaintForm(IntakeFormValidation):
    slot_table = COMPLAINT_SLOTS
    confirm_slot = "complaint_confirmed"

    def name(self) -> str:
        return "validate_complaint_form"

    async def required_slots(
        self,
        domain_slots: list[str],
        dispatcher: CollectingDispatcher,
        tracker: Tracker,
        domain: DomainDict,
    ) -> list[str]:
        """With demand 其他 the specific request is needed too (the ticket API requires it)."""
        slots = list(domain_slots)
        if tracker.slots.get("demand") == "其他" and "demand" in slots:
            slots.insert(slots.index("demand") + 1, "demand_detail")
        return slots


def demands_display(demands: list[str] | None, primary: str | None) -> str:
    """Every demand the citizen made (退款、赔偿), not just the ticket's primary category."""
    names = [str(d) for d in demands or [] if d] or ([primary] if primary else [])
    return label("list_separator").join(names) if names else label("not_given")


def complaint_summary(tracker: Tracker) -> dict[str, str]:
    """Template values for ``utter_complaint_summary`` (phone masked, sentinels as words)."""
    show = COMPLAINT_SLOTS.display
    slots = tracker.slots
    address = slots.get("respondent_address") or label("not_given")
    if slots.get("respondent_is_platform"):
        address = f"{address}{label('platform_tag', platform=slots.get('respondent_name') or '')}"
    demand = demands_display(slots.get("demands"), slots.get("demand"))
    if slots.get("demand_detail"):
        demand = f"{demand}（{slots['demand_detail']}）"
    return {
        "complainant_name": slots.get("complainant_name") or label("not_given"),
        "masked_phone": show("complainant_phone", slots.get("complainant_phone")),
        "complainant_address": slots.get("complainant_address") or label("not_given"),
        "respondent_name": slots.get("respondent_name") or label("not_given"),
        "respondent_address_display": address,
        "county_display": county_summary(slots),
        "product": slots.get("product") or label("not_given"),
        "date_display": slots.get("incident_date_display")
        or show("incident_date", slots.get("incident_date")),
        "amount_display": show("amount", slots.get("amount")),
        "demand_display": demand,
        "facts": slots.get("facts") or label("not_given"),
        "evidence_display": show("evidence", slots.get("evidence")),
        "consent_display": show("consent_share_contact", slots.get("consent_share_contact")),
    }


class ActionAskComplaintConfirmed(Action):
    """Ask for confirmation by showing every field, phone masked (139****5678)."""

    def name(self) -> str:
        return "action_ask_complaint_confirmed"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[EventType]:
        values = complaint_summary(tracker)
        # The text is the domain response, as always; the payload (core.replies) is the
        # same summary one field a row, for the widget's card and WeChat.
        dispatcher.utter_message(
            response="utter_complaint_summary",
            json_message=summary_payload("complaint", values),
            **values,
        )
        return []
