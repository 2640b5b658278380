"""County-level jurisdiction (Art. 12) from addresses, towns and platform names."""

from __future__ import annotations

import pytest

from bot.actions.parsing.county import (
    county_candidates,
    find_county,
    find_platform,
    is_outside_jiangmen,
    mentions_online_purchase,
)


@pytest.mark.parametrize(
    ("address", "county"),
    [
        ("新会区会城中心南路12号", "新会区"),
        ("会城今洲路", "新会区"),
        ("蓬江区建设二路88号", "蓬江区"),
        ("江门市江海区外海街道", "江海区"),
        ("台城环北大道", "台山市"),
        ("臺山市台城", "台山市"),
        ("開平三埠", "开平市"),
        ("鹤山沙坪前进路3号", "鹤山市"),
        ("恩城街道", "恩平市"),
        ("杜阮镇", "蓬江区"),
    ],
)
def test_address_resolves_to_one_county(address: str, county: str) -> None:
    assert find_county(address) == county


def test_ambiguous_and_unknown_places_ask() -> None:
    assert county_candidates("白沙") == {"蓬江区", "台山市"}
    assert find_county("白沙") is None
    assert find_county("江门市某某路") is None


def test_outside_jiangmen() -> None:
    assert is_outside_jiangmen("广州市天河区")
    assert is_outside_jiangmen("浙江省杭州市余杭区")
    assert not is_outside_jiangmen("新会区会城")


def test_platforms() -> None:
    assert find_platform("淘宝上的小美家居旗舰店") == "淘宝"
    assert find_platform("京東買的空調") == "京东"
    assert find_platform("好又多超市") is None
    assert mentions_online_purchase("在直播间买的")
