"""GET /api/staff/stats: every number equals a COUNT the test runs itself, per role."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

from sqlalchemy import func, select

from tests.console.conftest import Console, file_tickets, log_questions
from tickets.models import ReviewEntry, Ticket
from tickets.services.deadlines import WorkCalendar


def _today() -> dt.date:
    """The service's today: working days are counted in Jiangmen."""
    return dt.datetime.now(ZoneInfo("Asia/Shanghai")).date()


def _count(console: Console, query: object) -> int:
    with console.engine.connect() as conn:
        return int(conn.execute(query).scalar_one())  # type: ignore[call-overload]


def test_admin_numbers_equal_database_counts(console: Console) -> None:
    file_tickets(console)
    log_questions(console)
    r = console.client.get("/api/staff/stats", headers=console.headers("admin"))
    assert r.status_code == 200, r.text
    q, t = r.json()["questions"], r.json()["tickets"]
    n = func.count()
    assert q["total"] == _count(console, select(n).select_from(ReviewEntry)) == 5
    assert q["abstained"] == _count(
        console, select(n).select_from(ReviewEntry).where(ReviewEntry.abstained.is_(True))
    )
    for rating in ("helpful", "unhelpful"):
        assert q[rating] == _count(
            console, select(n).select_from(ReviewEntry).where(ReviewEntry.feedback == rating)
        )
    for channel in ("rest", "socketio", "wechat"):
        per_day = sum(d["count"] for d in q["by_day"] if d["channel"] == channel)
        assert per_day == _count(
            console, select(n).select_from(ReviewEntry).where(ReviewEntry.channel == channel)
        )
    assert len({d["date"] for d in q["by_day"]}) == 2  # today and yesterday
    assert q["top_questions"][0] == {"question": "个转企有什么补贴", "count": 2}
    assert q["top_topics"][0] == {"topic": "个转企指南", "count": 2}

    assert t["total"] == _count(console, select(n).select_from(Ticket)) == 5
    for county, count in t["by_county"].items():
        assert count == _count(
            console, select(n).select_from(Ticket).where(Ticket.county == county)
        )
    for status, count in t["by_status"].items():
        assert count == _count(
            console, select(n).select_from(Ticket).where(Ticket.status == status)
        )
    today = _today()
    pending = select(n).select_from(Ticket).where(Ticket.status == "待受理")
    assert t["overdue"] == _count(console, pending.where(Ticket.accept_deadline < today)) == 1
    horizon, _ = WorkCalendar.from_file(WorkCalendar.holidays_file).deadline_after(today, 3)
    assert t["due_3_days"] == _count(
        console,
        pending.where(Ticket.accept_deadline >= today, Ticket.accept_deadline <= horizon),
    )
    assert t["median_days_to_acceptance"] == 3  # accepted after 4 and 2 days


def test_date_range_and_bad_dates(console: Console) -> None:
    log_questions(console)
    today = _today().isoformat()
    r = console.client.get(
        "/api/staff/stats", params={"from": today, "to": today}, headers=console.headers("admin")
    )
    # Yesterday's question is outside (local days: the log's UTC times are converted).
    assert r.json()["questions"]["total"] == 4
    bad = console.client.get(
        "/api/staff/stats", params={"from": "2026-13-01"}, headers=console.headers("admin")
    )
    assert bad.status_code == 422 and "YYYY-MM-DD" in bad.text
    backwards = console.client.get(
        "/api/staff/stats",
        params={"from": "2026-03-02", "to": "2026-03-01"},
        headers=console.headers("admin"),
    )
    assert backwards.status_code == 422 and "不能晚于" in backwards.text


def test_county_sees_only_its_county_and_no_questions(console: Console) -> None:
    file_tickets(console)
    log_questions(console)
    r = console.client.get("/api/staff/stats", headers=console.headers("xinhui"))
    assert r.status_code == 200
    body = r.json()
    assert "questions" not in body
    assert body["tickets"]["by_county"] == {"新会区": 2}
    assert body["tickets"]["total"] == 2
    assert console.client.get("/api/staff/stats").status_code == 401
    review = console.client.get("/api/staff/review", headers=console.headers("xinhui"))
    assert review.status_code == 403 and "无权" in review.json()["detail"]
