"""Money phrases: cn2an needs clean numerals, so units are split off first."""

from __future__ import annotations

from decimal import Decimal

import pytest

from bot.actions.parsing.money import find_amount, format_amount, parse_amount


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("35", "35.00"),
        ("35元", "35.00"),
        ("35块", "35.00"),
        ("35蚊", "35.00"),
        ("三十五块钱", "35.00"),
        ("三百五", "350.00"),
        ("三百五十元", "350.00"),
        ("1.2万", "12000.00"),
        ("一万二", "12000.00"),
        ("两千三百块", "2300.00"),
        ("十八块五", "18.50"),
        ("3块5毛", "3.50"),
        ("35块5", "35.50"),
        ("九块九", "9.90"),
        ("5毛", "0.50"),
        ("八毛五", "0.85"),
        ("¥35.5", "35.50"),
        ("1,200元", "1200.00"),
        ("一千零五十元", "1050.00"),
        ("两百多", "200.00"),
        ("大概三百", "300.00"),
        ("人民幣壹佰元", "100.00"),
        ("1.5k", "1500.00"),
    ],
)
def test_parse_amount(text: str, expected: str) -> None:
    assert format_amount(parse_amount(text)) == expected


@pytest.mark.parametrize("text", ["没有", "", "免费的", "0元"])
def test_no_amount(text: str) -> None:
    assert parse_amount(text) is None


@pytest.mark.parametrize(
    ("sentence", "expected"),
    [
        ("我在新会区的好又多超市买到过期牛奶，花了35元", Decimal("35.00")),
        ("花了三百五", Decimal("350.00")),
        ("付了200", Decimal("200.00")),
        ("收了我两千块押金", Decimal("2000.00")),
        ("损失1.2万", Decimal("12000.00")),
    ],
)
def test_find_amount_in_sentences(sentence: str, expected: Decimal) -> None:
    assert find_amount(sentence) == expected


@pytest.mark.parametrize(
    "sentence", ["买了3瓶水", "3月5号买的", "电话13912345678", "住在建设路88号"]
)
def test_numbers_that_are_not_money(sentence: str) -> None:
    assert find_amount(sentence) is None
