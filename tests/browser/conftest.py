"""Fixtures for the widget's browser tests: real services plus Debian's headless Chromium.

The stack (app, action server, Rasa) starts once per session; every test gets a
fresh browser context, so localStorage (the widget's session) starts empty.
Skips, with the fix in the reason, when Chromium, Playwright or a trained Rasa
model is missing.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from bot import train
from tests.browser.stack import RASA_BIN, REPO, Stack, ports_closed, start_stack
from tests.conftest import need_shared

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
    "--disable-sync",
]


@pytest.fixture(scope="module")
def browser() -> Iterator[object]:
    """Per module: Playwright's sync API runs an event loop in the main thread while it
    is open, which would break every later asyncio test in the same session."""
    if not CHROMIUM.exists():
        pytest.skip("没有 Debian chromium：先运行 scripts/setup-browser.sh（make test 会自动运行）")
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        pytest.skip("app 环境里没有 playwright：运行 make env")
    with sync_playwright() as pw:
        chromium = pw.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


@pytest.fixture(scope="session")
def stack(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Stack]:
    need_shared()
    if not RASA_BIN.exists():
        pytest.skip(f"没有 Rasa 环境（{RASA_BIN.relative_to(REPO)}）：先运行 make env")
    if not train.model_path().exists():
        pytest.skip("没有与当前数据对应的 Rasa 模型（bot/models/）：先运行 make model")
    # Build (or check) the test index once, so the app and the action server both find
    # it current instead of rebuilding it side by side.
    running = start_stack(
        tmp_path_factory.mktemp("browser-stack"),
        prepare=lambda: request.getfixturevalue("core_engine"),
    )
    try:
        yield running
    finally:
        supervisor = running.services[0]
        running.stop()  # SIGTERM to `yiwen up`, as Ctrl-C / systemd would send
        # `make run` must take every service down with it and exit cleanly.
        assert supervisor.proc.returncode == 0, supervisor.tail()
        assert "已停止" in supervisor.tail(), supervisor.tail()
        assert ports_closed(running.app_url, running.rasa_url), "a service outlived yiwen up"


@pytest.fixture
def demo_url(stack: Stack) -> str:
    import httpx

    url = f"{stack.app_url}/demo"
    if httpx.get(url, timeout=10).status_code == 404:
        pytest.fail(
            "app 没有提供 /demo：在 yiwen/app.py 的 create_app() 中调用 channels.webchat.mount(app)"
        )
    return url


def _context(browser, **options):  # type: ignore[no-untyped-def]
    return browser.new_context(locale="zh-CN", timezone_id="Asia/Shanghai", **options)


@pytest.fixture
def context(browser):  # type: ignore[no-untyped-def]
    ctx = _context(browser, viewport={"width": 1280, "height": 860})
    yield ctx
    ctx.close()


@pytest.fixture
def mobile_context(browser):  # type: ignore[no-untyped-def]
    ctx = _context(
        browser,
        viewport={"width": 390, "height": 844},
        device_scale_factor=2,
        is_mobile=True,
        has_touch=True,
    )
    yield ctx
    ctx.close()


@pytest.fixture
def widget(context):  # type: ignore[no-untyped-def]
    from tests.browser.widget_page import WidgetPage

    wp = WidgetPage(context.new_page())
    yield wp
    assert not wp.errors, f"页面脚本出错：{wp.errors}"
