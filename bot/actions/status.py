"""Status lookup: lookup code (or LOCAL reference) plus the phone's last 4 digits.

The lookup code is the ticket number plus six random characters (``core.ticket_ref``):
numbers are sequential, so a bare number is not enough and the API answers it like a
wrong code. Whatever the citizen gave, the replies show them the lookup code.

The ticket API checks the digits and throttles repeated failures; a wrong
number and an unknown ticket get the same answer, so nobody can probe other
people's tickets. Failures are counted per conversation (the action server
passes a hash of channel + sender, authenticated by its service token), so one
person's wrong guesses do not lock out everyone else who talks to the bot.

A ``LOCAL-…`` reference goes through the same throttle: it is looked up at the
ticket API first (which knows the reference once the outbox delivered it); only
when the API does not know it does the outbox say whether it is still queued.
"""

from __future__ import annotations

import asyncio
import re
from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.events import EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.forms import FormValidationAction
from rasa_sdk.types import DomainDict

from bot.actions.common import entity_values, is_digression, is_fresh_turn, label, labels
from bot.actions.outbox import Outbox
from bot.actions.parsing.phone import find_phone
from bot.actions.parsing.text import normalise
from bot.actions.ticket_client import (
    TicketNotFound,
    TicketThrottled,
    TicketUnavailable,
    conversation_id,
    get_status_async,
)
from core.places import county_display
from core.ticket_ref import find_ticket_ref, is_local_ref, without_ticket_refs

_LAST4 = re.compile(r"(?<!\d)(\d{4})(?!\d)")
OWN_INTENTS = frozenset({"check_ticket_status"})


def find_last4(text: str | None) -> str | None:
    """The last four phone digits, or the last four of a full phone number."""
    t = normalise(text)
    phone = find_phone(t)
    if phone:
        return phone.last4
    m = _LAST4.search(without_ticket_refs(t))
    return m.group(1) if m else None


class ValidateTicketStatusForm(FormValidationAction):
    def name(self) -> str:
        return "validate_ticket_status_form"

    async def get_extraction_events(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[EventType]:
        requested = tracker.get_slot("requested_slot")
        text = normalise((tracker.latest_message or {}).get("text") or "")
        if not is_fresh_turn(tracker, self.form_name()):
            return []
        # A ticket number or four digits is an answer, whatever the classifier thinks.
        answered = find_ticket_ref(text) or (requested == "phone_last4" and find_last4(text))
        if requested and not answered and is_digression(tracker, OWN_INTENTS):
            return []
        found: dict[str, Any] = {}
        ref = find_ticket_ref(text) or next(
            (find_ticket_ref(normalise(v)) for v in entity_values(tracker, "ticket_no")), None
        )
        if ref:
            found["ticket_no"] = ref
        last4 = find_last4(text)
        if last4 and (requested == "phone_last4" or ref is not None):
            found["phone_last4"] = last4
        if requested in ("ticket_no", "phone_last4") and requested not in found:
            found[requested] = text.strip() or None  # validation explains what is wrong
        return [SlotSet(k, v) for k, v in found.items()]

    def validate_ticket_no(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict[str, Any]:
        ref = find_ticket_ref(normalise(str(value))) if value else None
        if ref is None and value:
            dispatcher.utter_message(response="utter_invalid_ticket_no")
        return {"ticket_no": ref}

    def validate_phone_last4(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict[str, Any]:
        last4 = find_last4(str(value)) if value else None
        if last4 is None and value:
            dispatcher.utter_message(response="utter_invalid_phone_last4")
        return {"phone_last4": last4}


def _status_label(status: str | None) -> str:
    names: dict[str, str] = labels()["status"]
    return names.get(str(status), str(status or label("unknown")))


def _history(data: dict[str, Any]) -> str:
    items = data.get("status_history") or []
    parts = []
    for item in items[-3:]:
        if isinstance(item, dict):
            when = str(item.get("at") or item.get("created_at") or item.get("date") or "")[:10]
            parts.append(f"{when} {_status_label(item.get('status'))}".strip())
    return f"{label('history_prefix')}{label('list_separator').join(parts)}" if parts else ""


def _detail_text(detail: Any) -> str:
    """The server's throttling message, whatever shape its ``detail`` has."""
    if isinstance(detail, str):
        return detail
    if isinstance(detail, dict):
        return str(detail.get("message") or detail.get("detail") or "")
    if isinstance(detail, list):
        return label("list_separator").join(
            str(d.get("message", d)) if isinstance(d, dict) else str(d) for d in detail
        )
    return ""


class ActionCheckTicketStatus(Action):
    def name(self) -> str:
        return "action_check_ticket_status"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[EventType]:
        ref = tracker.get_slot("ticket_no")
        last4 = tracker.get_slot("phone_last4")
        done = [SlotSet("ticket_no", None), SlotSet("phone_last4", None)]
        if not ref or not last4:
            dispatcher.utter_message(response="utter_invalid_ticket_no")
            return done
        conversation = conversation_id(tracker.get_latest_input_channel(), tracker.sender_id)
        is_local = is_local_ref(ref)
        try:
            data = await get_status_async(ref, last4, conversation=conversation)
        except TicketNotFound:
            if not (is_local and await self._queued(dispatcher, ref, last4)):
                dispatcher.utter_message(response="utter_ticket_not_found")
            return done
        except TicketThrottled as exc:
            detail = _detail_text(exc.detail)
            dispatcher.utter_message(response="utter_ticket_throttled", detail=detail)
            return done
        except TicketUnavailable:
            # The API is down: a queued complaint is then still queued; say so, nothing more.
            if not (is_local and await self._queued(dispatcher, ref, last4, pending_only=True)):
                dispatcher.utter_message(response="utter_ticket_service_unavailable")
            return done
        # The domain texts say 编号 {ticket_no}: the citizen is shown their lookup code.
        ticket_no = str(data.get("lookup_code") or data.get("ticket_no") or ref)
        if is_local:
            dispatcher.utter_message(
                response="utter_ticket_local_delivered", local_ref=ref, ticket_no=ticket_no
            )
        dispatcher.utter_message(
            response="utter_ticket_status",
            ticket_no=ticket_no,
            status=_status_label(data.get("status")),
            county_display=county_display(data.get("county")),
            accept_deadline=data.get("accept_deadline") or label("unknown"),
            history=_history(data),
        )
        return done

    @staticmethod
    async def _queued(
        dispatcher: CollectingDispatcher, ref: str, last4: str, pending_only: bool = False
    ) -> bool:
        """Tell the citizen their ``LOCAL-…`` submission is still queued (or was rejected).

        Called only after the ticket API counted the attempt, or could not be reached.
        """
        item = await asyncio.to_thread(Outbox().get, ref)
        if item is None or item.phone_last4 != last4:
            return False
        if item.status == "pending":
            dispatcher.utter_message(response="utter_ticket_pending_local", local_ref=ref)
            return True
        if pending_only:
            return False
        if item.status == "rejected" or not item.ticket_no:
            dispatcher.utter_message(response="utter_ticket_local_rejected", local_ref=ref)
            return True
        return False
