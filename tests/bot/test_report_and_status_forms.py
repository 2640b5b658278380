"""The report form (举报) and the status-lookup form, driven through their validators."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from rasa_sdk.executor import CollectingDispatcher

from bot.actions.report_form import ActionAskReportConfirmed, ValidateReportForm
from bot.actions.status import ValidateTicketStatusForm, find_last4, find_ticket_ref
from core.replies import render_text
from tests.bot.conftest import make_tracker


def test_named_report_asks_for_reporter_contact(form_driver: Any) -> None:
    report = form_driver(ValidateReportForm(), "report_form")
    report.say("我要举报", intent="file_report")
    report.say("好运来商店")
    report.say("台山市台城环北大道20号")
    assert report.slots["county"] == "台山市"
    report.say("卖假烟")
    assert report.responses() == ["utter_report_leads_too_short"]  # 具体线索 needed
    report.say("店里柜台下面有一箱没有标签的香烟，昨天下午三点我看到他们卖给别人")
    report.say("有照片", intent="inform")
    report.say("实名", intent="deny")
    assert report.requested == "complainant_name"
    report.say("李小红")
    report.say("13600001111")
    assert report.requested == "report_confirmed"


def test_report_summary_shows_anonymity(form_driver: Any, domain: dict[str, Any]) -> None:
    slots = {
        "respondent_name": "利民药店",
        "respondent_address": "恩城新平路3号",
        "county": "恩平市",
        "facts": "卖处方药不要处方",
        "evidence": [],
        "anonymous": True,
    }
    dispatcher = CollectingDispatcher()
    asyncio.run(ActionAskReportConfirmed().run(dispatcher, make_tracker(slots), domain))
    [message] = dispatcher.messages
    assert message["response"] == "utter_report_summary"
    assert message["reporter_display"] == "匿名"
    assert message["evidence_display"] == "无"
    # The same summary as a payload (core.replies), one field a row, in the same message.
    payload = message["custom"]
    assert payload["type"] == "complaint_summary" and payload["form"] == "report"
    rows = {f["label"]: f["value"] for f in payload["fields"]}
    assert rows["被举报经营者"] == "利民药店" and rows["举报人"] == "匿名"
    template = domain["responses"]["utter_report_summary"][0]["text"]
    assert render_text(payload) == template.format(**message)


@pytest.mark.parametrize(
    ("text", "ref"),
    [
        ("JM2026-000123", "JM2026-000123"),
        ("jm2026000123", "JM2026-000123"),
        ("编号是 JM 2026-000123 唔该", "JM2026-000123"),
        ("LOCAL-20260105-7f3a9c", "LOCAL-20260105-7F3A9C"),
        ("我的单号不记得了", None),
        ("查询码 JM2026-000123-7KQ2XM", "JM2026-000123-7KQ2XM"),
        ("jm2026 000123 7kq2xm", "JM2026-000123-7KQ2XM"),
    ],
)
def test_ticket_references(text: str, ref: str | None) -> None:
    assert find_ticket_ref(text) == ref


def test_last4_ignores_the_ticket_number() -> None:
    assert find_last4("JM2026-000123 5678") == "5678"
    assert find_last4("后四位係5678") == "5678"
    assert find_last4("13912345678") == "5678"
    assert find_last4("JM2026-000123") is None
    assert find_last4("JM2026-000123-7KQ2XM 5678") == "5678"
    assert find_last4("JM2026-000123-1234AB") is None


def test_status_form_takes_both_values_from_one_message(form_driver: Any) -> None:
    status = form_driver(ValidateTicketStatusForm(), "ticket_status_form")
    status.say("查一下JM2026-000123，电话尾号5678", intent="check_ticket_status")
    assert status.slots["ticket_no"] == "JM2026-000123"
    assert status.slots["phone_last4"] == "5678"
    assert status.active is False


def test_status_form_takes_a_typed_lookup_code(form_driver: Any) -> None:
    status = form_driver(ValidateTicketStatusForm(), "ticket_status_form")
    status.say("查一下 jm2026 000123 7kq2xm，电话尾号5678", intent="check_ticket_status")
    assert status.slots["ticket_no"] == "JM2026-000123-7KQ2XM"
    assert status.slots["phone_last4"] == "5678"
    assert status.active is False


def test_status_form_explains_bad_input(form_driver: Any) -> None:
    status = form_driver(ValidateTicketStatusForm(), "ticket_status_form")
    status.say("查进度", intent="check_ticket_status")
    assert status.requested == "ticket_no"
    status.say("123")
    assert status.responses() == ["utter_invalid_ticket_no"]
    status.say("JM2026-000123")
    assert status.requested == "phone_last4"
    status.say("56")
    assert status.responses() == ["utter_invalid_phone_last4"]
    status.say("5678")
    assert status.active is False


def test_reference_counts_even_when_nlu_says_check_status(form_driver: Any) -> None:
    """Seen live: 'LOCAL-… 5678' was classified check_ticket_status (0.82) mid-form."""
    status = form_driver(ValidateTicketStatusForm(), "ticket_status_form")
    status.say("查进度", intent="check_ticket_status", confidence=0.99)
    status.say("LOCAL-20261125-749AA5 5678", intent="check_ticket_status", confidence=0.82)
    assert status.rejected is False
    assert (status.slots["ticket_no"], status.slots["phone_last4"]) == (
        "LOCAL-20261125-749AA5",
        "5678",
    )
    assert status.active is False


def test_questions_still_interrupt_the_status_form(form_driver: Any) -> None:
    status = form_driver(ValidateTicketStatusForm(), "ticket_status_form")
    status.say("查进度", intent="check_ticket_status", confidence=0.99)
    status.say("营业执照怎么办", intent="ask_registration", confidence=0.95)
    assert status.rejected is True
