"""Structured replies (core/replies.py): the payload builders and the one text rendering.

The text of every payload must be what clients read before payloads existed: the
answer layout of the engine (lead, explanation, 依据, · citation（date）, notes and
quotes) and, for the summaries, the domain responses ``utter_complaint_summary`` and
``utter_report_summary`` that Rasa still renders for the bot's text.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
import yaml

from core.replies import (
    abstention_payload,
    answer_payload,
    citation,
    is_payload,
    render_text,
    strings,
    summary_payload,
)

REPO = Path(__file__).resolve().parents[2]
DATA = Path(__file__).resolve().parent / "data"

COMPLAINT = {
    "complainant_name": "张三",
    "masked_phone": "139****5678",
    "complainant_address": "江门市蓬江区发展大道 100 号 3 栋 201 房",
    "respondent_name": "好味食品店",
    "respondent_address_display": "江门市蓬江区白沙街道建设路 1 号",
    "county_display": "蓬江区",
    "product": "牛奶",
    "date_display": "2026-12-04",
    "amount_display": "35.00元",
    "demand_display": "退款",
    "facts": "买到的牛奶已经过期了，找店家退款被拒绝。",
    "evidence_display": "有购物小票和商品照片",
    "consent_display": "是",
}
REPORT = {
    "respondent_name": "某某烟酒店",
    "respondent_address_display": "未提供",
    "county_display": "待分派",
    "facts": "店里长期卖过期饮料，{不是模板}，顾客多次投诉。",
    "evidence_display": "无",
    "reporter_display": "匿名",
}


def _domain_text(response: str) -> str:
    domain = yaml.safe_load((REPO / "bot" / "domain.yml").read_text(encoding="utf-8"))
    return str(domain["responses"][response][0]["text"])


# ---------------------------------------------------------------- answers
def test_real_answers_read_as_before() -> None:
    """Texts the engine wrote before payloads existed, with the payloads it builds now.

    Captured from the engine at commit 098e099 over the core corpus and FAQ: a curated
    answer with an explanation and a repealed source, a passage answer citing two
    articles, a passage lead (（见…）), and an abstention. The whole dev, stress,
    holdout, FAQ-paraphrase and calibration sets (289 questions) were compared the same
    way when the payloads were introduced: no text, citation or lead changed.
    """
    cases = json.loads((DATA / "answers_before_payloads.json").read_text(encoding="utf-8"))
    assert len(cases) == 4
    for case in cases:
        assert render_text(case["payload"]) == case["text"], case["question"]
    repealed = cases[0]["payload"]["citations"][2]
    assert repealed["superseded_by"] and repealed["clause"] == "第十五条"
    assert cases[3]["payload"]["abstained"] is True


def test_passage_answer_text_is_the_engine_layout() -> None:
    """Two sources, one dated, the other repealed: the text the engine always wrote."""
    payload = answer_payload(
        "个转企的，每户一次性资助1万元（见《江门市若干措施》第14项）",
        "",
        [
            citation("江门市若干措施", "第14项", "2023-04-04", "14.实施市场主体培育计划……"),
            citation("个体工商户条例", "第二十八条", None, "第二十八条 本条例自……", "新条例"),
        ],
    )
    assert render_text(payload) == (
        "个转企的，每户一次性资助1万元（见《江门市若干措施》第14项）\n"
        "依据：\n"
        "· 《江门市若干措施》第14项（2023-04-04）\n"
        "  原文：14.实施市场主体培育计划……\n"
        "· 《个体工商户条例》第二十八条\n"
        "  原文：（注意：该文件已被新条例取代，以下仅供参考）\n"
        "  原文：第二十八条 本条例自……"
    )
    assert [c["citation"] for c in payload["citations"]] == [
        "《江门市若干措施》第14项",
        "《个体工商户条例》第二十八条",
    ]
    assert payload["citations"][0]["title"] == "江门市若干措施"
    assert payload["citations"][0]["clause"] == "第14项"


def test_curated_answer_with_explanation_and_unquoted_source() -> None:
    payload = answer_payload(
        "个体工商户转为企业后，可以保留原字号。",
        "办理时向登记机关说明即可。",
        [citation("促进个体工商户发展条例", "第十三条", "2022-11-01")],
    )
    assert render_text(payload) == (
        "个体工商户转为企业后，可以保留原字号。\n"
        "办理时向登记机关说明即可。\n"
        "依据：\n"
        "· 《促进个体工商户发展条例》第十三条（2022-11-01）"
    )


def test_abstention_is_its_message_with_offers() -> None:
    payload = abstention_payload("  抱歉，没有找到。\n")
    assert render_text(payload) == "抱歉，没有找到。"
    assert payload["abstained"] is True and payload["citations"] == []
    assert [(o["kind"], o["value"]) for o in payload["offers"]] == [
        ("hotline", "12315"),
        ("handoff", "/human_handoff"),
    ]


def test_payloads_are_plain_json() -> None:
    """They travel as Rasa's ``custom`` and sit in tracker events: JSON round-trips."""
    for payload in (
        answer_payload("甲。", "", [citation("乙", "第一条")]),
        abstention_payload("无。"),
        summary_payload("complaint", COMPLAINT),
    ):
        again = json.loads(json.dumps(payload, ensure_ascii=False))
        assert again == payload and is_payload(again)
        assert render_text(again) == render_text(payload)
    assert not is_payload({"type": "other"}) and not is_payload("answer")


# ---------------------------------------------------------------- summaries
@pytest.mark.parametrize(
    ("form", "values", "response"),
    [
        ("complaint", COMPLAINT, "utter_complaint_summary"),
        ("report", REPORT, "utter_report_summary"),
    ],
)
def test_summary_text_is_the_domain_response(
    form: Any, values: dict[str, str], response: str
) -> None:
    """What REST clients read (Rasa renders the domain response) is what the payload says."""
    payload = summary_payload(form, values)
    assert render_text(payload) == _domain_text(response).format(**values)


def test_summary_fields_are_rows_in_order() -> None:
    payload = summary_payload("complaint", COMPLAINT)
    assert payload["type"] == "complaint_summary" and payload["form"] == "complaint"
    assert payload["title"] == "请核对您的投诉信息"
    assert [f["key"] for f in payload["fields"]] == list(COMPLAINT)
    assert payload["fields"][1] == {"key": "masked_phone", "label": "电话", "value": "139****5678"}
    assert payload["hint"].startswith("信息无误请点“确认提交”")


def test_summary_one_field_a_line() -> None:
    payload = summary_payload("report", REPORT)
    assert render_text(payload, field_per_line=True) == (
        "请核对您的举报信息：\n"
        "被举报经营者：某某烟酒店\n"
        "经营地址：未提供\n"
        "办理单位：待分派\n"
        "具体线索：店里长期卖过期饮料，{不是模板}，顾客多次投诉。\n"
        "证据：无\n"
        "举报人：匿名\n"
        "信息无误请点“确认提交”；要修改请直接说。"
    )


def test_summary_needs_every_field() -> None:
    values = dict(COMPLAINT)
    del values["facts"]
    with pytest.raises(KeyError):
        summary_payload("complaint", values)


def test_every_layout_names_only_its_fields() -> None:
    """A line of the text layout may only use fields the card shows, and uses them all."""
    import string

    for form, spec in strings()["summaries"].items():
        used = {
            name
            for line in spec["lines"]
            for _, name, _, _ in string.Formatter().parse(line)
            if name
        }
        assert used == set(spec["fields"]), form


def test_unknown_payload_type_is_refused() -> None:
    with pytest.raises(ValueError):
        render_text({"type": "card"})
