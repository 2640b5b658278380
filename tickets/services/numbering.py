"""Ticket numbers (JM2026-000123, formatted by ``core.ticket_ref``): unique per year,
gap-free and race-free.

One counter row per year is bumped with a single ``INSERT … ON CONFLICT DO UPDATE …
RETURNING`` inside the transaction that stores the ticket. On PostgreSQL the row lock taken
by the update serialises concurrent writers until commit; on SQLite the write transaction
already holds the database lock (``BEGIN IMMEDIATE``). A transaction that rolls back gives
its number back, so numbers have no gaps.
"""

from __future__ import annotations

from functools import lru_cache
from typing import Any

from sqlalchemy import bindparam
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session
from sqlalchemy.sql.dml import ReturningInsert

from core.ticket_ref import format_ticket_no
from tickets.models import TicketCounter


@lru_cache(maxsize=4)
def _bump_statement(dialect: str) -> ReturningInsert[Any]:
    """``INSERT … ON CONFLICT (year) DO UPDATE SET last_seq = last_seq + 1 RETURNING``."""
    values = {"year": bindparam("year"), "last_seq": 1}
    bump = {"last_seq": TicketCounter.last_seq + 1}
    if dialect == "postgresql":
        pg = postgresql.insert(TicketCounter).values(values)
        return pg.on_conflict_do_update(index_elements=[TicketCounter.year], set_=bump).returning(
            TicketCounter.last_seq
        )
    if dialect == "sqlite":
        lite = sqlite.insert(TicketCounter).values(values)
        return lite.on_conflict_do_update(index_elements=[TicketCounter.year], set_=bump).returning(
            TicketCounter.last_seq
        )
    raise NotImplementedError(f"ticket numbering is not implemented for {dialect}")


def next_seq(session: Session, year: int) -> int:
    """Reserve the next sequence number of ``year`` in the session's transaction."""
    stmt = _bump_statement(session.get_bind().dialect.name)
    seq: int = session.execute(stmt, {"year": year}).scalar_one()
    return seq


def allocate_ticket_no(session: Session, year: int) -> str:
    return format_ticket_no(year, next_seq(session, year))
