"""Numbers for the console's 统计 page, straight from the database.

Questions come from the question log (``review_log``), tickets from ``tickets``. Why the
day grouping and the median are done here and not in SQL: they must count local
(Asia/Shanghai) days the same way on SQLite and PostgreSQL, and a bureau's volume (a few
thousand rows a month) is nothing for Python.

Definitions (the page's tables say the same):

- a question belongs to the range by the local day it was asked; ``helpful`` and
  ``unhelpful`` count questions whose latest rating is that;
- a ticket belongs to the range by its ``received_date``;
- ``overdue`` and ``due_3_days`` look at tickets still awaiting acceptance (待受理): the
  acceptance deadline has passed, or falls within the next 3 working days (the ticket
  service's working-day calendar);
- ``median_days_to_acceptance``: calendar days from receipt to acceptance, over the
  accepted tickets of the range (None when there are none).
"""

from __future__ import annotations

import datetime as dt
import statistics
from collections import Counter
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import Select, select
from sqlalchemy.orm import Session

from core.places import COUNTIES, UNASSIGNED
from tickets.models import ReviewEntry, Ticket
from tickets.services.deadlines import WorkCalendar
from tickets.services.workflow import Actor

TOP_N = 10
PENDING = "待受理"
STATUSES = ("待受理", "已受理", "调解中", "调解成功", "调解终止", "不予受理", "办结")


def question_stats(
    session: Session,
    low: dt.datetime | None,
    high: dt.datetime | None,
    timezone: str,
) -> dict[str, Any]:
    """Totals, per-day-and-channel counts and the most asked questions and topics."""
    query = select(
        ReviewEntry.created_at,
        ReviewEntry.channel,
        ReviewEntry.question,
        ReviewEntry.abstained,
        ReviewEntry.feedback,
        ReviewEntry.topic,
    )
    if low is not None:
        query = query.where(ReviewEntry.created_at >= low)
    if high is not None:
        query = query.where(ReviewEntry.created_at < high)
    zone = ZoneInfo(timezone)
    by_day: Counter[tuple[str, str]] = Counter()
    questions: Counter[str] = Counter()
    topics: Counter[str] = Counter()
    total = abstained = helpful = unhelpful = 0
    for at, channel, question, was_abstained, feedback, topic in session.execute(query):
        total += 1
        abstained += bool(was_abstained)
        helpful += feedback == "helpful"
        unhelpful += feedback == "unhelpful"
        by_day[(at.astimezone(zone).date().isoformat(), channel or "unknown")] += 1
        questions[question] += 1
        if topic:
            topics[topic] += 1
    return {
        "total": total,
        "abstained": abstained,
        "helpful": helpful,
        "unhelpful": unhelpful,
        "by_day": [
            {"date": day, "channel": channel, "count": count}
            for (day, channel), count in sorted(by_day.items())
        ],
        "top_questions": [{"question": q, "count": c} for q, c in _top(questions)],
        "top_topics": [{"topic": t, "count": c} for t, c in _top(topics)],
    }


def _top(counter: Counter[str]) -> list[tuple[str, int]]:
    """The most frequent first, ties in text order, so the page is stable."""
    return sorted(counter.items(), key=lambda item: (-item[1], item[0]))[:TOP_N]


def _visible(query: Select[Any], actor: Actor) -> Select[Any]:
    return query if actor.is_admin else query.where(Ticket.county == actor.county)


def ticket_stats(
    session: Session,
    actor: Actor,
    start: dt.date | None,
    end: dt.date | None,
    today: dt.date,
    calendar: WorkCalendar,
) -> dict[str, Any]:
    """Counts per county and status, acceptance deadlines and time to acceptance."""
    query = _visible(
        select(
            Ticket.county,
            Ticket.status,
            Ticket.accept_deadline,
            Ticket.received_date,
            Ticket.accepted_date,
        ),
        actor,
    )
    if start is not None:
        query = query.where(Ticket.received_date >= start)
    if end is not None:
        query = query.where(Ticket.received_date <= end)
    horizon, _provisional = calendar.deadline_after(today, 3)
    counties = [actor.county] if not actor.is_admin and actor.county else [*COUNTIES, UNASSIGNED]
    by_county: dict[str, int] = dict.fromkeys(counties, 0)
    by_status: dict[str, int] = dict.fromkeys(STATUSES, 0)
    overdue = due_soon = total = 0
    waits: list[int] = []
    for county, status, deadline, received, accepted in session.execute(query):
        total += 1
        by_county[county] = by_county.get(county, 0) + 1
        by_status[status] = by_status.get(status, 0) + 1
        if status == PENDING:
            if deadline < today:
                overdue += 1
            elif deadline <= horizon:
                due_soon += 1
        if accepted is not None:
            waits.append((accepted - received).days)
    return {
        "total": total,
        "by_county": by_county,
        "by_status": by_status,
        "overdue": overdue,
        "due_3_days": due_soon,
        "due_3_days_until": horizon.isoformat(),
        "median_days_to_acceptance": statistics.median(waits) if waits else None,
    }
