"""Staff bearer tokens: issued once, stored only as SHA-256 digests.

Tokens are 256-bit random values, so a fast hash is enough: there is nothing to
brute-force that a slow hash would protect. Lookup is by digest, so comparing secrets in
constant time is not needed either.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import secrets
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from core.places import COUNTIES
from core.settings import TicketsSettings
from tickets.models import AuditEntry, StaffToken
from tickets.services.workflow import Actor

ROLES = ("county", "admin", "editor")
#: Who may use the ticket queue and who may edit the knowledge (documents, FAQ).
TICKET_ROLES = ("county", "admin")
KNOWLEDGE_ROLES = ("editor", "admin")


def digest(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def issue_token(
    session: Session, *, role: str, county: str | None, name: str, now: dt.datetime
) -> tuple[StaffToken, str]:
    """Create a token; returns the row and the secret, which is never stored."""
    if role not in ROLES:
        raise ValueError(f"role must be one of {ROLES}")
    if role == "county" and county not in COUNTIES:
        raise ValueError(f"a county token needs --county, one of {'、'.join(COUNTIES)}")
    if role in ("admin", "editor") and county is not None:
        raise ValueError(f"an {role} token is not bound to a county; leave out --county")
    secret = "yw_" + secrets.token_urlsafe(32)
    row = StaffToken(
        token_sha256=digest(secret),
        role=role,
        county=county,
        name=name[:64],
        created_at=now,
        revoked_at=None,
    )
    session.add(row)
    session.flush()
    return row, secret


def check_static_tokens(settings: TicketsSettings) -> None:
    """Refuse ``YIWEN_STAFF_TOKENS`` entries bound to a county Jiangmen does not have.

    Checked here, at start, because the county list belongs to the ticket service;
    ``core.settings`` checks the rest of each entry when it reads the variable.
    """
    for static in settings.staff_tokens:
        if static.county is not None and static.county not in COUNTIES:
            raise ValueError(
                f"YIWEN_STAFF_TOKENS: token {static.name!r} names county {static.county!r}; "
                f"use one of {'、'.join(COUNTIES)}"
            )


def authenticate(session: Session, token: str, settings: TicketsSettings) -> Actor | None:
    """The staff member holding ``token``, or None."""
    hashed = digest(token)
    for static in settings.staff_tokens:
        if secrets.compare_digest(static.sha256, hashed):
            return Actor(name=static.name, role=static.role, county=static.county)
    row = session.scalars(
        select(StaffToken).where(StaffToken.token_sha256 == hashed, StaffToken.revoked_at.is_(None))
    ).one_or_none()
    if row is None:
        return None
    return Actor(name=f"{row.name}#{row.id}", role=row.role, county=row.county)


def audit(
    session: Session,
    actor: Actor,
    action: str,
    *,
    now: dt.datetime,
    ticket_no: str | None = None,
    client_ip: str | None = None,
    detail: dict[str, Any] | None = None,
    entity: str | None = None,
    entity_id: str | None = None,
) -> None:
    """Record one staff read or write in the session's transaction.

    Knowledge changes pass ``entity``/``entity_id`` and ``detail={"before", "after"}``.
    """
    session.add(
        AuditEntry(
            at=now,
            actor=actor.label,
            role=actor.role,
            action=action,
            ticket_no=ticket_no,
            entity=entity,
            entity_id=entity_id,
            detail=detail or {},
            client_ip=client_ip,
        )
    )
