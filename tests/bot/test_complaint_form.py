"""The complaint form driven turn by turn through ValidateComplaintForm."""

from __future__ import annotations

import asyncio
from datetime import date, timedelta
from typing import Any

import pytest
from rasa_sdk.executor import CollectingDispatcher

from bot.actions.common import COUNTY_OUTSIDE, COUNTY_UNKNOWN
from bot.actions.complaint_form import (
    ActionAskComplaintConfirmed,
    ValidateComplaintForm,
    complaint_summary,
)
from core.replies import render_text
from tests.bot.conftest import make_tracker, user_message


@pytest.fixture
def complaint(form_driver: Any) -> Any:
    return form_driver(ValidateComplaintForm(), "complaint_form")


def test_one_message_fills_several_slots(complaint: Any) -> None:
    complaint.say(
        "我在新会区的好又多超市买到过期牛奶，花了35元", intent="file_complaint", confidence=0.95
    )
    s = complaint.slots
    assert s["respondent_name"] == "好又多超市"
    assert s["county"] == "新会区"
    assert s["product"] == "牛奶"
    assert s["amount"] == "35.00"
    assert s["facts"] == "我在新会区的好又多超市买到过期牛奶，花了35元"
    assert complaint.requested == "respondent_address"


def test_dietentities_take_precedence(complaint: Any) -> None:
    complaint.say(
        "我要投诉美家装饰",
        intent="file_complaint",
        entities={"merchant": "江门市美家装饰工程有限公司"},
    )
    assert complaint.slots["respondent_name"] == "江门市美家装饰工程有限公司"


def full_happy_path(complaint: Any) -> None:
    complaint.say("我要投诉", intent="file_complaint", confidence=0.99)
    assert complaint.requested == "respondent_name"
    complaint.say("是百佳超市")
    complaint.say("会城中心南路12号")
    assert complaint.slots["county"] == "新会区"
    complaint.say("一台电饭煲")
    complaint.say("上周五")
    complaint.say("三百五")
    complaint.say("用了两天就坏了，找商家也不给换")
    complaint.say("退货")
    complaint.say("我叫陈大文")
    complaint.say("139 1234 5678")
    complaint.say("蓬江区白沙大道西1号")
    complaint.say("没有", intent="deny", confidence=0.95)
    complaint.say("/affirm", intent="affirm", confidence=1.0)


def test_full_conversation_reaches_the_review(complaint: Any) -> None:
    full_happy_path(complaint)
    s = complaint.slots
    assert complaint.requested == "complaint_confirmed"
    assert s["respondent_name"] == "百佳超市"
    assert s["respondent_address"] == "会城中心南路12号"
    assert s["product"] == "一台电饭煲"
    assert s["incident_date"] is not None and date.fromisoformat(s["incident_date"]) < date.today()
    assert s["amount"] == "350.00"
    assert s["demand"] == "退货"
    assert s["complainant_name"] == "陈大文"
    assert s["complainant_phone"] == "13912345678"
    assert s["complainant_address"] == "蓬江区白沙大道西1号"
    assert s["evidence"] == []
    assert s["consent_share_contact"] is True
    complaint.say("确认提交", intent="affirm", confidence=0.97)
    assert complaint.slots["complaint_confirmed"] is True
    assert complaint.active is False


def test_summary_masks_the_phone(complaint: Any, domain: dict[str, Any]) -> None:
    full_happy_path(complaint)
    dispatcher = CollectingDispatcher()
    asyncio.run(
        ActionAskComplaintConfirmed().run(dispatcher, make_tracker(complaint.slots), domain)
    )
    [message] = dispatcher.messages
    assert message["response"] == "utter_complaint_summary"
    assert message["masked_phone"] == "139****5678"
    assert "13912345678" not in str(message)
    assert message["amount_display"] == "350.00元"
    assert message["county_display"] == "新会区"


def test_summary_payload_is_the_text_one_field_a_row(complaint: Any, domain: dict) -> None:
    """The confirmation step carries the summary as a payload (core.replies) whose text
    is exactly what Rasa renders from the domain response for plain clients."""
    full_happy_path(complaint)
    dispatcher = CollectingDispatcher()
    asyncio.run(
        ActionAskComplaintConfirmed().run(dispatcher, make_tracker(complaint.slots), domain)
    )
    [message] = dispatcher.messages
    payload = message["custom"]
    assert payload["type"] == "complaint_summary" and payload["form"] == "complaint"
    rows = {f["label"]: f["value"] for f in payload["fields"]}
    assert rows["电话"] == "139****5678" and rows["金额"] == "350.00元"
    assert "13912345678" not in str(payload)
    template = domain["responses"]["utter_complaint_summary"][0]["text"]
    assert render_text(payload) == template.format(**message)


def test_correction_mid_form_overwrites_and_says_so(complaint: Any) -> None:
    full_happy_path(complaint)
    complaint.say("电话写错了，是13912345678")  # same number: nothing to announce
    assert "utter_slot_updated" not in complaint.responses()
    complaint.say("电话写错了，是13800138000")
    assert complaint.slots["complainant_phone"] == "13800138000"
    assert complaint.responses() == ["utter_slot_updated"]
    assert complaint.messages[0]["value"] == "138****8000"
    assert complaint.requested == "complaint_confirmed"  # the review is shown again


def test_corrections_before_the_review(complaint: Any) -> None:
    complaint.say("我要投诉", intent="file_complaint", confidence=0.99)
    complaint.say("百佳超市")
    complaint.say("会城中心南路12号")
    complaint.say("电饭煲")
    complaint.say("昨天")
    complaint.say("300元")
    assert complaint.requested == "facts"
    complaint.say("金额不对，应该是350元")
    assert complaint.slots["amount"] == "350.00"
    assert complaint.requested == "facts"  # the question asked before is asked again


def test_naming_a_field_at_review_reopens_it(complaint: Any) -> None:
    full_happy_path(complaint)
    complaint.say("我要改一下地址", intent="deny", confidence=0.8)
    assert complaint.slots["complainant_address"] is None
    assert complaint.requested == "complainant_address"
    complaint.say("江海区外海街道金溪路8号")
    assert complaint.requested == "complaint_confirmed"


def test_plain_deny_at_review_asks_what_to_change(complaint: Any) -> None:
    full_happy_path(complaint)
    complaint.say("不对", intent="deny", confidence=0.95)
    assert complaint.responses() == ["utter_ask_what_to_correct"]
    assert complaint.slots["complaint_confirmed"] is None
    assert complaint.requested == "complaint_confirmed"


@pytest.mark.parametrize(
    ("intent", "text"),
    [
        ("ask_policy", "个转企有什么补贴"),
        ("human_handoff", "转人工"),
        ("cancel", "算了不投诉了"),
        ("chitchat", "你叫什么名字"),
        ("out_of_scope", "今晚吃什么"),
    ],
)
def test_interruptions_reject_the_form(complaint: Any, intent: str, text: str) -> None:
    complaint.say("我要投诉", intent="file_complaint", confidence=0.99)
    before = dict(complaint.slots)
    complaint.say(text, intent=intent, confidence=0.93)
    assert complaint.rejected is True
    assert complaint.slots == before


def test_low_confidence_interruption_is_treated_as_an_answer(complaint: Any) -> None:
    complaint.say("我要投诉", intent="file_complaint", confidence=0.99)
    complaint.say("好又多", intent="greet", confidence=0.41)
    assert complaint.rejected is False
    assert complaint.slots["respondent_name"] == "好又多"


def test_form_resumes_without_reusing_the_question(complaint: Any, domain: dict[str, Any]) -> None:
    """After a rule answered a digression, the question must not become a slot value."""
    complaint.say("我要投诉", intent="file_complaint", confidence=0.99)
    slots = dict(complaint.slots)
    tracker = make_tracker(
        slots,
        user_message("个转企有什么补贴", "ask_policy", 0.95),
        after_user=[
            {"event": "action", "name": "complaint_form"},
            {"event": "action_execution_rejected", "name": "complaint_form"},
            {"event": "action", "name": "action_answer_from_knowledge"},
            {"event": "slot", "name": "requested_slot", "value": "respondent_name"},
            {"event": "action", "name": "complaint_form"},
        ],
        active_loop="complaint_form",
    )
    events = asyncio.run(ValidateComplaintForm().run(CollectingDispatcher(), tracker, domain))
    assert [e for e in events if e.get("name") != "requested_slot"] == []


def test_invalid_answers_are_explained_and_asked_again(complaint: Any) -> None:
    complaint.say("我要投诉", intent="file_complaint", confidence=0.99)
    for answer in ["百佳超市", "会城中心南路12号", "牛奶"]:
        complaint.say(answer)
    complaint.say("下个月")
    assert complaint.requested == "incident_date"
    assert complaint.responses() in (["utter_date_in_future"], ["utter_invalid_date"])
    complaint.say("很久以前吧")
    assert complaint.responses() == ["utter_invalid_date"]
    complaint.say("2021年5月3号")
    assert complaint.responses() == ["utter_date_too_old"]
    assert complaint.slots["incident_date"] == "2021-05-03"
    complaint.say("一些钱")
    assert complaint.responses() == ["utter_invalid_amount"]
    complaint.say("没有", intent="deny", confidence=0.9)
    assert complaint.slots["amount"] == "none"


def test_phone_without_area_code(complaint: Any) -> None:
    complaint.slots.update(
        respondent_name="百佳超市",
        respondent_address="会城",
        county="新会区",
        product="牛奶",
        incident_date="2026-01-02",
        amount="35.00",
        facts="牛奶过期了，店员不肯退",
        demand="退款",
        complainant_name="陈大文",
        requested_slot="complainant_phone",
    )
    complaint.active = True
    complaint.say("3123456")
    assert complaint.responses() == ["utter_phone_needs_area_code"]
    assert complaint.requested == "complainant_phone"
    complaint.say("0750-3123456")
    assert complaint.slots["complainant_phone"] == "0750-3123456"


def test_demand_other_asks_for_the_specific_request(complaint: Any) -> None:
    complaint.slots.update(
        respondent_name="百佳超市",
        respondent_address="会城",
        county="新会区",
        product="电饭煲",
        incident_date="2026-01-02",
        amount="350.00",
        facts="电饭煲用了两天就坏了",
        requested_slot="demand",
    )
    complaint.active = True
    complaint.say("其他")
    assert complaint.slots["demand"] == "其他"
    assert complaint.requested == "demand_detail"
    complaint.say("上门维修就行")
    assert complaint.slots["demand_detail"] == "上门维修就行"
    assert complaint.requested == "complainant_name"


def test_unclear_address_asks_the_county(complaint: Any) -> None:
    complaint.say("我要投诉", intent="file_complaint", confidence=0.99)
    complaint.say("明记餐厅")
    complaint.say("江门市建设路")
    assert complaint.requested == "county"
    assert "utter_county_unclear" in complaint.responses()
    complaint.say("鹤山市")
    assert complaint.slots["county"] == "鹤山市"


def test_address_outside_jiangmen_shows_unassigned(complaint: Any) -> None:
    """沙坪 inside 重庆沙坪坝 once made the summary say 鹤山市 while the ticket said 待分派."""
    complaint.say("我要投诉", intent="file_complaint", confidence=0.99)
    complaint.say("明记餐厅")
    complaint.say("重庆市沙坪坝区小龙坎正街1号")
    assert complaint.responses() == ["utter_county_outside"]
    assert complaint.slots["county"] == COUNTY_OUTSIDE
    assert complaint.requested == "product"
    assert complaint_summary(make_tracker(complaint.slots))["county_display"] == "待分派"


def test_ambiguous_address_asks_and_the_answer_settles_it(complaint: Any) -> None:
    complaint.say("我要投诉", intent="file_complaint", confidence=0.99)
    complaint.say("明记餐厅")
    complaint.say("江门白沙")  # 蓬江区白沙街道 or 台山市白沙镇
    assert complaint.requested == "county"
    assert "utter_county_unclear" in complaint.responses()
    assert complaint_summary(make_tracker(complaint.slots))["county_display"] == "待分派"
    complaint.say("台山")
    assert complaint.slots["county"] == "台山市"
    assert complaint_summary(make_tracker(complaint.slots))["county_display"] == "台山市"


def test_road_named_after_a_place_is_not_the_place(complaint: Any) -> None:
    complaint.say("我要投诉", intent="file_complaint", confidence=0.99)
    complaint.say("骑楼小吃店")
    complaint.say("江门市赤坎镇堤东路骑楼街")
    assert complaint.slots["county"] == "开平市"


def test_platform_with_unclear_address_is_not_asked_the_district(complaint: Any) -> None:
    """Art. 12: the platform's domicile decides, so the consumer's answer could not help."""
    complaint.say("我要投诉", intent="file_complaint", confidence=0.99)
    complaint.say("拼多多上的小店")
    complaint.say("江门白沙")
    assert complaint.slots["county"] == COUNTY_UNKNOWN
    assert "utter_platform_noted" in complaint.responses()
    assert complaint.requested == "product"
    assert complaint_summary(make_tracker(complaint.slots))["county_display"] == "待分派"


def test_online_shop_with_unknown_address(complaint: Any) -> None:
    complaint.say("我要投诉", intent="file_complaint", confidence=0.99)
    complaint.say("淘宝上的小美家居旗舰店")
    assert complaint.slots["respondent_is_platform"] is True
    complaint.say("不清楚")
    assert complaint.slots["county"] == COUNTY_UNKNOWN
    assert "utter_platform_noted" in complaint.responses()
    assert complaint.requested == "product"


def test_old_purchase_warns_but_continues(complaint: Any) -> None:
    long_ago = (date.today() - timedelta(days=4 * 365)).strftime("%Y年%m月%d日")
    complaint.slots.update(
        respondent_name="百佳超市",
        respondent_address="会城",
        county="新会区",
        product="牛奶",
        requested_slot="incident_date",
    )
    complaint.active = True
    complaint.say(long_ago)
    assert complaint.responses() == ["utter_date_too_old"]
    assert complaint.requested == "amount"


def test_typed_words_classified_as_feedback_are_answers(complaint: Any) -> None:
    """不清楚 once came out as intent 'feedback'; only the feedback buttons interrupt a form."""
    complaint.say("我要投诉", intent="file_complaint", confidence=0.99)
    complaint.say("淘宝上的小美家居旗舰店")
    complaint.say("不清楚", intent="feedback", confidence=0.86)
    assert complaint.rejected is False
    assert complaint.slots["respondent_address"] == "不清楚"
    complaint.say('/feedback{"feedback": "helpful"}', intent="feedback", confidence=1.0)
    assert complaint.rejected is True


def test_restating_an_unchanged_value_at_review_changes_nothing(complaint: Any) -> None:
    full_happy_path(complaint)
    complaint.say("金额是三百五十元", intent="inform")
    assert complaint.slots["amount"] == "350.00"
    assert complaint.requested == "complaint_confirmed"
    assert complaint.responses() == []


def test_clear_phone_answer_beats_a_confident_wrong_intent(complaint: Any) -> None:
    complaint.slots.update(requested_slot="complainant_phone")
    complaint.active = True
    complaint.say("13912345678", intent="greet", confidence=0.95)
    assert complaint.rejected is False
    assert complaint.slots["complainant_phone"] == "13912345678"


def test_channel_evidence_in_metadata_becomes_the_evidence_answer() -> None:
    """A WeChat image arrives as a payload with the media id in the metadata."""
    from bot.actions.intake import Message

    msg = user_message('/inform{"evidence": "wechat-media:MEDIA123"}')
    msg["metadata"] = {"wechat": {"msg_type": "image", "evidence": "wechat-media:MEDIA123"}}
    message = Message.from_tracker(make_tracker(message=msg))
    assert message.evidence_ref == "wechat-media:MEDIA123"
    assert message.text == ""  # the payload itself is not the user's words


NARRATIVE = "上周在新会区好又多超市买到发霉的月饼，花了88元，要求退款并赔偿"


@pytest.mark.parametrize(
    "entities",
    [
        None,
        {"product": "发霉"},  # DIET tagged the defect as the product
        {"product": "发霉的月饼", "demand": "退款"},  # …or the whole phrase, and one demand
    ],
)
def test_narrative_with_defect_and_price_fills_product_amount_and_demands(
    complaint: Any, entities: dict[str, str] | None
) -> None:
    complaint.say(NARRATIVE, intent="file_complaint", confidence=0.95, entities=entities)
    s = complaint.slots
    assert s["respondent_name"] == "好又多超市"
    assert s["county"] == "新会区"
    assert s["product"] == "月饼"
    assert s["amount"] == "88.00"
    assert s["demand"] == "赔偿"
    assert s["demands"] == ["退款", "赔偿"]
    assert s["incident_date"] is not None
    assert s["facts"] == NARRATIVE
    assert complaint.requested == "respondent_address"


@pytest.mark.parametrize(
    ("answer", "demands", "primary"),
    [
        ("退款并赔偿", ["退款", "赔偿"], "赔偿"),
        ("退货退款", ["退货", "退款"], "退款"),
        ("要求退一赔三", ["退款", "赔偿"], "赔偿"),
        ("退款", ["退款"], "退款"),
    ],
)
def test_demand_answer_keeps_every_demand(
    complaint: Any, answer: str, demands: list[str], primary: str
) -> None:
    complaint.slots.update(
        respondent_name="百佳超市",
        respondent_address="会城",
        county="新会区",
        product="月饼",
        incident_date="2026-01-02",
        amount="88.00",
        facts="月饼发霉了，商家不肯处理",
        requested_slot="demand",
    )
    complaint.active = True
    complaint.say(answer)
    assert complaint.slots["demand"] == primary
    assert complaint.slots["demands"] == demands
    assert complaint.requested == "complainant_name"


def test_product_answer_drops_the_defect(complaint: Any) -> None:
    complaint.say("我要投诉", intent="file_complaint", confidence=0.99)
    complaint.say("百佳超市")
    complaint.say("会城中心南路12号")
    assert complaint.requested == "product"
    complaint.say("发霉的月饼")
    assert complaint.slots["product"] == "月饼"


def test_summary_and_ticket_carry_every_demand(complaint: Any, domain: dict[str, Any]) -> None:
    from bot.actions.submission import build_payload

    complaint.say(NARRATIVE, intent="file_complaint", confidence=0.95)
    for answer in ["会城中心南路12号", "陈大文", "13912345678", "蓬江区白沙大道西1号"]:
        complaint.say(answer)
    complaint.say("没有", intent="deny", confidence=0.95)
    complaint.say("同意", intent="affirm", confidence=0.95)
    assert complaint.requested == "complaint_confirmed"

    dispatcher = CollectingDispatcher()
    tracker = make_tracker(complaint.slots)
    asyncio.run(ActionAskComplaintConfirmed().run(dispatcher, tracker, domain))
    [message] = dispatcher.messages
    assert message["demand_display"] == "退款、赔偿"
    assert message["product"] == "月饼"
    assert message["amount_display"] == "88.00元"

    payload = build_payload(tracker, "complaint")
    assert payload["demand"] == "赔偿"  # the API's single category: the strongest claim
    assert "退款" in payload["demand_detail"] and "赔偿" in payload["demand_detail"]
    assert payload["product"] == "月饼"
    assert payload["amount"] == "88.00"


def test_goods_word_inside_a_shop_name_or_address_is_not_the_product(complaint: Any) -> None:
    """DIET tags 食品 inside 好味食品店; asked for the shop, that is the shop's name."""
    complaint.say("我要投诉", intent="file_complaint", confidence=0.99)
    complaint.say("好味食品店", entities={"product": "食品"})
    assert complaint.slots["respondent_name"] == "好味食品店"
    assert complaint.slots["product"] is None
    complaint.say("江门市蓬江区白沙街道建设路 1 号", entities={"product": "建设"})
    assert complaint.slots["county"] == "蓬江区"
    assert complaint.requested == "product"
