"""How the widget renders bot replies that the current bot does not send, in real Chromium.

The end-to-end tests cover what the real bot says. These cover the rest of the
message formats the widget accepts: custom ``complaint_summary`` payloads (plain
and wrapped in ``data``), hostile bot text and links, and a failed send with retry.
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


def test_custom_complaint_summary_is_a_card_that_replaces_its_text(offline_widget) -> None:  # type: ignore[no-untyped-def]
    widget, script = offline_widget
    fields = [
        {"label": "投诉人", "value": "张三，电话 139****5678"},
        {"label": "被投诉商家", "value": XSS},
        {"label": "投诉请求", "value": "退款"},
    ]
    text = "请核对：投诉人 张三，电话 139****5678；商家 " + XSS + "；请求 退款"
    buttons = [{"title": "确认提交", "payload": "/affirm"}, {"title": "修改", "payload": "/deny"}]
    script.append(
        lambda _: (
            200,
            [
                {"recipient_id": "x", "text": text, "buttons": buttons},
                {"recipient_id": "x", "custom": {"type": "complaint_summary", "fields": fields}},
            ],
        )
    )
    widget.ask("好的")
    card = widget.log.locator(".yw-card")
    assert card.count() == 1
    assert card.get_by_role("term").all_inner_texts() == ["投诉人", "被投诉商家", "投诉请求"]
    assert XSS in card.inner_text()
    assert "请核对：" not in widget.log.inner_text()  # the text version is folded into the card
    assert widget.reply("确认提交").count() == 1

    submitted = [{"text": "投诉已提交，编号 JM2026-000042。"}]
    script.append(lambda m: (200, submitted if m == "/affirm" else []))
    widget.click_reply("确认提交")
    assert widget.log.locator(".yw-ticket").inner_text() == "JM2026-000042"
    assert widget.log.locator("img").count() == 0


def test_custom_payload_wrapped_in_data_is_unwrapped(offline_widget) -> None:  # type: ignore[no-untyped-def]
    widget, script = offline_widget
    summary: dict[str, Any] = {"type": "complaint_summary", "title": "请核对举报信息"}
    summary["fields"] = {"线索": "无证经营"}
    script.append(lambda _: (200, [{"custom": {"data": summary}}]))
    widget.ask("好的")
    card = widget.log.get_by_role("region", name="请核对举报信息")
    assert "无证经营" in card.inner_text()


def test_citations_links_and_hostile_text(offline_widget) -> None:  # type: ignore[no-untyped-def]
    widget, script = offline_widget
    answer = "\n".join(
        [
            "根据《促进个体工商户发展条例》，个体工商户可以转型为企业。",
            "依据：",
            "· 《促进个体工商户发展条例》第十三条（2022-11-01）",
            "· 《市场主体登记管理条例》第二十四条",
            "《江门市若干措施》第14项：每户一次性给予资助。",
            "详见 https://www.samr.gov.cn/ 或 javascript:alert(1)",
            XSS,
        ]
    )
    script.append(lambda _: (200, [{"text": answer}]))
    widget.ask("个转企")
    bubble = widget.bot_messages().last
    cites = bubble.get_by_role("list", name="依据").get_by_role("listitem")
    assert cites.all_inner_texts() == [
        "《促进个体工商户发展条例》第十三条（2022-11-01）",
        "《市场主体登记管理条例》第二十四条",
    ]
    passage = bubble.locator(".yw-passage")
    assert passage.locator("cite").inner_text() == "《江门市若干措施》第14项"
    assert "每户一次性给予资助" in passage.inner_text()
    # a 《title》 inside a sentence stays part of the sentence
    assert "根据《促进个体工商户发展条例》，个体工商户" in bubble.locator("p").first.inner_text()
    links = bubble.get_by_role("link")
    assert links.count() == 1
    assert links.get_attribute("href") == "https://www.samr.gov.cn/"
    assert links.get_attribute("rel") == "noopener noreferrer"
    assert XSS in bubble.inner_text()
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
