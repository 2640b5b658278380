"""How the widget renders bot replies that the current bot does not send, in real Chromium.

The end-to-end tests cover what the real bot says. These draw the structured replies
(``core.replies``: answer with citations, abstention, complaint summary) from payloads
built by the same builders the bot uses, and cover the rest of the message formats
the widget accepts: a summary wrapped in ``data``, plain text with links, ticket
numbers and hostile markup (never parsed), and a failed send with retry.
Rasa's REST webhook is answered by the test (``page.route``) and socket.io is
refused, so the widget falls back to REST; no server runs.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from playwright.sync_api import Route

from channels.webchat import STATIC_DIR, render_demo_page
from core.replies import (
    abstention_payload,
    answer_payload,
    citation,
    render_text,
    summary_payload,
)
from tests.browser.widget_page import WidgetPage

pytestmark = pytest.mark.browser

SITE = "http://site.test"
RASA = "http://rasa.test"
XSS = "<img src=x onerror=alert(1)>"

Replies = Callable[[str], tuple[int, list[dict[str, Any]]]]


@pytest.fixture
def offline_widget(context) -> Iterator[tuple[WidgetPage, list[Replies]]]:  # type: ignore[no-untyped-def]
    """The demo page with a scripted Rasa: push a function ``message -> (status, replies)``."""
    script: list[Replies] = []

    def site(route: Route) -> None:
        path = route.request.url.removeprefix(SITE)
        if path == "/demo":
            route.fulfill(body=render_demo_page(RASA), content_type="text/html; charset=utf-8")
            return
        name = path.removeprefix("/widget/")
        kind = "text/css" if name.endswith(".css") else "text/javascript"
        route.fulfill(body=(STATIC_DIR / name).read_bytes(), content_type=kind)

    def rasa(route: Route) -> None:
        cors = {"Access-Control-Allow-Origin": "*", "Access-Control-Allow-Headers": "Content-Type"}
        if route.request.method == "OPTIONS":
            route.fulfill(status=204, headers=cors)
            return
        message = json.loads(route.request.post_data or "{}")["message"]
        status, replies = script[-1](message)
        route.fulfill(
            status=status,
            body=json.dumps(replies, ensure_ascii=False),
            content_type="application/json",
            headers=cors,
        )

    context.route(f"{SITE}/**", site)
    context.route(f"{RASA}/webhooks/rest/webhook", rasa)
    context.route_web_socket(lambda url: url.startswith("ws://rasa.test"), lambda ws: ws.close())
    widget = WidgetPage(context.new_page())
    widget.open(f"{SITE}/demo")
    widget.page.get_by_role("status").filter(has_text="普通连接").wait_for(timeout=20_000)
    yield widget, script
    assert not widget.errors, widget.errors
    assert widget.dialogs == []


SUMMARY_VALUES = {
    "complainant_name": "张三",
    "masked_phone": "139****5678",
    "complainant_address": "江门市蓬江区发展大道 100 号",
    "respondent_name": XSS,
    "respondent_address_display": "江门市蓬江区建设路 1 号",
    "county_display": "蓬江区",
    "product": "牛奶",
    "date_display": "2026-12-04",
    "amount_display": "35.00元",
    "demand_display": "退款",
    "facts": "买到的牛奶已经过期了。\n店家拒绝退款。",
    "evidence_display": "购物小票",
    "consent_display": "是",
}
BUTTONS = [
    {"title": "确认提交", "payload": "/affirm"},
    {"title": "修改", "payload": "/deny"},
    {"title": "取消", "payload": "/cancel"},
]


def test_complaint_summary_payload_is_a_card_with_a_row_per_field(offline_widget) -> None:  # type: ignore[no-untyped-def]
    """What the confirmation step sends: text, buttons and payload in one message."""
    widget, script = offline_widget
    payload = summary_payload("complaint", SUMMARY_VALUES)
    reply = {"recipient_id": "x", "text": render_text(payload), "buttons": BUTTONS}
    script.append(lambda _: (200, [{**reply, "custom": payload}]))
    widget.ask("好的")
    card = widget.log.get_by_role("region", name="请核对您的投诉信息")
    assert card.count() == 1
    labels = [f["label"] for f in payload["fields"]]
    assert card.get_by_role("term").all_inner_texts() == labels
    values = card.get_by_role("definition").all_inner_texts()
    assert values[0] == "张三"
    assert values[1] == "139****5678"
    assert values[labels.index("被投诉商家")] == XSS  # shown as text
    assert values[labels.index("事情经过")] == "买到的牛奶已经过期了。\n店家拒绝退款。"
    assert "确认提交" in card.inner_text()  # the hint
    assert "• 投诉人：" not in widget.log.inner_text()  # the text is the card's fallback only
    assert widget.reply("确认提交").count() == 1

    submitted = [{"text": "投诉已提交，编号 JM2026-000042-7KQ2XM。"}]
    script.append(lambda m: (200, submitted if m == "/affirm" else []))
    widget.click_reply("确认提交")
    assert widget.log.locator(".yw-ticket").inner_text() == "JM2026-000042-7KQ2XM"
    assert widget.log.locator("img").count() == 0


def test_custom_payload_wrapped_in_data_is_unwrapped(offline_widget) -> None:  # type: ignore[no-untyped-def]
    widget, script = offline_widget
    summary: dict[str, Any] = {"type": "complaint_summary", "title": "请核对举报信息"}
    summary["fields"] = {"线索": "无证经营"}
    script.append(lambda _: (200, [{"custom": {"data": summary}}]))
    widget.ask("好的")
    card = widget.log.get_by_role("region", name="请核对举报信息")
    assert "无证经营" in card.inner_text()


def test_answer_payload_is_a_card_with_its_citations(offline_widget) -> None:  # type: ignore[no-untyped-def]
    widget, script = offline_widget
    payload = answer_payload(
        "个转企的个体工商户每户一次性资助1万元（见《江门市若干措施》第14项）。",
        "详见 https://www.samr.gov.cn/ 或 javascript:alert(1) " + XSS,
        [
            citation("江门市若干措施", "第14项", "2023-04-04", "14.实施市场主体培育计划……"),
            citation("个体工商户条例", "第二十八条", None, "", "《促进个体工商户发展条例》"),
        ],
    )
    buttons = [{"title": "有帮助", "payload": "/feedback"}, {"title": "没帮助", "payload": "/no"}]
    reply = {"text": render_text(payload), "buttons": buttons, "custom": payload}
    script.append(lambda _: (200, [reply]))
    widget.ask("个转企")
    bubble = widget.bot_messages().last
    assert bubble.locator(".yw-lead").inner_text().startswith("个转企的个体工商户每户")
    cites = bubble.get_by_role("list", name="依据").get_by_role("listitem")
    assert cites.count() == 2
    assert cites.nth(0).locator("cite").inner_text() == "《江门市若干措施》第14项"
    assert "（2023-04-04）" in cites.nth(0).inner_text()
    assert cites.nth(0).locator("blockquote").inner_text() == "14.实施市场主体培育计划……"
    assert cites.nth(1).locator("cite").inner_text() == "《个体工商户条例》第二十八条"
    assert "《促进个体工商户发展条例》取代" in cites.nth(1).inner_text()
    assert cites.nth(1).locator("blockquote").count() == 0
    assert "依据：" not in bubble.inner_text()  # drawn from the payload, not the text
    links = bubble.get_by_role("link")
    assert links.count() == 1
    assert links.get_attribute("href") == "https://www.samr.gov.cn/"
    assert links.get_attribute("rel") == "noopener noreferrer"
    assert XSS in bubble.inner_text()
    assert bubble.locator("img").count() == 0
    assert widget.reply("有帮助").count() == 1


def test_abstention_payload_offers_12315_once(offline_widget) -> None:  # type: ignore[no-untyped-def]
    widget, script = offline_widget
    payload = abstention_payload("抱歉，没有找到相关规定。")
    reply = {"text": payload["message"], "custom": payload}
    reply["buttons"] = [{"title": "转人工", "payload": "/human_handoff"}]
    script.append(lambda _: (200, [reply]))
    widget.ask("帮我订外卖")
    bubble = widget.bot_messages().last
    assert "抱歉，没有找到相关规定。" in bubble.inner_text()
    offers = bubble.get_by_role("list", name="您还可以").get_by_role("listitem")
    assert offers.all_inner_texts() == ["拨打 12315 热线"]  # 转人工 is already a button
    assert offers.get_by_role("link").get_attribute("href") == "tel:12315"
    assert widget.reply("转人工").count() == 1


def test_plain_text_is_shown_as_written(offline_widget) -> None:  # type: ignore[no-untyped-def]
    """Text without a payload is never parsed: lines, links and ticket numbers only."""
    widget, script = offline_widget
    text = "\n".join(
        [
            "依据：",
            "· 《促进个体工商户发展条例》第十三条",
            "详见 https://www.samr.gov.cn/ 或 javascript:alert(1)，工单 JM2026-000042",
            XSS,
        ]
    )
    script.append(lambda _: (200, [{"text": text}]))
    widget.ask("个转企")
    bubble = widget.bot_messages().last
    assert bubble.locator("p").all_inner_texts() == text.split("\n")
    assert bubble.locator("ul, cite, blockquote").count() == 0
    assert bubble.get_by_role("link").get_attribute("href") == "https://www.samr.gov.cn/"
    assert bubble.locator(".yw-ticket").inner_text() == "JM2026-000042"
    assert bubble.locator("img").count() == 0


def test_failed_send_offers_retry(offline_widget) -> None:  # type: ignore[no-untyped-def]
    widget, script = offline_widget
    script.append(lambda _: (500, []))
    widget.input.fill("我要投诉")
    widget.input.press("Enter")
    retry = widget.page.get_by_role("button", name="重新发送这条消息")
    retry.wait_for()
    assert "发送失败" in widget.user_messages().last.inner_text()

    script.append(lambda m: (200, [{"text": f"收到：{m}"}]))
    retry.click()
    widget.settle(0)
    assert "收到：我要投诉" in widget.bot_messages().last.inner_text()
    assert retry.count() == 0


def _stored(widget: WidgetPage) -> dict[str, Any]:
    """The widget's localStorage entry (its key starts with the storage key)."""
    raw = widget.page.evaluate(
        """() => { for (let i = 0; i < localStorage.length; i++) {
               const k = localStorage.key(i);
               if (k.startsWith("yiwen-widget")) return localStorage.getItem(k);
             } return null; }"""
    )
    assert raw, "the widget stored nothing"
    return json.loads(raw)


def test_the_summary_card_is_never_stored_on_the_device(offline_widget) -> None:  # type: ignore[no-untyped-def]
    """Issue 12: the summary (name, phone, address) is shown, but only a note is stored,
    so a reload on a shared computer does not show it to the next person."""
    widget, script = offline_widget
    payload = summary_payload("complaint", SUMMARY_VALUES)
    reply = {"recipient_id": "x", "text": render_text(payload), "buttons": BUTTONS}
    script.append(lambda _: (200, [{**reply, "custom": payload}]))
    widget.ask("好的")
    assert widget.log.get_by_role("region", name="请核对您的投诉信息").count() == 1

    stored = json.dumps(_stored(widget), ensure_ascii=False)
    for private in ("张三", "139****5678", "发展大道", "complaint_summary"):
        assert private not in stored, private
    assert "没有保存在本机" in stored

    widget.page.reload()
    widget.input.wait_for()
    assert widget.log.get_by_role("region", name="请核对您的投诉信息").count() == 0
    assert "张三" not in widget.log.inner_text()
    assert "没有保存在本机" in widget.log.inner_text()
    assert "好的" in widget.log.inner_text()  # the rest of the transcript survives


def test_an_idle_stored_conversation_is_forgotten(offline_widget) -> None:  # type: ignore[no-untyped-def]
    """A transcript idle for longer than ``sessionIdleMinutes`` (30) starts over, with a
    new session id, so Rasa's half-filled form is not the next visitor's either."""
    widget, script = offline_widget
    script.append(lambda _: (200, [{"text": "您好"}]))
    widget.ask("在吗")
    before = _stored(widget)
    assert before["messages"]

    widget.page.reload()  # recent: kept
    widget.input.wait_for()
    assert "在吗" in widget.log.inner_text()
    assert _stored(widget)["senderId"] == before["senderId"]

    widget.page.evaluate(
        """() => { for (let i = 0; i < localStorage.length; i++) {
               const k = localStorage.key(i);
               if (!k.startsWith("yiwen-widget")) continue;
               const s = JSON.parse(localStorage.getItem(k));
               s.savedAt = Date.now() - 31 * 60 * 1000;
               localStorage.setItem(k, JSON.stringify(s));
             } }"""
    )
    widget.page.reload()
    widget.launcher.click()
    widget.input.wait_for()
    assert "在吗" not in widget.log.inner_text()
    widget.ask("你好")
    assert _stored(widget)["senderId"] != before["senderId"]
