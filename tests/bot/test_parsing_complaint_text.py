"""Fallback extraction of merchant, product and demand from free text."""

from __future__ import annotations

import pytest

from bot.actions.parsing.complaint_text import (
    clean_product,
    find_merchant,
    find_product,
    parse_demand,
)


@pytest.mark.parametrize(
    ("sentence", "merchant", "product"),
    [
        ("我在新会区的好又多超市买到过期牛奶，花了35元", "好又多超市", "牛奶"),
        ("上周在新会区好又多超市买到发霉的月饼，花了88元，要求退款并赔偿", "好又多超市", "月饼"),
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
        ("退款并赔偿", "赔偿"),
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


@pytest.mark.parametrize(
    ("sentence", "product"),
    [
        # 买到/买了/点了/订了 + (quantity)? + (defect + 的)? + product
        ("在XX超市买到发霉的月饼", "月饼"),
        ("我在百佳买了一盒发霉的月饼", "月饼"),
        ("买到变质的猪肉", "猪肉"),
        ("点了一份外卖，吃出头发", "外卖"),
        ("订了一间民宿，到了发现和图片不一样", "民宿"),
        ("买到假的名牌包", "名牌包"),
        ("买了三斤猪肉回来发现变质了", "猪肉"),
        # 买的X + defect
        ("买的牛奶过期了", "牛奶"),
        ("在好又多买的鸡蛋是臭的", "鸡蛋"),
        ("在京东买的空调装好就漏水", "空调"),
        ("我买的衣服一洗就掉色", "衣服"),
        ("网上买的护肤品过敏了", "护肤品"),
        ("拼多多买的电风扇一开就冒烟", "电风扇"),
        ("收到的鞋子是假的", "鞋子"),
        # X是假的 / X + defect, no purchase verb
        ("这个包是假的", "包"),
        ("月饼发霉了", "月饼"),
        ("我的手机坏了", "手机"),
        # traditional characters and Cantonese
        ("買到發霉嘅月餅", "月饼"),
        ("买咗啲过期嘅牛奶", "牛奶"),
        # a product name that merely starts like a defect word stays whole
        ("我买了假发", "假发"),
        ("买到假酒了", "假酒"),
        ("买了有机蔬菜，结果是烂的", "有机蔬菜"),
    ],
)
def test_product_is_the_thing_not_its_defect(sentence: str, product: str) -> None:
    assert find_product(sentence) == product


@pytest.mark.parametrize("sentence", ["买到的东西是假的", "商家态度很差", "过期了"])
def test_no_product_rather_than_a_defect_or_a_vague_word(sentence: str) -> None:
    assert find_product(sentence) is None


@pytest.mark.parametrize(
    ("value", "cleaned"),
    [
        ("过期牛奶", "牛奶"),
        ("发霉的月饼", "月饼"),
        ("发霉", None),
        ("坏了", None),
        ("假的", None),
        ("一台电饭煲", "电饭煲"),
        ("月饼发霉了", "月饼"),
        ("手机维修", "手机维修"),
        (None, None),
    ],
)
def test_clean_product_drops_defect_words(value: str | None, cleaned: str | None) -> None:
    """DIET's product entity may be the defect or include it; cleaning fixes both."""
    assert clean_product(value) == cleaned


@pytest.mark.parametrize(
    ("text", "categories", "primary"),
    [
        ("退款并赔偿", ("退款", "赔偿"), "赔偿"),
        ("退货退款", ("退货", "退款"), "退款"),
        ("要求退一赔三", ("退款", "赔偿"), "赔偿"),
        ("要求商家退货退款并赔偿", ("退货", "退款", "赔偿"), "赔偿"),
        ("退款，再赔偿三倍", ("退款", "赔偿"), "赔偿"),
        ("要求退款和道歉", ("退款", "其他"), "退款"),
        ("我想退款", ("退款",), "退款"),
        ("假一赔十", ("赔偿",), "赔偿"),
        ("给个说法", ("其他",), "其他"),
        ("退錢同賠償", ("退款", "赔偿"), "赔偿"),
    ],
)
def test_every_demand_is_kept(text: str, categories: tuple[str, ...], primary: str) -> None:
    result = parse_demand(text)
    assert result is not None
    assert result.categories == categories
    assert result.category == primary


def test_demand_detail_is_the_demand_clause_not_the_story() -> None:
    result = parse_demand("上周在新会区好又多超市买到发霉的月饼，花了88元，要求退一赔三")
    assert result is not None and result.detail == "要求退一赔三"
    plain = parse_demand("上周在新会区好又多超市买到发霉的月饼，花了88元，要求退款并赔偿")
    assert plain is not None and plain.detail is None  # the names say it all
    assert plain.categories == ("退款", "赔偿")
