"""Fallback extraction of merchant, product and demand from free text."""

from __future__ import annotations

import pytest

from bot.actions.parsing.complaint_text import find_merchant, find_product, parse_demand


@pytest.mark.parametrize(
    ("sentence", "merchant", "product"),
    [
        ("我在新会区的好又多超市买到过期牛奶，花了35元", "好又多超市", "过期牛奶"),
        ("在会城的百佳超市买了一台电饭煲", "百佳超市", "电饭煲"),
        ("我要投诉沙坪的明记餐厅", "明记餐厅", None),
        ("江门市蓬江区建设路的大润发超市", "大润发超市", None),
        ("我投诉江门XX科技有限公司", "江门XX科技有限公司", None),
    ],
)
def test_merchant_and_product(sentence: str, merchant: str, product: str | None) -> None:
    assert find_merchant(sentence) == merchant
    assert find_product(sentence) == product


def test_generic_shop_words_are_not_names() -> None:
    assert find_merchant("去家附近的士多买了一瓶可乐") is None


@pytest.mark.parametrize(
    ("text", "category"),
    [
        ("退货", "退货"),
        ("我想退款", "退款"),
        ("把钱退给我", "退款"),
        ("要求退一赔三", "赔偿"),
        ("赔钱", "赔偿"),
        ("退货退款", "退款"),
        ("换一个新的", "其他"),
        ("希望他们道歉", "其他"),
    ],
)
def test_demand_categories(text: str, category: str) -> None:
    result = parse_demand(text)
    assert result is not None and result.category == category


def test_demand_keeps_the_users_words_as_detail() -> None:
    assert parse_demand("退款").detail is None  # type: ignore[union-attr]
    assert parse_demand("要求退一赔三").detail == "要求退一赔三"  # type: ignore[union-attr]
