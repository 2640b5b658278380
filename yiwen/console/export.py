"""Ticket export (导出) as CSV or XLSX, with the fields the caller's role may see.

Each column names the roles that may have it, so a role that should see less (a future
read-only role, say) is one edit here. Today admins and county officers see the same
fields in the queue's detail view, so they export the same columns; a county token is
held to its own county by the router. Values are text as staff read them on the page.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any
from zoneinfo import ZoneInfo

from openpyxl import Workbook

from tickets.models import Ticket
from tickets.services.workflow import Actor
from yiwen.console.messages import text

ALL = frozenset({"admin", "county"})


@dataclass(frozen=True)
class Column:
    key: str
    value: Callable[[Ticket, dt.date, ZoneInfo], Any]
    roles: frozenset[str] = ALL

    @property
    def heading(self) -> str:
        return text(f"export.{self.key}")


def _date(value: dt.date | None) -> str:
    return value.isoformat() if value else ""


def _contact(field: str) -> Callable[[Ticket, dt.date, ZoneInfo], Any]:
    def get(t: Ticket, _today: dt.date, _zone: ZoneInfo) -> Any:
        if t.anonymous:
            return text("export.anonymous") if field == "complainant_name" else ""
        return getattr(t, field) or ""

    return get


COLUMNS: tuple[Column, ...] = (
    Column("ticket_no", lambda t, _d, _z: t.ticket_no),
    Column("kind", lambda t, _d, _z: text(f"export.kind_{t.kind}")),
    Column("status", lambda t, _d, _z: t.status),
    Column("county", lambda t, _d, _z: t.county),
    Column(
        "received_at",
        lambda t, _d, z: t.received_at.astimezone(z).strftime("%Y-%m-%d %H:%M"),
    ),
    Column("accept_deadline", lambda t, _d, _z: _date(t.accept_deadline)),
    Column("accepted_date", lambda t, _d, _z: _date(t.accepted_date)),
    Column("mediation_deadline", lambda t, _d, _z: _date(t.mediation_deadline)),
    Column("due_date", lambda t, _d, _z: _date(t.due_date)),
    Column(
        "overdue",
        lambda t, d, _z: text(
            "export.flag_yes" if t.due_date and t.due_date < d else "export.flag_no"
        ),
    ),
    Column("complainant_name", _contact("complainant_name")),
    Column("complainant_phone", _contact("complainant_phone")),
    Column("complainant_address", _contact("complainant_address")),
    Column("respondent_name", lambda t, _d, _z: t.respondent_name or ""),
    Column("respondent_address", lambda t, _d, _z: t.respondent_address or ""),
    Column("product", lambda t, _d, _z: t.product or ""),
    Column("amount", lambda t, _d, _z: str(t.amount) if t.amount is not None else ""),
    Column("demand", lambda t, _d, _z: t.demand or ""),
    Column("facts", lambda t, _d, _z: t.facts),
    Column("channel", lambda t, _d, _z: t.channel or ""),
)


def columns_for(actor: Actor) -> list[Column]:
    return [c for c in COLUMNS if actor.role in c.roles]


def rows(
    tickets: Iterable[Ticket], columns: list[Column], today: dt.date, timezone: str
) -> list[list[Any]]:
    zone = ZoneInfo(timezone)
    return [[c.value(t, today, zone) for c in columns] for t in tickets]


def _safe_cell(value: Any) -> Any:
    """Complaint text is the public's: a leading = + - @ would run as a spreadsheet
    formula when the file is opened, so such text gets a leading apostrophe."""
    if isinstance(value, str) and value[:1] in ("=", "+", "-", "@", "\t", "\r"):
        return "'" + value
    return value


def to_csv(columns: list[Column], data: list[list[Any]]) -> bytes:
    """UTF-8 with a BOM, so Excel opens the Chinese correctly by double-click."""
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow([c.heading for c in columns])
    for row in data:
        writer.writerow([_safe_cell(v) for v in row])
    return ("\ufeff" + buffer.getvalue()).encode("utf-8")


def to_xlsx(columns: list[Column], data: list[list[Any]]) -> bytes:
    book = Workbook()
    sheet = book.active
    sheet.title = text("export.sheet")
    sheet.append([c.heading for c in columns])
    for row in data:
        sheet.append([_safe_cell(v) for v in row])
    sheet.freeze_panes = "A2"
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()
