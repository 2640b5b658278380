"""The staff queue page in headless Chromium: Chinese UI, token in sessionStorage, and
hostile complaint text shown as text, never run as HTML or script."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.tickets.helpers import Server, complaint, post_ticket
from tickets.services.auth import issue_token

pytestmark = [pytest.mark.slow, pytest.mark.browser]

CHROMIUM = Path("/usr/bin/chromium")
ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
    "--disable-sync",
]
XSS_FACTS = '<img src=x onerror="window.__xss=1"><script>window.__xss=2</script> 牛奶过期'
XSS_NAME = "<b onmouseover=alert(1)>某超市</b>"


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    if not CHROMIUM.exists():
        pytest.skip("没有 Debian chromium：先运行 scripts/setup-browser.sh")
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:  # pragma: no cover - the app env ships playwright
        pytest.skip("app 环境里没有 playwright")
    with sync_playwright() as pw:
        chromium = pw.chromium.launch(executable_path=str(CHROMIUM), args=ARGS)
        yield chromium
        chromium.close()


@pytest.mark.parametrize("server", ["sqlite"], indirect=True)
def test_queue_page_renders_hostile_text_as_text(server: Server, browser: Any) -> None:
    from playwright.sync_api import expect

    # 恩平市 is used by no other test, so this ticket is alone in the officer's queue.
    body = complaint(
        facts=XSS_FACTS,
        respondent={"name": XSS_NAME, "address": "恩平市恩城街道新平路3号"},
    )
    with server.client() as client:
        ticket_no = post_ticket(client, body).json()["ticket_no"]
    with server.db.writing() as session:
        _row, token = issue_token(
            session, role="county", county="恩平市", name="enping", now=dt.datetime.now(dt.UTC)
        )

    page = browser.new_page()
    dialogs: list[str] = []
    page.on("dialog", lambda dialog: (dialogs.append(dialog.message), dialog.dismiss()))
    page.goto(f"{server.base_url}/staff")
    assert "工作人员控制台" in page.title()
    page.fill("#token", token)
    page.click("#login button[type=submit]")
    page.wait_for_selector(f"#rows tr:has-text('{ticket_no}')")
    assert "恩平市" in page.text_content("#whoami")
    assert page.evaluate("sessionStorage.getItem('yiwen.staffToken')") == token

    row = page.locator("#rows tr", has_text=ticket_no)
    assert XSS_NAME in row.inner_text()
    row.click()
    page.wait_for_selector("#d-title", state="visible")
    assert ticket_no in page.text_content("#d-title")
    assert XSS_FACTS in page.text_content("#d-fields")
    # The markup stayed text: no element was created from it and nothing ran.
    assert page.locator("#d-fields img, #d-fields script, #rows b").count() == 0
    assert page.evaluate("window.__xss === undefined")

    # Staff can act from the page; a refused action shows the server's Chinese reason.
    page.click("#d-actions button:text-is('不予受理')")
    page.wait_for_selector("#error:not([hidden])")
    assert "理由" in page.text_content("#error")
    page.click("#d-actions button:text-is('受理')")
    expect(page.locator("#d-title")).to_contain_text("已受理")
    page.hover("#rows tr >> nth=0")
    assert dialogs == []

    # Looking a ticket up by number; another county's ticket stays hidden.
    page.fill("#find-no", ticket_no.lower())
    page.click("#find button")
    expect(page.locator("#d-title")).to_contain_text(ticket_no)
    with server.client() as client:
        other = post_ticket(client, complaint()).json()["ticket_no"]
    page.fill("#find-no", other)
    page.click("#find button")
    expect(page.locator("#error")).to_contain_text("不属于")
    page.close()
