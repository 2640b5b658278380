"""Submission never loses data: outbox first, POST with an idempotency key, retry later.

These tests run the real ticket service (tickets.main) in a subprocess and
take it down in the middle of a conversation.
"""

from __future__ import annotations

import asyncio
import re
from typing import Any

import pytest
from rasa_sdk.executor import CollectingDispatcher

from bot.actions.complaint_form import ValidateComplaintForm
from bot.actions.outbox import Outbox, RetryWorker, deliver_pending
from bot.actions.report_form import ValidateReportForm
from bot.actions.status import ActionCheckTicketStatus, ValidateTicketStatusForm
from bot.actions.submission import ActionSubmitComplaint, ActionSubmitReport, build_payload
from bot.actions.ticket_client import create_ticket
from core import ticket_ref
from tests.bot.conftest import make_tracker

pytestmark = pytest.mark.slow


def fill_complaint(form_driver: Any) -> Any:
    """A whole complaint conversation, the way a citizen would type it."""
    driver = form_driver(ValidateComplaintForm(), "complaint_form")
    driver.say("我在新会区的好又多超市买到过期牛奶，花了35元", intent="file_complaint")
    driver.say("会城中心南路12号")
    driver.say("3月5号")
    driver.say(
        "牛奶过期两个月了，店员只肯换一瓶，不肯退钱"
    )  # facts were pre-filled: this is demand
    driver.say("陈大文")
    driver.say("13912345678")
    driver.say("蓬江区白沙大道西1号")
    driver.say("有小票和照片")
    driver.say("同意", intent="affirm")
    driver.say("确认", intent="affirm")
    assert driver.active is False, driver.requested
    return driver


def run_action(action: Any, slots: dict[str, Any], domain: dict[str, Any], **kw: Any) -> Any:
    dispatcher = CollectingDispatcher()
    tracker = make_tracker(slots, sender_id=kw.pop("sender_id", "citizen-1"), **kw)
    events = asyncio.run(action.run(dispatcher, tracker, domain))
    return dispatcher.messages, events


def test_payload_matches_the_ticket_contract(form_driver: Any) -> None:
    driver = fill_complaint(form_driver)
    payload = build_payload(make_tracker(driver.slots), "complaint")
    assert payload["complainant"] == {
        "name": "陈大文",
        "phone": "13912345678",
        "address": "蓬江区白沙大道西1号",
    }
    assert payload["respondent"] == {
        "name": "好又多超市",
        "address": "会城中心南路12号",
        "is_platform": False,
    }
    assert payload["county"] == "新会区"
    assert payload["amount"] == "35.00"
    assert payload["product"] == "牛奶"
    assert payload["demand"] == "退款"
    assert payload["evidence"] == ["有小票和照片"]
    assert payload["consent_share_contact"] is True
    assert payload["channel"] == "rest"
    assert payload["incident_date"].endswith("-03-05")


def test_submit_while_api_is_up(
    form_driver: Any, domain: dict[str, Any], ticket_server: Any
) -> None:
    driver = fill_complaint(form_driver)
    messages, events = run_action(ActionSubmitComplaint(), driver.slots, domain)
    assert messages[0]["response"] == "utter_complaint_submitted"
    code = messages[0]["ticket_no"]  # the receipt's 编号: the lookup code, not the number
    assert re.fullmatch(ticket_ref.LOOKUP_CODE, code), code
    assert {
        "event": "slot",
        "name": "last_ticket_ref",
        "value": code,
        "timestamp": None,
    } in events
    assert all(e["value"] is None for e in events if e["name"] == "respondent_name")
    [stored] = Outbox().all()
    assert (stored.status, stored.lookup_code) == ("delivered", code)
    assert stored.ticket_no == ticket_ref.split_lookup_code(code)[0]


def test_api_down_mid_conversation_then_exactly_one_ticket(
    form_driver: Any, domain: dict[str, Any], ticket_server: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The proof from the issue: stop the API, file, restart, find one intact ticket."""
    monkeypatch.setenv("YIWEN_OUTBOX_BACKOFF_SECONDS", "0")
    driver = form_driver(ValidateComplaintForm(), "complaint_form")
    driver.say("我在新会区的好又多超市买到过期牛奶，花了35元", intent="file_complaint")
    ticket_server.stop()  # the ticket API goes down mid-conversation
    for answer, intent in [
        ("会城中心南路12号", "inform"), ("3月5号", "inform"),
        ("牛奶过期两个月了，店员只肯换一瓶，不肯退钱", "inform"), ("陈大文", "inform"),
        ("13912345678", "inform"), ("蓬江区白沙大道西1号", "inform"),
        ("有小票和照片", "inform"), ("同意", "affirm"), ("确认", "affirm"),
    ]:  # fmt: skip
        driver.say(answer, intent=intent)
    filed = dict(driver.slots)

    messages, _ = run_action(ActionSubmitComplaint(), filed, domain, sender_id="outage-citizen")
    assert messages[0]["response"] == "utter_submission_queued"
    local_ref = messages[0]["local_ref"]
    assert local_ref.startswith("LOCAL-")
    [queued] = Outbox().all()
    assert queued.status == "pending" and queued.local_ref == local_ref

    # the citizen checks with the local reference while the API is still down
    status_slots = {"ticket_no": local_ref, "phone_last4": "5678"}
    messages, _ = run_action(ActionCheckTicketStatus(), status_slots, domain)
    assert [m["response"] for m in messages] == ["utter_ticket_pending_local"]

    ticket_server.start()  # back up; the retry worker delivers
    worker = RetryWorker(interval_s=0.2)
    worker.start()
    try:
        for _ in range(150):
            if Outbox().get(local_ref).status == "delivered":  # type: ignore[union-attr]
                break
            asyncio.run(asyncio.sleep(0.1))
    finally:
        worker.stop()
    delivered = Outbox().get(local_ref)
    assert delivered is not None and delivered.status == "delivered"

    # a retry of the same item (reply lost on the way back) must not create a second ticket
    again = create_ticket(delivered.payload, delivered.idempotency_key)
    assert again.ticket_no == delivered.ticket_no
    assert deliver_pending() == 0

    tickets = ticket_server.staff_tickets(sender_id="outage-citizen")
    assert len(tickets) == 1
    ticket = tickets[0]
    assert ticket["ticket_no"] == delivered.ticket_no
    assert ticket["local_ref"] == local_ref
    assert ticket["complainant_name"] == "陈大文"
    assert ticket["complainant_phone"].replace("-", "") == "13912345678"
    assert ticket["complainant_address"] == "蓬江区白沙大道西1号"
    assert ticket["respondent_name"] == "好又多超市"
    assert ticket["respondent_address"] == "会城中心南路12号"
    assert ticket["respondent_is_platform"] is False
    assert ticket["county"] == "新会区"
    assert ticket["incident_date"] == filed["incident_date"]
    assert float(ticket["amount"]) == 35.0
    assert ticket["product"] == "牛奶"
    assert ticket["demand"] == "退款"
    assert ticket["facts"] == "我在新会区的好又多超市买到过期牛奶，花了35元"
    assert ticket["evidence"] == ["有小票和照片"]
    assert ticket["consent_share_contact"] is True
    assert ticket["channel"] == "rest"
    assert ticket["sender_id"] == "outage-citizen"

    # now the local reference resolves to the real ticket
    messages, _ = run_action(ActionCheckTicketStatus(), status_slots, domain)
    responses = [m["response"] for m in messages]
    assert responses == ["utter_ticket_local_delivered", "utter_ticket_status"]
    # ... and the citizen is given the lookup code they need from now on
    assert delivered.lookup_code and delivered.lookup_code.startswith(delivered.ticket_no + "-")
    assert messages[0]["ticket_no"] == messages[1]["ticket_no"] == delivered.lookup_code


def test_anonymous_report_is_filed(
    form_driver: Any, domain: dict[str, Any], ticket_server: Any
) -> None:
    driver = form_driver(ValidateReportForm(), "report_form")
    driver.say("我要举报", intent="file_report")
    driver.say("恩城的利民药店")
    driver.say("恩平市恩城新平路3号")
    driver.say("这家药店卖处方药不要处方，上周三我亲眼看到的，还卖过期的感冒药")
    driver.say("没有", intent="deny")
    driver.say("匿名举报", intent="affirm")
    assert driver.requested == "report_confirmed"  # no name or phone for an anonymous report
    driver.say("确认提交", intent="affirm")
    messages, _ = run_action(ActionSubmitReport(), driver.slots, domain, sender_id="reporter")
    assert messages[0]["response"] == "utter_report_submitted"
    [ticket] = ticket_server.staff_tickets(sender_id="reporter")
    assert ticket["kind"] == "report"
    assert ticket["anonymous"] is True
    assert ticket["complainant_name"] is None and ticket["complainant_phone"] is None
    assert ticket["county"] == "恩平市"
    assert "处方药" in ticket["facts"]


def test_rejected_submission_reopens_the_form(
    form_driver: Any, domain: dict[str, Any], ticket_server: Any
) -> None:
    driver = fill_complaint(form_driver)
    slots = dict(driver.slots, complainant_address=None)  # Art. 9 field missing → 422
    messages, events = run_action(ActionSubmitComplaint(), slots, domain)
    assert messages[0]["response"] == "utter_submission_rejected"
    assert "通讯地址" in messages[0]["problems"]
    names = [e.get("name") for e in events]
    assert "complainant_address" in names and "complaint_form" in names
    [item] = Outbox().all()
    assert item.status == "rejected"


def test_a_typed_lookup_code_is_looked_up(
    form_driver: Any, domain: dict[str, Any], ticket_server: Any
) -> None:
    """The receipt's code, typed back in lower case with spaces and no dashes, finds it."""
    driver = fill_complaint(form_driver)
    messages, _ = run_action(ActionSubmitComplaint(), driver.slots, domain)
    code = messages[0]["ticket_no"]
    typed = code.lower().replace("-", " ")  # jm2026 000001 7kq2xm
    status = form_driver(ValidateTicketStatusForm(), "ticket_status_form")
    status.say(f"帮我查下 {typed} 尾号5678", intent="check_ticket_status")
    assert status.active is False
    assert status.slots["ticket_no"] == code
    found, _ = run_action(
        ActionCheckTicketStatus(),
        {"ticket_no": status.slots["ticket_no"], "phone_last4": status.slots["phone_last4"]},
        domain,
    )
    assert found[0]["response"] == "utter_ticket_status"
    assert found[0]["ticket_no"] == code


# Last in the module: it triggers the service's throttling for this client address.
def test_status_lookup_never_reveals_other_tickets(
    form_driver: Any, domain: dict[str, Any], ticket_server: Any
) -> None:
    driver = fill_complaint(form_driver)
    messages, _ = run_action(ActionSubmitComplaint(), driver.slots, domain)
    ticket_no = messages[0]["ticket_no"]  # the lookup code

    ok, events = run_action(
        ActionCheckTicketStatus(), {"ticket_no": ticket_no, "phone_last4": "5678"}, domain
    )
    assert ok[0]["response"] == "utter_ticket_status"
    assert ok[0]["ticket_no"] == ticket_no
    assert {e["name"] for e in events} == {"ticket_no", "phone_last4"}  # cleared afterwards

    # The sequential number alone does not open the ticket.
    bare, _ = run_action(
        ActionCheckTicketStatus(),
        {"ticket_no": ticket_ref.split_lookup_code(ticket_no)[0], "phone_last4": "5678"},
        domain,
    )
    assert bare[0]["response"] == "utter_ticket_not_found"

    wrong, _ = run_action(
        ActionCheckTicketStatus(), {"ticket_no": ticket_no, "phone_last4": "0000"}, domain
    )
    unknown, _ = run_action(
        ActionCheckTicketStatus(), {"ticket_no": "JM2026-999999", "phone_last4": "5678"}, domain
    )
    assert wrong[0]["response"] == unknown[0]["response"] == "utter_ticket_not_found"

    responses = []
    for _ in range(8):  # the service throttles repeated failures; we show its message
        msgs, _ = run_action(
            ActionCheckTicketStatus(), {"ticket_no": ticket_no, "phone_last4": "1111"}, domain
        )
        responses.append(msgs[0]["response"])
    assert responses[-1] == "utter_ticket_throttled"
    assert msgs[0]["detail"]
