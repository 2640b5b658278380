"""Which staff role may use which part of the console, and the shared query helpers.

Why one place: the shell shows tabs by role and the API refuses the same; keeping the
sets here makes both sides read one rule. ``editor`` (knowledge only) is the role the
knowledge half of the console adds; naming it here costs nothing before it exists.
"""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

from tickets.errors import ApiError, FieldErrors
from tickets.services.prechecks import FieldProblem
from tickets.services.workflow import Actor
from yiwen.console.messages import text

#: Roles that see tickets (统计's ticket half, 导出); a county token only its county.
TICKET_ROLES = frozenset({"admin", "county"})
#: Roles that see citizens' questions (待改进, 统计's question half).
QUESTION_ROLES = frozenset({"admin", "editor"})
#: Longest date range one statistics or export call may cover.
MAX_RANGE_DAYS = 3660


def sees_tickets(actor: Actor) -> bool:
    return actor.role in TICKET_ROLES


def sees_questions(actor: Actor) -> bool:
    return actor.role in QUESTION_ROLES


def require(allowed: bool, actor: Actor) -> None:
    """403 in Chinese (never 404): the caller is known, the feature is not theirs."""
    if not allowed:
        raise ApiError(403, text("errors.forbidden_role", role=actor.role))


def parse_date(name: str, value: str | None) -> dt.date | None:
    """A ``YYYY-MM-DD`` query value, or a Chinese 422 naming the parameter."""
    if value is None or value == "":
        return None
    try:
        if len(value) != 10:
            raise ValueError(value)
        return dt.date.fromisoformat(value)
    except ValueError:
        raise FieldErrors([FieldProblem(name, text("errors.date_invalid"))]) from None


def date_range(first: str | None, last: str | None) -> tuple[dt.date | None, dt.date | None]:
    """Both ends (inclusive, either may be open), checked for order and length."""
    start, end = parse_date("from", first), parse_date("to", last)
    if start and end:
        if start > end:
            raise FieldErrors([FieldProblem("from", text("errors.date_order"))])
        if (end - start).days > MAX_RANGE_DAYS:
            raise FieldErrors(
                [FieldProblem("to", text("errors.range_too_long", days=MAX_RANGE_DAYS))]
            )
    return start, end


def utc_bounds(
    start: dt.date | None, end: dt.date | None, timezone: str
) -> tuple[dt.datetime | None, dt.datetime | None]:
    """Local calendar days as a half-open UTC interval [start 00:00, end+1 00:00)."""
    zone = ZoneInfo(timezone)
    low = dt.datetime.combine(start, dt.time(), zone).astimezone(dt.UTC) if start else None
    high = (
        dt.datetime.combine(end + dt.timedelta(days=1), dt.time(), zone).astimezone(dt.UTC)
        if end
        else None
    )
    return low, high
