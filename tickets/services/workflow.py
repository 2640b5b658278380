"""The ticket state machine and the staff actions that move tickets through it.

Complaints (投诉) follow the mediation procedure of the regulation: accept or refuse
(Art. 14, 15), mediate (Art. 16), mediation succeeds or ends (Art. 21), then close.
Reports (举报) follow the enforcement procedure instead, so the mediation steps do not
apply to them. Anything else is refused as a conflict, with the allowed actions named.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from core.places import UNASSIGNED
from tickets.models import Note, StatusEvent, Ticket
from tickets.services.deadlines import MEDIATION_WORKING_DAYS, WorkCalendar
from tickets.services.messages import message

#: status → action → new status
TRANSITIONS: dict[str, dict[str, str]] = {
    "待受理": {"受理": "已受理", "不予受理": "不予受理"},
    "已受理": {"调解中": "调解中", "调解终止": "调解终止", "办结": "办结"},
    "调解中": {"调解成功": "调解成功", "调解终止": "调解终止"},
    "调解成功": {"办结": "办结"},
    "调解终止": {"办结": "办结"},
    "不予受理": {},
    "办结": {},
}
MEDIATION_ACTIONS = frozenset({"调解中", "调解成功", "调解终止"})
#: Refusing (Art. 15) and ending mediation (Art. 21) must be explained to the citizen.
REASON_REQUIRED = frozenset({"不予受理", "调解终止"})
FINAL = frozenset(s for s, moves in TRANSITIONS.items() if not moves)
PROVISIONAL_FLAG = "deadline_provisional"


class TransitionRefused(Exception):
    """The action is not possible now; ``str(exc)`` is the Chinese explanation."""


class ReasonMissing(Exception):
    """The action needs a reason; ``str(exc)`` is the Chinese explanation."""


def allowed_actions(ticket: Ticket) -> list[str]:
    moves = TRANSITIONS.get(ticket.status, {})
    if ticket.kind == "report":
        return [a for a in moves if a not in MEDIATION_ACTIONS]
    return list(moves)


@dataclass(frozen=True)
class Actor:
    """Who acts, as recorded in history, notes and the audit log."""

    name: str
    role: str
    county: str | None

    @property
    def is_admin(self) -> bool:
        return self.role == "admin"

    @property
    def label(self) -> str:
        where = self.county or message("actors.editor" if self.role == "editor" else "actors.admin")
        return f"{self.name}（{where}）"[:80]


def transition(
    ticket: Ticket,
    action: str,
    reason: str | None,
    *,
    actor: Actor,
    today: dt.date,
    now: dt.datetime,
    calendar: WorkCalendar,
) -> None:
    """Apply ``action`` to ``ticket`` in place, or raise why it cannot happen."""
    allowed = allowed_actions(ticket)
    if action not in allowed:
        if ticket.status in FINAL:
            raise TransitionRefused(message("errors.transition_final", status=ticket.status))
        raise TransitionRefused(
            message(
                "errors.transition_invalid",
                status=ticket.status,
                action=action,
                allowed="、".join(allowed) or "无",
            )
        )
    if action in REASON_REQUIRED and not (reason and reason.strip()):
        raise ReasonMissing(message("errors.reason_required", action=action))
    if action == "受理" and ticket.county == UNASSIGNED:
        raise TransitionRefused(message("errors.needs_county"))

    new_status = TRANSITIONS[ticket.status][action]
    if action == "受理":
        ticket.accepted_date = today
        provisional = False
        if ticket.kind == "complaint":
            deadline, provisional = calendar.deadline_after(today, MEDIATION_WORKING_DAYS)
            ticket.mediation_deadline = deadline
            ticket.due_date = deadline
        else:
            ticket.due_date = None
        # From here on only the mediation deadline counts, provisional or not.
        ticket.deadline_provisional = provisional
        flags = [f for f in ticket.flags if f != PROVISIONAL_FLAG]
        ticket.flags = [*flags, PROVISIONAL_FLAG] if provisional else flags
    elif new_status in ("调解中",):
        ticket.due_date = ticket.mediation_deadline
    else:
        ticket.due_date = None
    ticket.status = new_status
    ticket.updated_at = now
    ticket.history.append(StatusEvent(status=new_status, at=now, actor=actor.label, reason=reason))


def assign(
    ticket: Ticket, county: str, reason: str | None, *, actor: Actor, now: dt.datetime
) -> None:
    """Move a ticket to a county (admin) or hand it back to 待分派 (its county's officer)."""
    if ticket.status in FINAL:
        raise TransitionRefused(message("errors.assign_closed"))
    if not actor.is_admin and (county != UNASSIGNED or not (reason and reason.strip())):
        raise TransitionRefused(message("errors.assign_forbidden"))
    previous = ticket.county
    ticket.county = county
    ticket.updated_at = now
    if county != UNASSIGNED and "unassigned" in ticket.flags:
        ticket.flags = [f for f in ticket.flags if f != "unassigned"]
    text = message("notes.assigned", previous=previous, county=county)
    if reason:
        text += message("notes.reason", reason=reason)
    ticket.notes.append(Note(at=now, author=actor.label, text=text[:2000]))
