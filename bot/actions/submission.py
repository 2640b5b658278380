"""Submit a finished complaint or report to the ticket API without ever losing it.

Order matters: the payload is written to the durable outbox *first*, then
POSTed with its idempotency key. Success → the citizen gets the ticket number.
Network trouble → the outbox keeps it, the retry worker delivers it later, and
the citizen gets a ``LOCAL-…`` reference that status lookup resolves. A 422
names the fields to fix: those slots are cleared and the form reopens.
"""

from __future__ import annotations

import asyncio
import logging
import uuid
from abc import ABC, abstractmethod
from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.events import ActiveLoop, EventType, FollowupAction, SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from bot.actions.common import AMOUNT_NONE, field_label, label
from bot.actions.intake import county_summary
from bot.actions.outbox import Outbox
from bot.actions.parsing.phone import find_phone
from bot.actions.ticket_client import (
    TicketConflict,
    TicketReceipt,
    TicketRejected,
    TicketThrottled,
    TicketUnavailable,
    create_ticket_async,
)
from core import metrics
from core.places import COUNTIES, county_display

logger = logging.getLogger(__name__)

# Every slot the two forms fill; all are cleared after a submission or a cancel.
FORM_SLOTS = (
    "respondent_name",
    "respondent_address",
    "respondent_is_platform",
    "county",
    "product",
    "incident_date",
    "incident_date_display",
    "amount",
    "facts",
    "demand",
    "demands",
    "demand_detail",
    "complainant_name",
    "complainant_phone",
    "complainant_address",
    "evidence",
    "consent_share_contact",
    "complaint_confirmed",
    "anonymous",
    "report_confirmed",
    "ticket_no",
    "phone_last4",
)

# Ticket API field path → form slot, for 422 answers.
API_FIELD_TO_SLOT = {
    "complainant.name": "complainant_name",
    "complainant.phone": "complainant_phone",
    "complainant.address": "complainant_address",
    "respondent.name": "respondent_name",
    "respondent.address": "respondent_address",
    "county": "county",
    "incident_date": "incident_date",
    "amount": "amount",
    "product": "product",
    "demand": "demand",
    "demand_detail": "demand",
    "facts": "facts",
    "evidence": "evidence",
}


def reset_form_slots() -> list[EventType]:
    return [SlotSet(slot, None) for slot in FORM_SLOTS]


def _county_value(county: str | None) -> str | None:
    return county if county in COUNTIES else None


def demand_detail(slots: dict[str, Any]) -> str | None:
    """The ticket's ``demand_detail``: every demand when there are several, then the words.

    The API takes one ``demand`` category (tickets/schemas.py); the primary goes
    there and the full list (退款、赔偿) leads the free-text detail, so staff see
    every demand without a schema change.
    """
    demands = [str(d) for d in slots.get("demands") or [] if d]
    parts: list[str] = []
    if len(demands) > 1:
        parts.append(label("all_demands", demands=label("list_separator").join(demands)))
    if slots.get("demand_detail"):
        parts.append(str(slots["demand_detail"]))
    return label("clause_separator").join(parts)[:1000] or None


def build_payload(tracker: Tracker, kind: str) -> dict[str, Any]:
    """The ticket API's JSON body from the form slots (contract in tickets/)."""
    slots = tracker.slots
    anonymous = kind == "report" and bool(slots.get("anonymous"))
    amount = slots.get("amount")
    incident_date = slots.get("incident_date")
    channel = (tracker.get_latest_input_channel() or "unknown") if tracker.events else "unknown"
    payload: dict[str, Any] = {
        "kind": kind,
        "complainant": {
            "name": None if anonymous else slots.get("complainant_name"),
            "phone": None if anonymous else slots.get("complainant_phone"),
            "address": None if anonymous else slots.get("complainant_address"),
        },
        "anonymous": anonymous,
        "respondent": {
            "name": slots.get("respondent_name"),
            "address": slots.get("respondent_address"),
            "is_platform": bool(slots.get("respondent_is_platform")),
        },
        "county": _county_value(slots.get("county")),
        "incident_date": incident_date if incident_date not in (None, "unknown") else None,
        "amount": amount if amount not in (None, AMOUNT_NONE) else None,
        "product": slots.get("product"),
        "demand": slots.get("demand") if kind == "complaint" else None,
        "demand_detail": demand_detail(slots) if kind == "complaint" else None,
        "facts": slots.get("facts") or "",
        "evidence": list(slots.get("evidence") or []),
        "consent_share_contact": bool(slots.get("consent_share_contact"))
        if kind == "complaint"
        else False,
        "channel": channel,
        "sender_id": tracker.sender_id,
        "local_ref": None,
    }
    return payload


def _phone_last4(payload: dict[str, Any]) -> str | None:
    phone = find_phone(payload["complainant"].get("phone") or "")
    return phone.last4 if phone else None


def _problems(detail: list[dict[str, str]]) -> tuple[str, list[str]]:
    """Human list of rejected fields and the slots to reopen."""
    slots: list[str] = []
    parts: list[str] = []
    for item in detail:
        api_field = str(item.get("field", "")).removeprefix("body.")
        slot = API_FIELD_TO_SLOT.get(api_field)
        if slot and slot not in slots:
            slots.append(slot)
        name = field_label(slot) if slot else api_field
        message = item.get("message") or ""
        parts.append(f"{name}（{message}）" if message else name)
    return label("list_separator").join(parts), slots


#: Namespace of the submissions' idempotency keys (uuid5).
_SUBMISSION_NS = uuid.UUID("5b0f3c0e-7a55-4c1e-9a57-0d6b1f3e2a10")


def submission_key(tracker: Tracker, form: str) -> str | None:
    """One key per submitted form run, the same when the turn runs again.

    With several Rasa replicas, a replica killed after the submit action started leaves
    the turn unsaved; nginx hands the message to another replica, which runs the submit
    action again from the same saved tracker. Both runs must post under one key. The
    basis is the form's activation (its ``active_loop`` event, saved turns ago, so both
    runs see the same timestamp), or the client's own ``metadata.idempotency_key`` when
    it sent one with a retried message.
    """
    meta = (tracker.latest_message or {}).get("metadata") or {}
    client = meta.get("idempotency_key") if isinstance(meta, dict) else None
    if isinstance(client, str) and client.strip():
        basis = f"{tracker.sender_id}|client|{client.strip()[:128]}"
    else:
        started = next(
            (
                e.get("timestamp")
                for e in reversed(tracker.events)
                if e.get("event") == "active_loop" and e.get("name") == form
            ),
            None,
        )
        if started is None:  # no form run to name (a tracker made by hand): no key
            return None
        basis = f"{tracker.sender_id}|{form}|{started}"
    return str(uuid.uuid5(_SUBMISSION_NS, basis))


class _SubmitAction(Action, ABC):
    kind = "complaint"
    form = "complaint_form"
    confirm_slot = "complaint_confirmed"
    submitted_response = "utter_complaint_submitted"

    @abstractmethod
    def name(self) -> str:
        """Abstract so the action server registers only the concrete submit actions."""

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[EventType]:
        payload = build_payload(tracker, self.kind)
        outbox = Outbox()
        item = await asyncio.to_thread(
            outbox.add,
            payload,
            self.kind,
            phone_last4=_phone_last4(payload),
            idempotency_key=submission_key(tracker, self.form),
        )
        try:
            created = await create_ticket_async(item.payload, item.idempotency_key)
        except TicketRejected as exc:
            metrics.TICKETS_SUBMITTED.labels(kind=self.kind, outcome="rejected").inc()
            await asyncio.to_thread(outbox.mark_rejected, item.local_ref, exc.detail)
            return self._reopen(dispatcher, exc.field_errors)
        except (TicketUnavailable, TicketThrottled, TicketConflict) as exc:
            # Queued: the worker retries, or flags it for staff if retrying cannot help.
            logger.warning("ticket API unavailable, %s queued: %s", item.local_ref, exc)
            metrics.TICKETS_SUBMITTED.labels(kind=self.kind, outcome="queued").inc()
            await asyncio.to_thread(outbox.mark_failed, item.local_ref, str(exc))
            dispatcher.utter_message(response="utter_submission_queued", local_ref=item.local_ref)
            return [*reset_form_slots(), SlotSet("last_ticket_ref", item.local_ref)]
        await asyncio.to_thread(outbox.mark_delivered, item.local_ref, created)
        metrics.TICKETS_SUBMITTED.labels(kind=self.kind, outcome="filed").inc()
        self._announce(dispatcher, created, tracker)
        return [*reset_form_slots(), SlotSet("last_ticket_ref", created.citizen_ref)]

    def _announce(
        self, dispatcher: CollectingDispatcher, created: TicketReceipt, tracker: Tracker
    ) -> None:
        dispatcher.utter_message(
            response=self.submitted_response,
            # The domain text says 编号 {ticket_no}: the citizen gets the lookup code.
            ticket_no=created.citizen_ref,
            county_display=county_display(created.county)
            if created.county
            else county_summary(tracker.slots),
            accept_deadline=created.accept_deadline or label("unknown"),
        )
        if created.deadline_provisional and created.accept_deadline:
            dispatcher.utter_message(
                response="utter_deadline_provisional", accept_deadline=created.accept_deadline
            )
        warnings = [
            w.get("message", str(w)) if isinstance(w, dict) else str(w) for w in created.warnings
        ]
        if warnings:
            dispatcher.utter_message(
                response="utter_ticket_warnings", warnings=label("list_separator").join(warnings)
            )

    def _reopen(
        self, dispatcher: CollectingDispatcher, detail: list[dict[str, str]]
    ) -> list[EventType]:
        """422: say what is wrong, clear those slots, and run the form again."""
        problems, slots = _problems(detail)
        dispatcher.utter_message(response="utter_submission_rejected", problems=problems)
        events: list[EventType] = [SlotSet(slot, None) for slot in slots]
        events += [
            SlotSet(self.confirm_slot, None),
            ActiveLoop(self.form),
            FollowupAction(self.form),
        ]
        return events


class ActionSubmitComplaint(_SubmitAction):
    def name(self) -> str:
        return "action_submit_complaint"


class ActionSubmitReport(_SubmitAction):
    kind = "report"
    form = "report_form"
    confirm_slot = "report_confirmed"
    submitted_response = "utter_report_submitted"

    def name(self) -> str:
        return "action_submit_report"


class ActionCancelForm(Action):
    """取消: forget everything typed into the form (the loop is already deactivated)."""

    def name(self) -> str:
        return "action_cancel_form"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[EventType]:
        dispatcher.utter_message(response="utter_form_cancelled")
        return [*reset_form_slots(), SlotSet("requested_slot", None)]
