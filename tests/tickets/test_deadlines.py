"""Statutory deadlines on real dates.

Expected dates were counted by hand from the State Council holiday schedules
(国务院办公厅关于部分节假日安排的通知) for 2025 and 2026, not taken from the code.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from tickets.services.deadlines import (
    ACCEPT_WORKING_DAYS,
    MEDIATION_WORKING_DAYS,
    CalendarNotCovered,
    HolidaysFileError,
    WorkCalendar,
    load_holidays_file,
)
from tickets.settings import PACKAGE_DIR

D = dt.date


@pytest.fixture
def calendar() -> WorkCalendar:
    return WorkCalendar.from_file(PACKAGE_DIR / "holidays.yml")


def test_national_day_2025_counts_make_up_weekend_days(calendar: WorkCalendar) -> None:
    # Received Fri 26 Sep: 28 Sep (Sun, make-up) 1, 29 Sep 2, 30 Sep 3, 1–8 Oct holiday,
    # 9 Oct 4, 10 Oct 5, 11 Oct (Sat, make-up) 6, 13 Oct 7.
    assert calendar.working_days_after(D(2025, 9, 26), ACCEPT_WORKING_DAYS) == D(2025, 10, 13)
    assert calendar.is_workday(D(2025, 9, 28)) and calendar.is_workday(D(2025, 10, 11))
    assert not any(calendar.is_workday(D(2025, 10, day)) for day in range(1, 9))


def test_day_of_receipt_is_not_counted(calendar: WorkCalendar) -> None:
    # Received on a Saturday: the next working day is the make-up Sunday 28 Sep.
    assert calendar.working_days_after(D(2025, 9, 27), 1) == D(2025, 9, 28)
    # Received on a working Monday: one working day later is Tuesday.
    assert calendar.working_days_after(D(2025, 9, 29), 1) == D(2025, 9, 30)


def test_spring_festival_2026_deadline_on_make_up_saturday(calendar: WorkCalendar) -> None:
    # 2026 春节: 15–23 Feb off, 14 Feb (Sat) and 28 Feb (Sat) are workdays.
    # Received Thu 12 Feb: 13 Feb 1, 14 Feb 2, 24–27 Feb 3–6, 28 Feb 7.
    assert calendar.working_days_after(D(2026, 2, 12), ACCEPT_WORKING_DAYS) == D(2026, 2, 28)


def test_spring_festival_2025(calendar: WorkCalendar) -> None:
    # 2025 春节: 28 Jan – 4 Feb off, 26 Jan (Sun) and 8 Feb (Sat) are workdays.
    # Received Fri 24 Jan: 26 Jan 1, 27 Jan 2, 5–7 Feb 3–5, 8 Feb 6, 10 Feb 7.
    assert calendar.working_days_after(D(2025, 1, 24), ACCEPT_WORKING_DAYS) == D(2025, 2, 10)


def test_mediation_45_working_days_over_qingming_and_labour_day(calendar: WorkCalendar) -> None:
    # Accepted Mon 3 Mar 2025: 20 working days in March, April has 4 Apr (清明) off and
    # 27 Apr (Sun) as a make-up day, 1–5 May off; the 45th working day is Thu 8 May.
    assert calendar.working_days_after(D(2025, 3, 3), MEDIATION_WORKING_DAYS) == D(2025, 5, 8)


def test_late_december_2026_is_provisional_not_refused(calendar: WorkCalendar) -> None:
    # Received Thu 24 Dec 2026: 25, 28, 29, 30, 31 Dec, then 2027 is unknown and
    # counted Monday–Friday: Fri 1 Jan and Mon 4 Jan.
    deadline, provisional = calendar.deadline_after(D(2026, 12, 24), ACCEPT_WORKING_DAYS)
    assert (deadline, provisional) == (D(2027, 1, 4), True)
    # A deadline that stays within known years is not provisional.
    assert calendar.deadline_after(D(2026, 12, 1), ACCEPT_WORKING_DAYS)[1] is False


def test_unconfigured_year_fails_clearly(calendar: WorkCalendar) -> None:
    with pytest.raises(CalendarNotCovered, match=r"holidays\.yml") as info:
        calendar.working_days_after(D(2026, 12, 24), ACCEPT_WORKING_DAYS)
    assert info.value.year == 2027
    assert "2027" in str(info.value)
    assert not calendar.covers(2027)


def _write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "holidays.yml"
    path.write_text(text, encoding="utf-8")
    return path


def test_operator_configured_year(tmp_path: Path) -> None:
    # A made-up 2027 schedule: New Year's Day off, a block in February with a make-up Sunday.
    path = _write(
        tmp_path,
        "years:\n"
        "  2027:\n"
        "    holidays: [2027-01-01, 2027-02-08..2027-02-12]\n"
        "    workdays: [2027-02-07]\n",
    )
    calendar = WorkCalendar.from_file(path)
    assert calendar.covers(2027)
    # 25, 28, 29, 30, 31 Dec; 1 Jan off; 4 Jan, 5 Jan.
    assert calendar.deadline_after(D(2026, 12, 24), 7) == (D(2027, 1, 5), False)
    assert calendar.working_days_after(D(2026, 12, 24), 7) == D(2027, 1, 5)
    # Received Fri 5 Feb: 7 Feb (Sun, make-up) 1, 8–12 off, 15–19 Feb 2–6, 22 Feb 7.
    assert calendar.working_days_after(D(2027, 2, 5), 7) == D(2027, 2, 22)
    assert not calendar.is_workday(D(2027, 2, 10))
    assert calendar.is_workday(D(2027, 2, 7))


@pytest.mark.parametrize(
    ("text", "needle"),
    [
        ("years:\n  2027:\n    workdays: [2027-02-09]\n", "weekend"),
        ("years:\n  2027:\n    holidays: [2026-12-31]\n", "listed under 2027"),
        ("years:\n  2027:\n    holidays: [2027-01-01]\n    workdays: [2027-01-01]\n", "both"),
        ("years:\n  2027:\n    holidays: [2027-02-12..2027-02-08]\n", "ends before"),
        ("years:\n  2027:\n    holidays: [not-a-date]\n", "bad date"),
        ("years: [1, 2]\n", "mapping"),
        ("years:\n  2027:\n    holiday: []\n", "'holidays' and 'workdays'"),
    ],
)
def test_malformed_holidays_file_names_the_problem(tmp_path: Path, text: str, needle: str) -> None:
    path = _write(tmp_path, text)
    with pytest.raises(HolidaysFileError, match=needle) as info:
        load_holidays_file(path)
    assert str(path) in str(info.value)


def test_shipped_holidays_file_is_valid() -> None:
    schedules = load_holidays_file(PACKAGE_DIR / "holidays.yml")
    assert all(year > 2026 for year in schedules)
