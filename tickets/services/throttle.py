"""Throttle failed citizen look-ups per caller and per ticket number.

A ticket is protected only by four digits of a phone number, so guessing must be slow.
Attempts are stored in the database, which every worker process shares; after
``max_failures`` within ``window`` either scope is blocked until its oldest counted
failure leaves the window. A blocked scope is refused even with the right phone,
otherwise the block would not slow guessing down.

**Who the caller is.** A look-up made by the action server for a conversation is
counted per conversation (a hash of channel + sender that the authenticated action
server passes): every bot look-up comes from 127.0.0.1, and one shared bucket would let
one person's wrong guesses lock every citizen out. Anyone else is counted per client
address; IPv6 clients per /64, the block a single subscriber usually gets.

**Reserve, then check.** Each attempt first *commits* a row for each of its scopes, then
counts the rows in the window. Checking first and recording afterwards let a concurrent
burst slip through before any failure was written (about 40 guesses instead of 5).
Now the attempt whose commit comes k-th sees at least k - 1 earlier rows, so at most
``max_failures`` attempts of any burst get an answer. A successful look-up and a refused
(429) attempt release their rows: only wrong guesses count.
"""

from __future__ import annotations

import datetime as dt
import ipaddress

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from tickets.models import LookupFailure

IPV6_PREFIX = 64


def client_group(client_ip: str | None) -> str:
    """The address a throttle counts: IPv4 as is, IPv6 as its /64 (mapped IPv4 unwrapped)."""
    if not client_ip:
        return "unknown"
    try:
        address = ipaddress.ip_address(client_ip.strip())
    except ValueError:
        return client_ip.strip()[:64] or "unknown"
    if isinstance(address, ipaddress.IPv6Address):
        if address.ipv4_mapped is not None:
            return str(address.ipv4_mapped)
        return str(ipaddress.IPv6Network(f"{address}/{IPV6_PREFIX}", strict=False))
    return str(address)


def scopes(client_ip: str | None, ticket_no: str, conversation: str | None = None) -> list[str]:
    """The caller's scope (conversation, else address) and the ticket's."""
    caller = f"conv:{conversation}" if conversation else f"ip:{client_group(client_ip)}"
    return [caller[:80], f"ticket:{ticket_no.upper()}"[:80]]


def reserve(
    session: Session, keys: list[str], *, now: dt.datetime, window: dt.timedelta
) -> list[int]:
    """Record one attempt against each scope (commit it before ``blocked_until``).

    Also forgets attempts older than the window, for every scope: guessed ticket numbers
    are never seen again, and their rows must not pile up.
    """
    session.execute(delete(LookupFailure).where(LookupFailure.at < now - window))
    rows = [LookupFailure(scope=key, at=now) for key in keys]
    session.add_all(rows)
    session.flush()
    return [row.id for row in rows]


def blocked_until(
    session: Session,
    keys: list[str],
    *,
    now: dt.datetime,
    window: dt.timedelta,
    max_failures: int,
    exclude: list[int] | None = None,
) -> dt.datetime | None:
    """When the most constrained scope frees up, or None if no scope is blocked.

    ``exclude`` names the caller's own reservation: a scope is blocked when the *other*
    attempts in the window already reach ``max_failures``.
    """
    since = now - window
    until: dt.datetime | None = None
    for key in keys:
        query = (
            select(LookupFailure.at)
            .where(LookupFailure.scope == key, LookupFailure.at > since)
            .order_by(LookupFailure.at.desc())
            .limit(max_failures)
        )
        if exclude:
            query = query.where(LookupFailure.id.not_in(exclude))
        rows = session.scalars(query).all()
        if len(rows) >= max_failures:
            # Free again when the failure that fills the limit ages out of the window.
            free_at = rows[max_failures - 1] + window
            until = free_at if until is None else max(until, free_at)
    return until


def release(session: Session, ids: list[int]) -> None:
    """Forget a reservation: the look-up succeeded, or it was refused before answering."""
    if ids:
        session.execute(delete(LookupFailure).where(LookupFailure.id.in_(ids)))
