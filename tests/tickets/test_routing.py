"""Routing to Jiangmen's county-level bureaus (Art. 12) from the respondent's address."""

from __future__ import annotations

import pytest

from tickets.services.routing import Gazetteer, load_gazetteer, route
from tickets.settings import COUNTIES, PACKAGE_DIR, UNASSIGNED


@pytest.fixture(scope="module")
def gazetteer() -> Gazetteer:
    return load_gazetteer(PACKAGE_DIR / "gazetteer.yml")


@pytest.mark.parametrize(
    ("address", "county"),
    [
        # Full county names decide on their own.
        ("江门市新会区会城街道今洲路12号", "新会区"),
        ("广东省江门市台山市台城街道环市东路", "台山市"),
        ("蓬江区台山路8号", "蓬江区"),
        # Short forms.
        ("新会今古洲大道", "新会区"),
        ("恩平市区", "恩平市"),
        ("鹤山人民路", "鹤山市"),
        # Towns and sub-districts with their suffix.
        ("开平市三埠街道", "开平市"),
        ("水口镇沿江路", "开平市"),
        ("长沙街道幕沙路", "开平市"),
        ("沙坪街道中山路", "鹤山市"),
        ("恩城街道新平路", "恩平市"),
        ("杜阮镇杜臂村", "蓬江区"),
        ("荷塘镇", "蓬江区"),
        ("棠下镇", "蓬江区"),
        ("礼乐街道", "江海区"),
        ("外海街道", "江海区"),
        ("江南街道", "江海区"),
        ("白沙街道", "蓬江区"),
        ("白沙镇", "台山市"),
        # Distinctive town names without suffix.
        ("会城新会城路", "新会区"),
        ("三埠港口路", "开平市"),
        ("恩城", "恩平市"),
        ("上川岛飞沙滩", "台山市"),
        # Weak names count when the address says 江门.
        ("江门台城", "台山市"),
        ("江门沙坪", "鹤山市"),
        ("江门长沙", "开平市"),
        ("江门水口", "开平市"),
        ("江门外海", "江海区"),
        ("江门市环市路", "蓬江区"),
        ("江门北街", "蓬江区"),
    ],
)
def test_recognised_addresses(gazetteer: Gazetteer, address: str, county: str) -> None:
    result = route(address, is_platform=False, hint=None, gazetteer=gazetteer)
    assert result.county == county
    assert result.note is None


@pytest.mark.parametrize(
    ("address", "note_part"),
    [
        # 白沙 is both 蓬江区白沙街道 and 台山市白沙镇.
        ("江门白沙", "蓬江区、台山市"),
        # Two different full county names.
        ("新会区与开平市交界处", "新会区、开平市"),
        # Places outside Jiangmen that share a name with a Jiangmen town.
        ("湖南省长沙市开福区", "不在江门市"),
        ("重庆市沙坪坝区", "不在江门市"),
        ("河北省唐山市开平区", "不在江门市"),
        ("广州市天河区棠下", "不在江门市"),
        # Weak names alone are not enough.
        ("台城", "未能从被投诉人地址识别"),
        ("荷塘", "未能从被投诉人地址识别"),
        # Jiangmen, but no county.
        ("江门市某某路3号", "未能从被投诉人地址识别"),
        # A market named after Beijing is not Beijing.
        ("北京市场", "未能从被投诉人地址识别"),
    ],
)
def test_ambiguous_or_unknown_goes_to_unassigned(
    gazetteer: Gazetteer, address: str, note_part: str
) -> None:
    result = route(address, is_platform=False, hint=None, gazetteer=gazetteer)
    assert result.county == UNASSIGNED
    assert result.note and note_part in result.note


def test_hint_used_only_when_address_yields_nothing(gazetteer: Gazetteer) -> None:
    fallback = route("某某路3号", is_platform=False, hint="台山市", gazetteer=gazetteer)
    assert fallback.county == "台山市" and fallback.note
    no_address = route(None, is_platform=False, hint="开平市", gazetteer=gazetteer)
    assert no_address.county == "开平市"
    # The address wins over a contradicting hint.
    wins = route("江门市新会区会城", is_platform=False, hint="台山市", gazetteer=gazetteer)
    assert wins.county == "新会区"
    # An ambiguous or outside address is not overridden by the hint.
    assert route("江门白沙", is_platform=False, hint="蓬江区", gazetteer=gazetteer).county == (
        UNASSIGNED
    )
    assert route("广州市天河区", is_platform=False, hint="新会区", gazetteer=gazetteer).county == (
        UNASSIGNED
    )
    # A hint that is not a county is ignored.
    assert route(None, is_platform=False, hint="火星", gazetteer=gazetteer).county == UNASSIGNED


def test_platform_goes_to_its_domicile(gazetteer: Gazetteer) -> None:
    # Art. 12 (2): platform operators are handled where the platform is domiciled.
    inside = route("江门市蓬江区白沙大道1号", is_platform=True, hint=None, gazetteer=gazetteer)
    assert inside.county == "蓬江区"
    outside = route("浙江省杭州市余杭区", is_platform=True, hint="新会区", gazetteer=gazetteer)
    assert outside.county == UNASSIGNED
    assert outside.note and "第十二条" in outside.note and "平台" in outside.note
    # Where the consumer lives (the hint) says nothing about the platform's domicile.
    unknown = route(None, is_platform=True, hint="新会区", gazetteer=gazetteer)
    assert unknown.county == UNASSIGNED


def test_gazetteer_lists_every_county_and_towns(gazetteer: Gazetteer) -> None:
    named = {c for counties in gazetteer.strong.values() for c in counties}
    assert named == set(COUNTIES)
    for county in COUNTIES:
        towns = [
            term
            for term, counties in gazetteer.strong.items()
            if counties == {county} and term.endswith(("镇", "街道"))
        ]
        assert len(towns) >= 3, county
