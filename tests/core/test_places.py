"""core.places: the one Jiangmen places table, its rules, and the address set
(tests/core/addresses.yml) every change must still route the same way."""

from __future__ import annotations

from typing import Any

import pytest
import yaml

from core import places
from core.places import (
    COUNTIES,
    UNASSIGNED,
    PlacesTable,
    Reason,
    Status,
    county_display,
    find_county,
    find_platform,
    is_outside_jiangmen,
    mentions_online_purchase,
    resolve,
)
from knowledge.normalize import normalize_text
from tests.core.address_set import ADDRESSES, case_id

TABLE = places.load_table()


# ------------------------------------------------------------------------- the table
def test_counties_and_unassigned() -> None:
    assert COUNTIES == ("蓬江区", "江海区", "新会区", "台山市", "开平市", "鹤山市", "恩平市")
    assert UNASSIGNED == "待分派"
    assert places.SHORT_NAMES == ("蓬江", "江海", "新会", "台山", "开平", "鹤山", "恩平")


@pytest.mark.parametrize("county", COUNTIES)
def test_every_town_has_its_suffix_and_its_bare_name(county: str) -> None:
    towns = TABLE.towns[county]
    assert len(towns) >= 3, county
    assert all(t.endswith(("镇", "街道")) for t in towns)
    bare = set(TABLE.strong[county]) | set(TABLE.weak[county])
    for town in towns:
        assert town.removesuffix("街道").removesuffix("镇") in bare, town
    assert not set(TABLE.strong[county]) & set(TABLE.weak[county])


def test_township_counts() -> None:
    """街道 + 镇 per unit, as the table's header comment states."""
    counts = {c: len(TABLE.towns[c]) for c in COUNTIES}
    assert counts == {
        "蓬江区": 9,
        "江海区": 3,
        "新会区": 11,
        "台山市": 17,
        "开平市": 15,
        "鹤山市": 10,
        "恩平市": 11,
    }


def test_only_weak_names_are_shared_between_counties() -> None:
    shared = {name: term for name, term in TABLE.terms.items() if len(term.counties) > 1}
    assert set(shared) == {"白沙"}
    assert all(term.weak for term in shared.values())


def test_malformed_table_is_refused() -> None:
    raw = yaml.safe_load(places.PLACES_FILE.read_text(encoding="utf-8"))
    raw["counties"]["新会区"]["towns"].append("会城")
    with pytest.raises(ValueError, match="镇 or 街道"):
        PlacesTable.from_mapping(raw)
    raw = yaml.safe_load(places.PLACES_FILE.read_text(encoding="utf-8"))
    raw["counties"]["新会区"]["strong"].append("沙坪")  # weak for 鹤山市
    with pytest.raises(ValueError, match="沙坪"):
        PlacesTable.from_mapping(raw)


# ------------------------------------------------------------------------- the address set
def test_address_set_covers_every_town() -> None:
    assert len(ADDRESSES) >= 50
    for county in COUNTIES:
        texts = [normalize_text(c["address"]) for c in ADDRESSES if c["county"] == county]
        for town in TABLE.towns[county]:
            assert any(town in text for text in texts), f"no address in {town}"
    statuses = {c.get("status") for c in ADDRESSES}
    assert {"outside", "ambiguous", "unknown"} <= statuses
    assert any(c.get("platform") for c in ADDRESSES)


@pytest.mark.parametrize("case", ADDRESSES, ids=case_id)
def test_address_goes_to_its_county(case: dict[str, Any]) -> None:
    placement = resolve(normalize_text(case["address"]), platform=bool(case.get("platform")))
    assert county_display(placement.county) == case["county"], placement
    if "status" in case:
        assert placement.status.value == case["status"], placement
    if case.get("respondent"):
        respondent = normalize_text(case["respondent"])
        assert bool(find_platform(respondent) or mentions_online_purchase(respondent)) == bool(
            case.get("platform")
        )


# ------------------------------------------------------------------------- the rules
def test_issue_cases() -> None:
    # The assistant used to show 鹤山市 for this (沙坪 matched inside 沙坪坝).
    chongqing = resolve("重庆市沙坪坝区小龙坎正街1号")
    assert (chongqing.county, chongqing.status) == (None, Status.OUTSIDE)
    # 堤东 inside the road name 堤东路 used to tie with 赤坎镇.
    chikan = resolve("江门市赤坎镇堤东路骑楼街")
    assert (chikan.county, chikan.terms) == ("开平市", ("赤坎镇",))


def test_full_names_decide_and_conflicts_are_ambiguous() -> None:
    assert resolve("蓬江区台山路8号").county == "蓬江区"
    both = resolve("新会区与开平市交界处")
    assert both.status is Status.AMBIGUOUS and both.candidates == ("新会区", "开平市")


def test_suffixed_town_outranks_bare_names() -> None:
    # 恩平 in a shop's name does not outvote the 街道 the shop is in.
    assert resolve("江门市白沙街道恩平烧鹅店").county == "蓬江区"


@pytest.mark.parametrize(
    ("address", "county"),
    [
        ("江门市环市路", None),
        ("江门市环市东路", None),
        ("江门市环市街道", "蓬江区"),
        ("江门市堤东路", None),
        ("堤东街道", "蓬江区"),
        ("江门市东成村", None),
        ("新会今古洲大道", "新会区"),
    ],
)
def test_bare_name_before_a_road_suffix_is_a_road(address: str, county: str | None) -> None:
    assert resolve(address).county == county


def test_hint_rules() -> None:
    assert resolve(None, "新会区") == places.Placement("新会区", Status.HINTED, Reason.HINT_USED)
    assert resolve("某某路3号", "台城").county == "台山市"  # an answer to "which district?"
    settled = resolve("江门白沙", "台山市")
    assert (settled.county, settled.reason) == ("台山市", Reason.HINT_SETTLED)
    assert resolve("江门白沙", "新会区").status is Status.AMBIGUOUS
    assert resolve("重庆市沙坪坝区", "鹤山市").status is Status.OUTSIDE
    assert resolve("江门市新会区", "台山市").county == "新会区"
    assert resolve(None, "火星").reason is Reason.NO_ADDRESS


def test_platform_rules() -> None:
    """Art. 12: the platform's domicile or the shop's place of business, never the hint."""
    assert resolve("江门市蓬江区白沙大道1号", platform=True).county == "蓬江区"
    for address in (None, "浙江省杭州市余杭区", "江门白沙", "某某路"):
        placement = resolve(address, "新会区", platform=True)
        assert placement.county is None
        assert placement.reason is Reason.PLATFORM_OUTSIDE


# ------------------------------------------------------------------------- free text
@pytest.mark.parametrize(
    ("text", "county"),
    [
        ("新会区会城中心南路12号", "新会区"),
        ("会城今洲路", "新会区"),
        ("蓬江区建设二路88号", "蓬江区"),
        ("江门市江海区外海街道", "江海区"),
        ("臺山市台城", "台山市"),
        ("開平三埠", "开平市"),
        ("鹤山沙坪前进路3号", "鹤山市"),
        ("恩城街道", "恩平市"),
        ("杜阮镇", "蓬江区"),
        ("我在新会区的好又多超市买到过期牛奶", "新会区"),
        # Weak names alone are not enough in free text…
        ("台城环北大道", None),
        ("白沙", None),
        ("江门白沙", None),
        ("江门市某某路", None),
        ("重庆市沙坪坝区小龙坎正街1号", None),
    ],
)
def test_find_county_in_free_text(text: str, county: str | None) -> None:
    assert find_county(normalize_text(text)) == county


def test_answers_to_which_district() -> None:
    # …but they are when the text answers "which district of Jiangmen?".
    assert find_county("台城", in_jiangmen=True) == "台山市"
    assert find_county("沙坪", in_jiangmen=True) == "鹤山市"
    assert find_county("新会", in_jiangmen=True) == "新会区"
    assert find_county("白沙", in_jiangmen=True) is None
    assert find_county("重庆", in_jiangmen=True) is None
    assert find_county("开平市") == "开平市"


def test_outside_jiangmen() -> None:
    assert is_outside_jiangmen("广州市天河区")
    assert is_outside_jiangmen("浙江省杭州市余杭区")
    assert is_outside_jiangmen("湖南长沙")
    assert not is_outside_jiangmen("新会区会城")
    assert not is_outside_jiangmen("鹤山沙坪重庆火锅店")
    assert not is_outside_jiangmen("北京路12号")


def test_platforms() -> None:
    assert find_platform("淘宝上的小美家居旗舰店") == "淘宝"
    assert find_platform(normalize_text("京東買的空調")) == "京东"
    assert find_platform("1688批发") == "1688"
    assert find_platform("好又多超市") is None
    assert mentions_online_purchase("在直播间买的")
    assert mentions_online_purchase("在APP上下单")
    assert not mentions_online_purchase("好又多超市")


def test_county_display() -> None:
    assert county_display("新会区") == "新会区"
    for value in (None, "", "unknown", "outside", "待分派", "广州市"):
        assert county_display(value) == UNASSIGNED
    assert resolve("江门白沙").display == UNASSIGNED
