"""Output shaping for WeChat: markdown stripping, byte-limited splitting, choices."""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from channels.pairing import take_reply
from channels.wechat_text import (
    CITATION_RE,
    cdata_safe,
    render_messages,
    resolve_choice,
    split_message,
    strip_markdown,
    utf8_len,
)
from core.replies import (
    abstention_payload,
    answer_payload,
    render_text,
    summary_payload,
)
from core.replies import (
    citation as cite,
)

CITE = "《促进个体工商户发展条例》第十三条"


def test_strip_markdown_keeps_words_and_link_targets() -> None:
    md = (
        "## 个转企扶持\n\n"
        "**可以**保留原有的 *字号*，详见 [江门市政府网](https://www.jiangmen.gov.cn/a)。\n"
        "- 第一项\n"
        "* 第二项\n"
        "> 引用的话\n\n\n\n"
        "`代码` 与 ~~删除~~\n"
        "---\n"
        "| 项目 | 期限 |\n|---|---|\n| 受理 | 7 个工作日 |"
    )
    plain = strip_markdown(md)
    assert plain.splitlines()[0] == "个转企扶持"
    assert "可以保留原有的 字号，详见 江门市政府网（https://www.jiangmen.gov.cn/a）。" in plain
    assert "• 第一项" in plain and "• 第二项" in plain
    assert "引用的话" in plain and ">" not in plain
    assert "代码 与 删除" in plain
    assert "受理  7 个工作日" in plain
    for marker in ("**", "##", "`", "~~", "---", "|", "\n\n\n"):
        assert marker not in plain, marker


def test_strip_markdown_leaves_plain_chinese_and_math_alone() -> None:
    text = "金额 3*5 元，编号 JM2026-000123；《条例》第十三条。"
    assert strip_markdown(text) == text


def test_short_text_is_one_piece() -> None:
    assert split_message("您好", 2000) == ["您好"]
    assert split_message("  \n ", 2000) == []


def test_long_answer_splits_at_sentence_ends_below_limit() -> None:
    sentence = f"根据{CITE}的规定，个体工商户可以依法转型为企业。"
    text = sentence * 80  # ~ 6 KB
    pieces = split_message(text, 2000)
    assert len(pieces) > 2
    assert all(utf8_len(p) <= 2000 for p in pieces)
    assert all(p.endswith("。") for p in pieces)
    assert "".join(pieces) == text


def test_cut_never_lands_inside_a_citation() -> None:
    # No punctuation at all: only the citation guard decides where to cut.
    filler = "甲" * 660  # 1980 bytes, so the byte limit falls inside the citation
    text = filler + CITE + "乙" * 700
    pieces = split_message(text, 2000)
    assert pieces[0] == filler
    assert pieces[1].startswith(CITE)
    assert all(utf8_len(p) <= 2000 for p in pieces)


_words = st.sampled_from(
    ["个体工商户", "可以", "申请", "。", "，", "\n", "\n\n", " ", "a", "3", "；", CITE, "《条例》"]
)


@settings(max_examples=60, deadline=None)
@given(parts=st.lists(_words, min_size=1, max_size=400), limit=st.integers(200, 800))
def test_split_properties(parts: list[str], limit: int) -> None:
    text = "".join(parts)
    pieces = split_message(text, limit)
    assert all(0 < utf8_len(p) <= limit for p in pieces)
    squash = re.compile(r"\s+")
    assert squash.sub("", "".join(pieces)) == squash.sub("", text)
    whole = {m.group(0) for m in CITATION_RE.finditer(text)}
    for citation in whole:
        count_in = len(re.findall(re.escape(citation), text))
        count_out = sum(len(re.findall(re.escape(citation), p)) for p in pieces)
        assert count_out == count_in, citation


def test_cdata_safe_keeps_reply_xml_intact() -> None:
    hostile = "您说：]]><MsgType><![CDATA[news]]></MsgType><x>"
    xml = f"<xml><Content><![CDATA[{cdata_safe(hostile)}]]></Content></xml>"
    root = ET.fromstring(xml)
    assert [child.tag for child in root] == ["Content"]
    assert root.find("Content").text == hostile  # type: ignore[union-attr]


def test_buttons_become_numbered_choices() -> None:
    messages: list[dict[str, Any]] = [
        {"recipient_id": "u", "text": "请问您要办哪一种？"},
        {
            "recipient_id": "u",
            "text": "**请选择**",
            "buttons": [
                {"title": "我要投诉", "payload": "/file_complaint"},
                {"title": "我要举报", "payload": "/file_report"},
            ],
        },
    ]
    text, choices = render_messages(messages, "请回复序号选择：")
    assert text == "请问您要办哪一种？\n\n请选择\n\n请回复序号选择：\n1. 我要投诉\n2. 我要举报"
    assert choices == [("我要投诉", "/file_complaint"), ("我要举报", "/file_report")]
    assert resolve_choice("2", choices) == "/file_report"
    assert resolve_choice("２", choices) == "/file_report"
    assert resolve_choice("我要投诉", choices) == "/file_complaint"
    assert resolve_choice("3", choices) == "3"
    assert resolve_choice("13912345678", choices) == "13912345678"
    assert resolve_choice("1", []) == "1"


# ---------------------------------------------------------------- structured replies
SUMMARY_VALUES = {
    "complainant_name": "张三",
    "masked_phone": "139****5678",
    "complainant_address": "江门市蓬江区发展大道 100 号",
    "respondent_name": "好味食品店",
    "respondent_address_display": "江门市蓬江区建设路 1 号",
    "county_display": "蓬江区",
    "product": "牛奶",
    "date_display": "2026-12-04",
    "amount_display": "35.00元",
    "demand_display": "退款",
    "facts": "买到的牛奶已经过期了。",
    "evidence_display": "购物小票",
    "consent_display": "是",
}
SUMMARY_BUTTONS = [
    {"title": "确认提交", "payload": "/affirm"},
    {"title": "修改", "payload": "/deny"},
    {"title": "取消", "payload": "/cancel"},
]


def test_complaint_summary_payload_is_one_field_a_line() -> None:
    """The confirmation step as WeChat shows it: rendered from the payload, not the text."""
    payload = summary_payload("complaint", SUMMARY_VALUES)
    # As the channel's collector pairs it (channels.pairing): text, buttons, payload.
    message = {"recipient_id": "u", "text": render_text(payload), "buttons": SUMMARY_BUTTONS}
    text, choices = render_messages([{**message, "custom": payload}], "请回复序号选择：")
    assert text == (
        "请核对您的投诉信息：\n"
        "投诉人：张三\n"
        "电话：139****5678\n"
        "地址：江门市蓬江区发展大道 100 号\n"
        "被投诉商家：好味食品店\n"
        "商家地址：江门市蓬江区建设路 1 号\n"
        "办理单位：蓬江区\n"
        "商品/服务：牛奶\n"
        "时间：2026-12-04\n"
        "金额：35.00元\n"
        "投诉请求：退款\n"
        "事情经过：买到的牛奶已经过期了。\n"
        "证据：购物小票\n"
        "同意向商家提供联系方式用于调解：是\n"
        "信息无误请点“确认提交”；要修改请直接说，例如“电话写错了，是139xxxxxxxx”。\n\n"
        "请回复序号选择：\n1. 确认提交\n2. 修改\n3. 取消"
    )
    assert choices == [(b["title"], b["payload"]) for b in SUMMARY_BUTTONS]


def test_answer_payload_reads_as_its_text() -> None:
    payload = answer_payload(
        "个转企的，每户一次性资助1万元。",
        "",
        [cite("江门市若干措施", "第14项", "2023-04-04", "14.实施市场主体培育计划……")],
    )
    message = {"text": render_text(payload), "custom": payload}
    text, choices = render_messages([message], "请回复序号选择：")
    assert text == render_text(payload)
    assert "· 《江门市若干措施》第14项（2023-04-04）" in text and choices == []


def test_abstention_without_its_message_falls_back_to_the_text() -> None:
    payload = abstention_payload("")
    text, _ = render_messages([{"text": "抱歉，没有找到。", "custom": payload}], "请回复：")
    assert text == "抱歉，没有找到。"


def test_pairing_makes_one_message_of_text_buttons_and_payload() -> None:
    payload = summary_payload("complaint", SUMMARY_VALUES)
    message = {
        "text": render_text(payload),
        "buttons": SUMMARY_BUTTONS,
        "custom": payload,
        "image": "https://example.org/a.png",
    }
    reply = take_reply(message)
    assert reply == {"text": render_text(payload), "buttons": SUMMARY_BUTTONS, "custom": payload}
    assert message == {"image": "https://example.org/a.png"}  # left for Rasa's usual path
    other = {"text": "你好", "custom": {"type": "video"}}
    assert take_reply(other) is None and other == {"text": "你好", "custom": {"type": "video"}}
    assert take_reply({"custom": payload}) is None  # no text beside it: nothing to pair
