"""A ticket received in late December 2026 (the 2027 schedule is unknown) is stored with a
provisional deadline and settled once the operator adds 2027 to holidays.yml."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select

from core.settings import TicketsSettings
from tests.tickets.helpers import Server, complaint, new_key
from tickets.models import Ticket
from tickets.schemas import TicketCreate
from tickets.services.deadlines import WorkCalendar
from tickets.services.intake import load_ticket, recompute_provisional, submit
from tickets.services.workflow import Actor, transition
from tickets.settings import PACKAGE_DIR

pytestmark = pytest.mark.slow

CHRISTMAS_EVE_2026 = dt.datetime(2026, 12, 24, 10, 0, tzinfo=ZoneInfo("Asia/Shanghai"))


def test_late_december_ticket_is_provisional_then_recomputed(
    server: Server, tmp_path: Path
) -> None:
    settings = TicketsSettings(database_url=server.database_url)
    payload = TicketCreate.model_validate(complaint(incident_date="2026-12-20"))
    result = submit(
        server.db,
        payload,
        new_key(),
        now=CHRISTMAS_EVE_2026,
        settings=settings,
        calendar=WorkCalendar.from_file(PACKAGE_DIR / "holidays.yml"),
    )
    ticket = result.ticket
    assert result.created and ticket.ticket_no.startswith("JM2026-")
    # Weekends only: 25, 28, 29, 30, 31 Dec, Fri 1 Jan, Mon 4 Jan.
    assert ticket.accept_deadline == dt.date(2027, 1, 4)
    assert ticket.deadline_provisional and "deadline_provisional" in ticket.flags
    assert any("2027" in warning and "暂按" in warning for warning in ticket.warnings)

    holidays = tmp_path / "holidays.yml"
    holidays.write_text(
        "years:\n  2027:\n    holidays: [2027-01-01]\n    workdays: []\n", encoding="utf-8"
    )
    changed = recompute_provisional(server.db, WorkCalendar.from_file(holidays), settings)
    assert ticket.ticket_no in changed
    with server.db.reading() as session:
        settled = load_ticket(session, ticket.ticket_no)
        assert settled is not None
        # 1 Jan is now a holiday: the seventh working day moves to Tue 5 Jan.
        assert settled.accept_deadline == dt.date(2027, 1, 5)
        assert settled.due_date == dt.date(2027, 1, 5)
        assert not settled.deadline_provisional
        assert "deadline_provisional" not in settled.flags
    # Nothing left to settle: a second run changes nothing.
    assert ticket.ticket_no not in recompute_provisional(
        server.db, WorkCalendar.from_file(holidays), settings
    )
    with server.db.reading() as session:
        still_provisional = session.scalars(
            select(Ticket.ticket_no).where(Ticket.deadline_provisional)
        ).all()
    assert ticket.ticket_no not in still_provisional


def test_acceptance_in_december_gives_provisional_mediation_deadline() -> None:
    ticket = Ticket(
        kind="complaint",
        status="待受理",
        county="新会区",
        flags=[],
        accept_deadline=dt.date(2026, 12, 9),
        deadline_provisional=False,
        history=[],
        notes=[],
    )
    actor = Actor(name="officer", role="county", county="新会区")
    calendar = WorkCalendar.from_file(PACKAGE_DIR / "holidays.yml")
    now = dt.datetime(2026, 12, 1, 2, 0, tzinfo=dt.UTC)
    transition(
        ticket, "受理", None, actor=actor, today=dt.date(2026, 12, 1), now=now, calendar=calendar
    )
    # 22 working days are left in December 2026; the other 23 fall in unknown 2027.
    assert ticket.mediation_deadline is not None and ticket.mediation_deadline.year == 2027
    assert ticket.deadline_provisional and "deadline_provisional" in ticket.flags
    assert ticket.due_date == ticket.mediation_deadline
    assert [e.status for e in ticket.history] == ["已受理"]
