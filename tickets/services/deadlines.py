"""Statutory deadlines in working days on China's official holiday calendar.

Counting follows the usual rule for periods in Chinese law: the day of receipt is not
counted; counting starts on the next working day, and the deadline is the n-th working
day. Working days come from ``chinesecalendar`` (which includes make-up workdays on
weekends) or, for a year it does not cover, from the operator's ``tickets/holidays.yml``.

A ticket is never refused because its deadline falls in a year nobody has configured:
``deadline_after`` then counts weekends only and marks the result provisional, and
``recompute_provisional`` fixes those tickets once the year is added.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import chinese_calendar
import yaml

from tickets.settings import PACKAGE_DIR

#: Acceptance decision within 7 working days of receipt (Art. 14).
ACCEPT_WORKING_DAYS = 7
#: Mediation ends 45 working days after acceptance (Art. 21 (5)).
MEDIATION_WORKING_DAYS = 45


_PACKAGE_LAST_YEAR = max(chinese_calendar.holidays).year


class CalendarNotCovered(LookupError):
    """No holiday schedule is known for a year; the operator must add it."""

    def __init__(self, year: int, holidays_file: Path) -> None:
        self.year = year
        super().__init__(
            f"no statutory holiday schedule for {year}: chinesecalendar covers up to "
            f"{_PACKAGE_LAST_YEAR}; add {year} (holidays and make-up workdays) to "
            f"{holidays_file}"
        )


class HolidaysFileError(ValueError):
    """``holidays.yml`` is malformed; the message says where."""


@dataclass(frozen=True)
class YearSchedule:
    holidays: frozenset[dt.date]
    workdays: frozenset[dt.date]


def _expand(item: Any, year: int, path: Path) -> list[dt.date]:
    if isinstance(item, dt.date):
        days = [item]
    elif isinstance(item, str) and ".." in item:
        start_s, end_s = (part.strip() for part in item.split("..", 1))
        try:
            start, end = dt.date.fromisoformat(start_s), dt.date.fromisoformat(end_s)
        except ValueError as exc:
            raise HolidaysFileError(f"{path}: bad range {item!r} in {year}: {exc}") from exc
        if end < start:
            raise HolidaysFileError(f"{path}: range {item!r} in {year} ends before it starts")
        days = [start + dt.timedelta(days=i) for i in range((end - start).days + 1)]
    elif isinstance(item, str):
        try:
            days = [dt.date.fromisoformat(item.strip())]
        except ValueError as exc:
            raise HolidaysFileError(f"{path}: bad date {item!r} in {year}: {exc}") from exc
    else:
        raise HolidaysFileError(f"{path}: expected a date or range in {year}, got {item!r}")
    for day in days:
        if day.year != year:
            raise HolidaysFileError(f"{path}: {day} is listed under {year}")
    return days


def load_holidays_file(path: Path) -> dict[int, YearSchedule]:
    """Parse the operator's holiday file; a missing file means no extra years."""
    if not path.exists():
        return {}
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    except yaml.YAMLError as exc:
        raise HolidaysFileError(f"{path}: not valid YAML: {exc}") from exc
    years = raw.get("years") if isinstance(raw, dict) else None
    if years is None:
        return {}
    if not isinstance(years, dict):
        raise HolidaysFileError(f"{path}: 'years' must be a mapping of year → schedule")
    schedules: dict[int, YearSchedule] = {}
    for year_key, spec in years.items():
        try:
            year = int(year_key)
        except (TypeError, ValueError) as exc:
            raise HolidaysFileError(f"{path}: {year_key!r} is not a year") from exc
        if not isinstance(spec, dict) or not set(spec) <= {"holidays", "workdays"}:
            raise HolidaysFileError(f"{path}: {year} needs only 'holidays' and 'workdays' lists")
        holidays = {d for item in spec.get("holidays") or [] for d in _expand(item, year, path)}
        workdays = {d for item in spec.get("workdays") or [] for d in _expand(item, year, path)}
        if holidays & workdays:
            both = ", ".join(sorted(d.isoformat() for d in holidays & workdays))
            raise HolidaysFileError(f"{path}: {both} listed as both holiday and workday")
        weekday_workdays = sorted(d.isoformat() for d in workdays if d.weekday() < 5)
        if weekday_workdays:
            raise HolidaysFileError(
                f"{path}: make-up workdays must fall on a weekend: {', '.join(weekday_workdays)}"
            )
        schedules[year] = YearSchedule(frozenset(holidays), frozenset(workdays))
    return schedules


@dataclass
class WorkCalendar:
    """Working-day arithmetic over chinesecalendar plus operator-configured years."""

    holidays_file: Path = PACKAGE_DIR / "holidays.yml"
    extra_years: dict[int, YearSchedule] = field(default_factory=dict)
    #: chinesecalendar scans its whole table on every call; answers are cached here.
    _known: dict[dt.date, bool] = field(default_factory=dict, repr=False)

    @classmethod
    def from_file(cls, path: Path) -> WorkCalendar:
        return cls(holidays_file=path, extra_years=load_holidays_file(path))

    def covers(self, year: int) -> bool:
        """Whether the official schedule of ``year`` is known."""
        if year in self.extra_years:
            return True
        try:
            chinese_calendar.is_workday(dt.date(year, 6, 1))
        except NotImplementedError:
            return False
        return True

    def is_workday(self, day: dt.date) -> bool:
        """Whether ``day`` is a working day; raises ``CalendarNotCovered`` if unknown."""
        schedule = self.extra_years.get(day.year)
        if schedule is not None:
            if day in schedule.workdays:
                return True
            if day in schedule.holidays:
                return False
            return day.weekday() < 5
        known = self._known.get(day)
        if known is not None:
            return known
        try:
            workday = bool(chinese_calendar.is_workday(day))
        except NotImplementedError:
            raise CalendarNotCovered(day.year, self.holidays_file) from None
        self._known[day] = workday
        return workday

    def working_days_after(self, start: dt.date, n: int) -> dt.date:
        """The n-th working day after ``start`` (``start`` itself is not counted)."""
        if n < 1:
            raise ValueError("n must be at least 1")
        day, counted = start, 0
        while counted < n:
            day += dt.timedelta(days=1)
            if self.is_workday(day):
                counted += 1
        return day

    def deadline_after(self, start: dt.date, n: int) -> tuple[dt.date, bool]:
        """Like ``working_days_after`` but never fails: (deadline, provisional).

        Days in an unconfigured year count as working days when they are Monday–Friday;
        such a deadline is provisional and must be recomputed once the year is known.
        """
        day, counted, provisional = start, 0, False
        while counted < n:
            day += dt.timedelta(days=1)
            try:
                workday = self.is_workday(day)
            except CalendarNotCovered:
                provisional = True
                workday = day.weekday() < 5
            if workday:
                counted += 1
        return day, provisional
