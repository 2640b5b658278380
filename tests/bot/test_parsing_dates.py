"""Chinese incident dates relative to a fixed 'today' (a Wednesday)."""

from __future__ import annotations

from datetime import date

import pytest

from bot.actions.parsing.dates import older_than_years, parse_date

TODAY = date(2026, 3, 18)  # Wednesday


@pytest.mark.parametrize(
    ("text", "expected", "precision"),
    [
        ("今天", date(2026, 3, 18), "day"),
        ("昨天", date(2026, 3, 17), "day"),
        ("琴日", date(2026, 3, 17), "day"),
        ("前天晚上", date(2026, 3, 16), "day"),
        ("大前天", date(2026, 3, 15), "day"),
        ("上周五", date(2026, 3, 13), "day"),
        ("上個禮拜五", date(2026, 3, 13), "day"),
        ("上星期天", date(2026, 3, 15), "day"),
        ("这周一", date(2026, 3, 16), "day"),
        ("周五", date(2026, 3, 13), "day"),
        ("3月5号", date(2026, 3, 5), "day"),
        ("三月五日", date(2026, 3, 5), "day"),
        ("12月25日", date(2025, 12, 25), "day"),
        ("2024年12月", date(2024, 12, 1), "month"),
        ("二〇二四年十二月", date(2024, 12, 1), "month"),
        ("2025-11-02", date(2025, 11, 2), "day"),
        ("2025/11/2", date(2025, 11, 2), "day"),
        ("2025年11月2号", date(2025, 11, 2), "day"),
        ("去年十月", date(2025, 10, 1), "month"),
        ("去年10月3号", date(2025, 10, 3), "day"),
        ("上个月5号", date(2026, 2, 5), "day"),
        ("三天前", date(2026, 3, 15), "day"),
        ("两个月前", date(2026, 1, 18), "month"),
        ("半个月前", date(2026, 3, 3), "week"),
        ("15号", date(2026, 3, 15), "day"),
        ("20号", date(2026, 2, 20), "day"),
        ("上个月", date(2026, 2, 1), "month"),
        ("大概是1月份", date(2026, 1, 1), "month"),
    ],
)
def test_phrasings(text: str, expected: date, precision: str) -> None:
    result = parse_date(text, TODAY)
    assert result.error is None, text
    assert result.parsed is not None
    assert (result.parsed.value, result.parsed.precision) == (expected, precision)


def test_future_dates_are_rejected() -> None:
    assert parse_date("2026年5月1日", TODAY).error == "future"


def test_unparseable_text() -> None:
    assert parse_date("不太记得了，很久以前", TODAY).error == "unparsed"
    assert parse_date("", TODAY).error == "unparsed"


def test_three_year_warning() -> None:
    """Art. 15: more than three years since the harm was known → warn."""
    assert parse_date("2022年12月5号", TODAY).too_old is True
    assert parse_date("2023年3月19号", TODAY).too_old is False
    # a month is only "too old" when all of it is: March 2023 still has days in time
    assert parse_date("2023年3月", TODAY).too_old is False
    assert parse_date("2023年2月", TODAY).too_old is True
    assert older_than_years(date(2023, 3, 17), TODAY) is True


def test_strict_mode_ignores_house_numbers() -> None:
    assert parse_date("新会区会城中心南路12号", TODAY, strict=True).parsed is None
    assert parse_date("我上周五买的", TODAY, strict=True).parsed is not None


def test_display_reads_back_the_precision() -> None:
    assert parse_date("2024年12月", TODAY).parsed.display() == "2024年12月"  # type: ignore[union-attr]
    assert parse_date("3月5号", TODAY).parsed.display() == "2026年3月5日"  # type: ignore[union-attr]
