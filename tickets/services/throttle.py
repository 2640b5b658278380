"""Throttle failed citizen look-ups per client IP and per ticket number.

A ticket is protected only by four digits of a phone number, so guessing must be slow.
Failures are stored in the database, which every worker process shares; after
``max_failures`` within ``window`` either scope is blocked until its oldest failure
leaves the window. A blocked scope is refused even with the right phone, otherwise the
block would not slow guessing down.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from tickets.models import LookupFailure


def scopes(client_ip: str | None, ticket_no: str) -> list[str]:
    return [f"ip:{client_ip or 'unknown'}"[:80], f"ticket:{ticket_no.upper()}"[:80]]


def blocked_until(
    session: Session, keys: list[str], *, now: dt.datetime, window: dt.timedelta, max_failures: int
) -> dt.datetime | None:
    """When the most constrained scope frees up, or None if no scope is blocked."""
    since = now - window
    until: dt.datetime | None = None
    for key in keys:
        rows = session.scalars(
            select(LookupFailure.at)
            .where(LookupFailure.scope == key, LookupFailure.at > since)
            .order_by(LookupFailure.at.desc())
            .limit(max_failures)
        ).all()
        if len(rows) >= max_failures:
            # Free again when the failure that fills the limit ages out of the window.
            free_at = rows[max_failures - 1] + window
            until = free_at if until is None else max(until, free_at)
    return until


def record_failure(
    session: Session, keys: list[str], *, now: dt.datetime, window: dt.timedelta
) -> None:
    """Count one failure against each scope and forget failures older than the window."""
    session.add_all(LookupFailure(scope=key, at=now) for key in keys)
    # Purge everything that left the window, not only these scopes: guessed ticket
    # numbers are never seen again, and their rows must not pile up.
    session.execute(delete(LookupFailure).where(LookupFailure.at < now - window))
