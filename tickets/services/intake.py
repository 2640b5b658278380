"""Taking in a complaint or report: checks, routing, deadlines, number, idempotency.

Idempotency: the dialogue side retries a submission with the same ``Idempotency-Key``
whenever it is unsure whether it arrived (WeChat retries, timeouts). The key is unique in
the database; a retry with the same content gets the stored ticket back, a reuse with
different content is a client bug and is refused. Concurrent duplicates are settled by the
unique constraint: the loser rolls back and reads the winner's ticket.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import json
import logging
from dataclasses import dataclass
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, selectinload

from core.settings import TicketsSettings
from core.ticket_ref import is_local_ref, new_lookup_secret, split_lookup_code
from tickets.db import Database
from tickets.models import Note, StatusEvent, Ticket
from tickets.schemas import TicketCreate
from tickets.services import numbering, prechecks
from tickets.services.deadlines import ACCEPT_WORKING_DAYS, MEDIATION_WORKING_DAYS, WorkCalendar
from tickets.services.messages import message
from tickets.services.routing import route
from tickets.services.workflow import PROVISIONAL_FLAG

log = logging.getLogger("tickets.intake")
SYSTEM = message("actors.system")

INITIAL_STATUS = "待受理"
FLAG_OVER_3_YEARS = "over_3_years"
FLAG_UNASSIGNED = "unassigned"
FLAG_PROVISIONAL = PROVISIONAL_FLAG


class IdempotencyConflict(Exception):
    """The key was already used for a different submission."""


@dataclass(frozen=True)
class IntakeResult:
    ticket: Ticket
    created: bool


def fingerprint(payload: TicketCreate) -> str:
    """Stable hash of the validated submission, independent of JSON formatting."""
    canonical = json.dumps(
        payload.model_dump(mode="json"), sort_keys=True, ensure_ascii=False, separators=(",", ":")
    )
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()


def local_date(moment: dt.datetime, settings: TicketsSettings) -> dt.date:
    return moment.astimezone(ZoneInfo(settings.timezone)).date()


def _by_key(session: Session, key: str) -> Ticket | None:
    return session.scalars(select(Ticket).where(Ticket.idempotency_key == key)).one_or_none()


def _replay(ticket: Ticket, digest: str) -> IntakeResult:
    if ticket.request_hash != digest:
        raise IdempotencyConflict(ticket.ticket_no)
    return IntakeResult(ticket, created=False)


def build_ticket(
    payload: TicketCreate,
    key: str,
    *,
    now: dt.datetime,
    settings: TicketsSettings,
    calendar: WorkCalendar,
) -> Ticket:
    """A new, unnumbered ticket; raises ``PrecheckFailed`` if required content is missing."""
    received = local_date(now, settings)
    problems = prechecks.missing_fields(payload.model_dump(mode="json"))
    problems += prechecks.date_problems(payload.incident_date, received)
    if problems:
        raise prechecks.PrecheckFailed(problems)

    given = payload.complainant
    anonymous = payload.kind == "report" and (
        payload.is_anonymous or given is None or not (given.name or given.phone)
    )
    complainant = None if anonymous else payload.complainant
    respondent = payload.respondent
    # The hint may be 新会 or 新会区; places.resolve reads it like the assistant does.
    routing = route(
        respondent.address if respondent else None,
        is_platform=bool(respondent and respondent.is_platform),
        hint=payload.county,
    )
    working_days = (
        ACCEPT_WORKING_DAYS if payload.kind == "complaint" else settings.report_triage_working_days
    )
    accept_deadline, provisional = calendar.deadline_after(received, working_days)

    flags: list[str] = []
    warnings: list[str] = []
    notes: list[Note] = []
    if not routing.assigned:
        flags.append(FLAG_UNASSIGNED)
        warnings.append(message("warnings.unassigned"))
    if prechecks.over_three_years(payload.incident_date, received):
        flags.append(FLAG_OVER_3_YEARS)
        warnings.append(message("warnings.over_3_years"))
        notes.append(Note(at=now, author=SYSTEM, text=message("warnings.over_3_years")))
    if provisional:
        flags.append(FLAG_PROVISIONAL)
        years = [
            y for y in range(received.year, accept_deadline.year + 1) if not calendar.covers(y)
        ]
        warnings.append(message("warnings.provisional", years="、".join(map(str, years))))
    if payload.proxy:
        warnings.append(message("warnings.proxy"))
    if routing.note:
        notes.append(Note(at=now, author=SYSTEM, text=routing.note))

    return Ticket(
        kind=payload.kind,
        status=INITIAL_STATUS,
        complainant_name=complainant.name if complainant else None,
        complainant_phone=complainant.phone if complainant else None,
        complainant_address=complainant.address if complainant else None,
        anonymous=anonymous,
        proxy_filing=payload.proxy,
        respondent_name=respondent.name if respondent else None,
        respondent_address=respondent.address if respondent else None,
        respondent_is_platform=bool(respondent and respondent.is_platform),
        county=routing.county,
        county_hint=payload.county,
        routing_note=routing.note,
        incident_date=payload.incident_date,
        amount=payload.amount,
        product=payload.product,
        order_no=payload.order_no,
        demand=payload.demand,
        demand_detail=payload.demand_detail,
        facts=payload.facts or "",
        evidence=list(payload.evidence),
        consent_share_contact=payload.consent_share_contact,
        flags=flags,
        warnings=warnings,
        channel=payload.channel,
        sender_id=payload.sender_id,
        local_ref=payload.local_ref,
        lookup_secret=new_lookup_secret(),
        idempotency_key=key,
        request_hash=fingerprint(payload),
        received_at=now,
        received_date=received,
        accept_deadline=accept_deadline,
        deadline_provisional=provisional,
        due_date=accept_deadline,
        created_at=now,
        updated_at=now,
        history=[StatusEvent(status=INITIAL_STATUS, at=now, actor=SYSTEM, reason=None)],
        notes=notes,
    )


def submit(
    db: Database,
    payload: TicketCreate,
    key: str,
    *,
    now: dt.datetime,
    settings: TicketsSettings,
    calendar: WorkCalendar,
) -> IntakeResult:
    """Store a submission once per idempotency key; see the module docstring."""
    digest = fingerprint(payload)
    ticket = build_ticket(payload, key, now=now, settings=settings, calendar=calendar)
    try:
        with db.writing() as session:
            # The write transaction is kept short: everything above ran outside it.
            ticket.ticket_no = numbering.allocate_ticket_no(session, ticket.received_date.year)
            session.add(ticket)
            session.flush()
    except IntegrityError:
        # The key is taken (a retry, or a concurrent duplicate that committed first): the
        # unique constraint refused our copy and rolled back our number; answer with the
        # stored ticket. Retries are rare, so this beats looking the key up every time.
        with db.reading() as session:
            existing = _by_key(session, key)
        if existing is None:
            raise
        return _replay(existing, digest)
    log.info(
        "ticket %s created: kind=%s county=%s respondent_address=%s",
        ticket.ticket_no,
        ticket.kind,
        ticket.county,
        ticket.respondent_address,
    )
    return IntakeResult(ticket, created=True)


def load_ticket(session: Session, ticket_no: str) -> Ticket | None:
    """The ticket with history and notes loaded, or None."""
    return session.scalars(
        select(Ticket)
        .where(Ticket.ticket_no == ticket_no.upper())
        .options(selectinload(Ticket.history), selectinload(Ticket.notes))
    ).one_or_none()


def load_ticket_by_ref(session: Session, ref: str) -> Ticket | None:
    """The citizen's look-up: a ticket by its lookup code, or by the outbox's ``LOCAL-…``
    reference it was filed under (random already). A bare number, or a code with the wrong
    secret, finds nothing: the numbers are sequential, so they alone must not be enough."""
    if not is_local_ref(ref):
        ticket_no, secret = split_lookup_code(ref)
        ticket = load_ticket(session, ticket_no)
        if ticket is None or not hmac.compare_digest(
            ticket.lookup_secret.encode(), (secret or "").encode()
        ):
            return None
        return ticket
    return session.scalars(
        select(Ticket)
        .where(Ticket.local_ref == ref.upper())
        .options(selectinload(Ticket.history), selectinload(Ticket.notes))
        .limit(1)
    ).one_or_none()


def recompute_provisional(
    db: Database, calendar: WorkCalendar, settings: TicketsSettings
) -> list[str]:
    """Recompute every provisional deadline the calendar can now settle.

    Run at start-up and by ``python -m tickets.cli deadlines recompute`` after a year
    was added to ``holidays.yml``. Returns the ticket numbers whose deadlines changed
    or stopped being provisional.
    """
    changed: list[str] = []
    with db.writing() as session:
        tickets = session.scalars(select(Ticket).where(Ticket.deadline_provisional)).all()
        for ticket in tickets:
            working_days = (
                ACCEPT_WORKING_DAYS
                if ticket.kind == "complaint"
                else settings.report_triage_working_days
            )
            accept, accept_prov = calendar.deadline_after(ticket.received_date, working_days)
            mediation, mediation_prov = ticket.mediation_deadline, False
            if ticket.accepted_date is not None and ticket.mediation_deadline is not None:
                mediation, mediation_prov = calendar.deadline_after(
                    ticket.accepted_date, MEDIATION_WORKING_DAYS
                )
            # Once accepted, only the mediation deadline still matters.
            provisional = mediation_prov if ticket.accepted_date else accept_prov
            if (accept, mediation, provisional) == (
                ticket.accept_deadline,
                ticket.mediation_deadline,
                ticket.deadline_provisional,
            ):
                continue
            if ticket.due_date == ticket.accept_deadline:
                ticket.due_date = accept
            elif ticket.due_date is not None and ticket.due_date == ticket.mediation_deadline:
                ticket.due_date = mediation
            ticket.accept_deadline = accept
            ticket.mediation_deadline = mediation
            ticket.deadline_provisional = provisional
            if not provisional and FLAG_PROVISIONAL in ticket.flags:
                ticket.flags = [f for f in ticket.flags if f != FLAG_PROVISIONAL]
            changed.append(ticket.ticket_no)
    if changed:
        log.info("recomputed provisional deadlines of %d tickets", len(changed))
    return changed
