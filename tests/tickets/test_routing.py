"""Routing to Jiangmen's county-level bureaus (Art. 12) from the respondent's address.

The place names themselves are tested in tests/core (core/places.yml and the address set);
here the ticket service's side: the county a ticket gets and the note staff read.
"""

from __future__ import annotations

import pytest

from core.places import UNASSIGNED
from tickets.services.routing import route


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
        ("仓后街道", "蓬江区"),
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
        ("江门市环市街道", "蓬江区"),
        ("江门北街", "蓬江区"),
        # A suffixed town beats a bare name inside a road name (堤东路 is in 赤坎).
        ("江门市赤坎镇堤东路骑楼街", "开平市"),
        ("赤坎镇堤东路骑楼街", "开平市"),
        # Traditional characters are normalised like the assistant does.
        ("臺山市台城", "台山市"),
    ],
)
def test_recognised_addresses(address: str, county: str) -> None:
    result = route(address, is_platform=False, hint=None)
    assert result.county == county
    assert result.note is None
    assert result.assigned


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
        ("重庆市沙坪坝区小龙坎正街1号", "不在江门市"),
        ("河北省唐山市开平区", "不在江门市"),
        ("广州市天河区棠下", "不在江门市"),
        ("湖南长沙芙蓉区", "不在江门市"),
        # Weak names alone are not enough.
        ("台城", "未能从被投诉人地址识别"),
        ("荷塘", "未能从被投诉人地址识别"),
        # A bare name followed by a road suffix is a road, not a place.
        ("江门市环市路", "未能从被投诉人地址识别"),
        # Jiangmen, but no county.
        ("江门市某某路3号", "未能从被投诉人地址识别"),
        # A market named after Beijing is not Beijing.
        ("北京市场", "未能从被投诉人地址识别"),
    ],
)
def test_ambiguous_or_unknown_goes_to_unassigned(address: str, note_part: str) -> None:
    result = route(address, is_platform=False, hint=None)
    assert result.county == UNASSIGNED
    assert not result.assigned
    assert result.note and note_part in result.note


def test_ambiguous_lists_its_candidates() -> None:
    assert route("江门白沙", is_platform=False, hint=None).candidates == ("蓬江区", "台山市")


def test_hint_used_only_when_the_address_leaves_room() -> None:
    fallback = route("某某路3号", is_platform=False, hint="台山市")
    assert fallback.county == "台山市" and fallback.note and "所选" in fallback.note
    no_address = route(None, is_platform=False, hint="开平市")
    assert no_address.county == "开平市"
    # A short form is accepted as the hint.
    assert route(None, is_platform=False, hint="新会").county == "新会区"
    # The address wins over a contradicting hint.
    wins = route("江门市新会区会城", is_platform=False, hint="台山市")
    assert wins.county == "新会区" and wins.note is None
    # The citizen's answer picks between the candidates of an ambiguous address (the
    # assistant asked exactly that), with a note for staff to check.
    settled = route("江门白沙", is_platform=False, hint="蓬江区")
    assert settled.county == "蓬江区"
    assert settled.note and "蓬江区、台山市" in settled.note and "所选的蓬江区" in settled.note
    # …but never outside them, and never against an address outside Jiangmen.
    assert route("江门白沙", is_platform=False, hint="新会区").county == UNASSIGNED
    assert route("广州市天河区", is_platform=False, hint="新会区").county == UNASSIGNED
    assert route("重庆市沙坪坝区小龙坎正街1号", is_platform=False, hint="鹤山市").county == (
        UNASSIGNED
    )
    # A hint that is not a county is ignored.
    assert route(None, is_platform=False, hint="火星").county == UNASSIGNED


def test_platform_goes_to_its_domicile() -> None:
    # Art. 12 (2): platform operators are handled where the platform is domiciled.
    inside = route("江门市蓬江区白沙大道1号", is_platform=True, hint=None)
    assert inside.county == "蓬江区" and inside.note is None
    outside = route("浙江省杭州市余杭区", is_platform=True, hint="新会区")
    assert outside.county == UNASSIGNED
    assert outside.note and "第十二条" in outside.note and "平台" in outside.note
    # Where the consumer lives (the hint) says nothing about the platform's domicile.
    unknown = route(None, is_platform=True, hint="新会区")
    assert unknown.county == UNASSIGNED
    ambiguous = route("江门白沙", is_platform=True, hint="蓬江区")
    assert ambiguous.county == UNASSIGNED and ambiguous.note and "平台" in ambiguous.note


def test_every_reason_has_a_note() -> None:
    from core.places import Reason
    from tickets.services.messages import message

    for reason in Reason:
        if reason is not Reason.ADDRESS:
            assert message(f"routing.{reason.value}").strip(), reason  # KeyError if missing
