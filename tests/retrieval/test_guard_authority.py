"""Off-topic traps and document locality: the data files and the rules that read them."""

from __future__ import annotations

import pytest

from knowledge.authority import load_authority
from retrieval.guard import load_guard


@pytest.mark.parametrize(
    "question",
    ["驾驶执照过期了怎么换", "结婚登记要带什么", "护照在哪里办", "社保断缴怎么办", "车辆年检收费"],
)
def test_other_offices_questions_are_trapped(question: str) -> None:
    assert load_guard().trapped(question)


@pytest.mark.parametrize(
    "question",
    ["营业执照怎么办", "合作社成员身份证明用户口簿行吗", "个体户登记要带身份证吗", "网店要执照吗"],
)
def test_our_questions_pass_the_guard(question: str) -> None:
    assert not load_guard().trapped(question)


def test_locality_from_issuer_title_and_overrides() -> None:
    table = load_authority()
    assert table.describe("江门市市场监督管理局推进百县千镇万村高质量发展工程的若干措施").local
    assert table.describe("广东省市场监管条例", "广东省人民代表大会常务委员会").region == "广东"
    national = table.describe("促进个体工商户发展条例")
    assert national.level == "national" and national.issuer == "国务院"
    assert table.describe("中华人民共和国市场主体登记管理条例").issuer == "国务院"
    assert table.is_local_question("江门个体户有什么补贴")
    assert not table.is_local_question("投诉要什么材料")


def test_bad_authority_file_fails_in_chinese(tmp_path) -> None:
    bad = tmp_path / "authority.yml"
    bad.write_text("rules:\n  - match: x\n    region: y\n    level: city\n", "utf-8")
    with pytest.raises(ValueError, match="规则"):
        load_authority(bad)
