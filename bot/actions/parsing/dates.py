"""Chinese incident dates: 上周五, 3月5号, 2024年12月, 昨天, 三天前, 琴日 …

The complaint needs a purchase/incident date, and Art. 15 of the complaint
rules refuses complaints made more than three years after the harm was known,
so the parser also reports when a date is that old (a warning, not a refusal:
the bureau decides).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Literal

from bot.actions.parsing.text import CN_DIGITS, normalise, small_cn_int

Precision = Literal["day", "week", "month", "year"]
DateError = Literal["unparsed", "future", "invalid"]

_NUM = r"(\d{1,4}|[零〇○一二两三四五六七八九十]{1,4})"
_WEEKDAYS = {"一": 0, "二": 1, "三": 2, "四": 3, "五": 4, "六": 5, "日": 6, "天": 6, "末": 5}
for _i in range(1, 8):
    _WEEKDAYS[str(_i)] = _i - 1

_RELATIVE_DAYS = [
    ("大前天", 3),
    ("前天", 2),
    ("前日", 2),
    ("昨天", 1),
    ("昨日", 1),
    ("琴日", 1),
    ("寻日", 1),
    ("噚日", 1),
    ("昨晚", 1),
    ("昨晚上", 1),
    ("今天", 0),
    ("今日", 0),
    ("今早", 0),
    ("今晚", 0),
    ("今晨", 0),
    ("刚才", 0),
    ("刚刚", 0),
]


@dataclass(frozen=True)
class ParsedDate:
    """A date with how precise the user was (2024年12月 is month precision)."""

    value: date
    precision: Precision

    def iso(self) -> str:
        return self.value.isoformat()

    def display(self) -> str:
        """The date as we read it back to the user."""
        v = self.value
        if self.precision == "year":
            return f"{v.year}年"
        if self.precision == "month":
            return f"{v.year}年{v.month}月"
        if self.precision == "week":
            return f"{v.year}年{v.month}月{v.day}日所在的那一周"
        return f"{v.year}年{v.month}月{v.day}日"


@dataclass(frozen=True)
class DateResult:
    parsed: ParsedDate | None
    error: DateError | None = None
    too_old: bool = False


def _year_token(token: str) -> int | None:
    """2024, 二〇二四 (digit by digit) or 24 (two digits → 20xx)."""
    if token.isdigit():
        year = int(token)
    elif all(ch in CN_DIGITS for ch in token):
        year = int("".join(str(CN_DIGITS[ch]) for ch in token))
    else:
        return None
    if year < 100:
        year += 2000
    return year


def _safe_date(year: int, month: int, day: int) -> date | None:
    try:
        return date(year, month, day)
    except ValueError:
        return None


def _months_back(today: date, months: int) -> date:
    index = today.year * 12 + (today.month - 1) - months
    year, month = divmod(index, 12)
    day = min(today.day, 28)
    return date(year, month + 1, day)


def _relative_amount(token: str) -> float | None:
    if token in ("半", "半个"):
        return 0.5
    if token in ("几", "几个"):
        return None
    value = small_cn_int(token.rstrip("个"))
    return float(value) if value is not None else None


def _parse(text: str, today: date, strict: bool = False) -> ParsedDate | None:
    t = re.sub(r"\s+", "", text)

    # 2024-12-05, 2024/12/5, 2024.12.5, 2024年12月5日
    m = re.search(
        r"(\d{4}|[零〇○一二三四五六七八九]{4})[-/.年](\d{1,2}|[一二三四五六七八九十]{1,3})[-/.月]"
        r"(\d{1,2}|[一二三四五六七八九十]{1,3})[日号]?",
        t,
    )
    if m:
        year, month, day = (
            _year_token(m.group(1)),
            small_cn_int(m.group(2)),
            small_cn_int(m.group(3)),
        )
        if year and month and day:
            d = _safe_date(year, month, day)
            return ParsedDate(d, "day") if d else None

    # 2024年12月 (month precision)
    m = re.search(r"(\d{2,4}|[零〇○一二三四五六七八九]{2,4})年" + _NUM + r"月(?:份)?", t)
    if m:
        year, month = _year_token(m.group(1)), small_cn_int(m.group(2))
        if year and month:
            d = _safe_date(year, month, 1)
            return ParsedDate(d, "month") if d else None

    # 去年/前年/今年 + 月 (+ 日)
    m = re.search(r"(今年|去年|前年|大前年)" + _NUM + r"月(?:" + _NUM + r"[日号])?", t)
    if m:
        offset = {"今年": 0, "去年": 1, "前年": 2, "大前年": 3}[m.group(1)]
        month = small_cn_int(m.group(2))
        if month:
            if m.group(3):
                day = small_cn_int(m.group(3))
                d = _safe_date(today.year - offset, month, day or 0)
                return ParsedDate(d, "day") if d else None
            d = _safe_date(today.year - offset, month, 1)
            return ParsedDate(d, "month") if d else None

    # 上个月5号 / 这个月3号 / 本月3日
    m = re.search(r"(上上个?月|上个?月|这个?月|本月)" + _NUM + r"[日号]", t)
    if m:
        back = 2 if m.group(1).startswith("上上") else (1 if m.group(1).startswith("上") else 0)
        anchor = _months_back(today, back)
        day = small_cn_int(m.group(2))
        d = _safe_date(anchor.year, anchor.month, day or 0)
        return ParsedDate(d, "day") if d else None

    # 3月5号, 三月五日, 12月25日 (this year; last year if that would be in the future)
    m = re.search(_NUM + r"月" + _NUM + r"[日号]?", t)
    if m:
        month, day = small_cn_int(m.group(1)), small_cn_int(m.group(2))
        if month and day:
            d = _safe_date(today.year, month, day)
            if d and d > today:
                d = _safe_date(today.year - 1, month, day)
            return ParsedDate(d, "day") if d else None

    # 3月 / 三月份 alone (month precision)
    m = (
        None
        if strict
        else re.search(r"(?<![\d年])" + _NUM + r"月份?(?![\d一二三四五六七八九十])", t)
    )
    if m and not re.search(r"个月", t):
        month = small_cn_int(m.group(1))
        if month and 1 <= month <= 12:
            d = date(today.year, month, 1)
            if d > today:
                d = date(today.year - 1, month, 1)
            return ParsedDate(d, "month")

    # 上周五 / 上星期三 / 这周一 / 礼拜天 / 上上周二
    m = re.search(r"(上上|上|这|本|今)?个?(周|星期|礼拜|禮拜)([一二三四五六日天末1-7])", t)
    if m:
        weekday = _WEEKDAYS[m.group(3)]
        this_monday = today - timedelta(days=today.weekday())
        prefix = m.group(1)
        if prefix == "上上":
            d = this_monday - timedelta(weeks=2) + timedelta(days=weekday)
        elif prefix == "上":
            d = this_monday - timedelta(weeks=1) + timedelta(days=weekday)
        elif prefix in ("这", "本", "今"):
            d = this_monday + timedelta(days=weekday)
        else:  # bare 周五: the most recent one
            d = this_monday + timedelta(days=weekday)
            if d > today:
                d -= timedelta(weeks=1)
        return ParsedDate(d, "day")

    # N天/周/个月/年 前
    m = re.search(
        r"(\d{1,3}|[一二两三四五六七八九十半几]{1,3}个?)(天|日|周|星期|个?礼拜|个?月|年)(?:前|之前|以前|左右前)",
        t,
    )
    if m:
        amount = _relative_amount(m.group(1))
        unit = m.group(2)
        if amount is None:
            return None
        if unit in ("天", "日"):
            return ParsedDate(today - timedelta(days=int(amount)), "day")
        if unit in ("周", "星期") or unit.endswith("礼拜"):
            return ParsedDate(today - timedelta(days=int(amount * 7)), "week")
        if unit.endswith("月"):
            if amount == 0.5:
                return ParsedDate(today - timedelta(days=15), "week")
            return ParsedDate(_months_back(today, int(amount)), "month")
        return ParsedDate(
            _safe_date(today.year - int(amount), today.month, min(today.day, 28)) or today, "year"
        )

    for word, back in _RELATIVE_DAYS:
        if word in t:
            return ParsedDate(today - timedelta(days=back), "day")

    if re.search(r"上上个?月", t):
        return ParsedDate(_months_back(today, 2).replace(day=1), "month")
    if re.search(r"上个?月", t):
        return ParsedDate(_months_back(today, 1).replace(day=1), "month")
    if re.search(r"这个?月|本月|月初", t):
        return ParsedDate(today.replace(day=1), "month")
    if re.search(r"上(个)?(周|星期|礼拜)", t):
        monday = today - timedelta(days=today.weekday()) - timedelta(weeks=1)
        return ParsedDate(monday, "week")
    if re.search(r"这(个)?(周|星期|礼拜)|本周", t):
        return ParsedDate(today - timedelta(days=today.weekday()), "week")
    for word, back in (("大前年", 3), ("前年", 2), ("去年", 1), ("今年", 0)):
        if word in t:
            return ParsedDate(date(today.year - back, 1, 1), "year")

    # 3号 / 15日 alone: this month, or last month if still to come
    m = None if strict else re.search(r"(?<![\d月])" + _NUM + r"[号日](?!前)", t)
    if m:
        day = small_cn_int(m.group(1))
        if day and 1 <= day <= 31:
            d = _safe_date(today.year, today.month, day)
            if d is None or d > today:
                anchor = _months_back(today, 1)
                d = _safe_date(anchor.year, anchor.month, day)
            return ParsedDate(d, "day") if d else None
    return None


def older_than_years(value: date, today: date, years: int = 3) -> bool:
    """True when ``value`` lies more than ``years`` calendar years before ``today``."""
    try:
        limit = today.replace(year=today.year - years)
    except ValueError:  # 29 February
        limit = today.replace(year=today.year - years, day=28)
    return value < limit


def parse_date(text: str | None, today: date | None = None, *, strict: bool = False) -> DateResult:
    """Parse an incident date relative to ``today`` (defaults to the real today).

    ``strict`` is for dates spotted inside longer sentences: it ignores a bare
    day (12号 is more often a house number) and a bare month.

    For month or year precision the *last* possible day decides "too old", so
    2022年12月 is not flagged while part of that month is still in time.
    """
    today = today or date.today()
    clean = normalise(text)
    if not clean:
        return DateResult(None, "unparsed")
    parsed = _parse(clean, today, strict)
    if parsed is None:
        return DateResult(None, "unparsed")
    if parsed.value > today:
        return DateResult(parsed, "future")
    latest = _latest_day(parsed)
    return DateResult(parsed, None, older_than_years(latest, today))


def _latest_day(parsed: ParsedDate) -> date:
    v = parsed.value
    if parsed.precision == "year":
        return date(v.year, 12, 31)
    if parsed.precision == "month":
        nxt = date(v.year + (v.month == 12), v.month % 12 + 1, 1)
        return nxt - timedelta(days=1)
    if parsed.precision == "week":
        return v + timedelta(days=6)
    return v
