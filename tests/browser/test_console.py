"""The staff console in headless Chromium against the real app (no Rasa, no engine):
统计 draws every chart with ECharts and its table equals the database; tabs follow the
role."""

from __future__ import annotations

import datetime as dt
import os
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from bot.actions import review_log
from core.settings import TicketsSettings
from tests.conftest import use_test_index
from tests.netutil import free_port
from tests.tickets.helpers import SERVICE_TOKEN, complaint, post_ticket, stop_server, wait_healthy
from tickets.db import make_engine
from tickets.models import ReviewEntry, StaffToken, Ticket
from tickets.services.auth import digest, issue_token
from yiwen.console.api import ECHARTS

pytestmark = [pytest.mark.slow, pytest.mark.browser]

REPO = Path(__file__).resolve().parents[2]
APP = "import sys, uvicorn; from yiwen.app import create_app; " \
      "uvicorn.run(create_app(preload=False), host='127.0.0.1', port=int(sys.argv[1]))"  # fmt: skip


@dataclass
class App:
    url: str
    database_url: str
    admin: str
    editor: str


@pytest.fixture(scope="module")
def app(tmp_path_factory: pytest.TempPathFactory) -> Iterator[App]:
    if not ECHARTS.is_file():
        pytest.skip("没有安装 ECharts：先运行 scripts/setup-console.sh（make env 会自动运行）")
    tmp = tmp_path_factory.mktemp("console")
    database_url = f"sqlite:///{tmp / 'app.db'}"
    env = {k: v for k, v in os.environ.items() if not k.startswith("YIWEN_")}
    env.update(
        YIWEN_DATABASE_URL=database_url,
        YIWEN_DATA_DIR=str(tmp / "data"),
        YIWEN_TICKET_API_TOKEN=SERVICE_TOKEN,
        PYTHONPATH=str(REPO),
        # 写入问答库 asks the hit test for a source: the suite's index, not a new build.
        **(use_test_index(tmp / "data") or {}),
    )
    port = free_port()
    log_path = tmp / "app.log"
    with log_path.open("wb") as log:
        proc = subprocess.Popen(
            [sys.executable, "-c", APP, str(port)], cwd=REPO, env=env, stdout=log, stderr=log
        )
    base = f"http://127.0.0.1:{port}"
    try:
        wait_healthy(proc, base, log_path)
        engine = make_engine(TicketsSettings(database_url=database_url))
        with httpx.Client(base_url=base, timeout=60) as client:
            for county in ("新会区", "新会区", "台山市", "开平市"):
                body = complaint(respondent={"name": "某店", "address": f"江门市{county}中心路1号"})
                assert post_ticket(client, body).status_code == 201
        for question, abstained, feedback, channel in [
            ("个转企有什么补贴", False, "helpful", "socketio"),
            ("投诉多久受理", False, "unhelpful", "wechat"),
            ("我想吃火锅", True, None, "socketio"),
        ]:
            review_log.record(
                question=question,
                answer=None,
                abstained=abstained,
                feedback=feedback,
                channel=channel,
                url=database_url,
            )
        now = dt.datetime.now(dt.UTC)
        with Session(engine) as session, session.begin():
            _row, admin = issue_token(session, role="admin", county=None, name="boss", now=now)
            # The editor role comes with the knowledge half of the console; the row is what
            # `yiwen tokens create --role editor` will write.
            editor = "yw_editor_" + os.urandom(8).hex()
            session.add(
                StaffToken(
                    token_sha256=digest(editor),
                    role="editor",
                    county=None,
                    name="clerk",
                    created_at=now,
                    revoked_at=None,
                )
            )
        engine.dispose()
        yield App(base, database_url, admin, editor)
    finally:
        stop_server(proc)


def _login(browser: Any, app: App, token: str, hash_: str = "") -> Any:
    page = browser.new_page(viewport={"width": 1280, "height": 900})
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    page.goto(f"{app.url}/staff{hash_}")
    page.fill("#token", token)
    page.click("#login button[type=submit]")
    page.wait_for_selector("#tabs [role=tab]")
    page.errors = errors  # type: ignore[attr-defined]
    return page


def _table(page: Any, name: str) -> dict[str, list[str]]:
    rows = page.locator(f"#table-{name} tbody tr")
    out = {}
    for i in range(rows.count()):
        cells = rows.nth(i).locator("th, td").all_inner_texts()
        out[cells[0]] = cells[1:]
    return out


def test_stats_charts_render_and_tables_equal_the_database(browser: Any, app: App) -> None:
    page = _login(browser, app, app.admin)
    tabs = page.locator("#tabs [role=tab]").all_inner_texts()
    assert tabs == ["工单", "文档", "问答库", "命中测试", "待改进", "统计", "导出"]
    page.click("#tab-stats")
    assert page.get_attribute("#tab-stats", "aria-selected") == "true"
    page.wait_for_selector("#stats-charts[data-rendered='8']", timeout=30000)
    for chart in page.locator("#stats-charts .chart").all():
        assert chart.locator("canvas, svg").count() >= 1
        assert chart.bounding_box()["height"] > 100

    engine = make_engine(TicketsSettings(database_url=app.database_url))
    count = func.count()
    with engine.connect() as conn:
        by_county = dict(conn.execute(select(Ticket.county, count).group_by(Ticket.county)).all())
        by_status = dict(conn.execute(select(Ticket.status, count).group_by(Ticket.status)).all())
        by_channel = dict(
            conn.execute(select(ReviewEntry.channel, count).group_by(ReviewEntry.channel)).all()
        )
        abstained = conn.execute(
            select(count).select_from(ReviewEntry).where(ReviewEntry.abstained.is_(True))
        ).scalar_one()
        total = conn.execute(select(count).select_from(ReviewEntry)).scalar_one()
    engine.dispose()
    counties = _table(page, "tickets-by-county")
    assert {k: int(v[0]) for k, v in counties.items() if int(v[0])} == by_county
    statuses = _table(page, "tickets-by-status")
    assert {k: int(v[0]) for k, v in statuses.items() if int(v[0])} == by_status
    rates = _table(page, "rates")
    assert rates["未能回答"][:2] == [str(abstained), str(total)]
    days = page.locator("#table-questions-by-day thead th").all_inner_texts()[1:]
    per_day = _table(page, "questions-by-day")
    sums = {days[i]: sum(int(row[i]) for row in per_day.values()) for i in range(len(days))}
    assert sums == {"网页对话": by_channel["socketio"], "微信": by_channel["wechat"]}
    assert page.errors == []  # type: ignore[attr-defined]

    # Keyboard: the tabs are a tablist that arrow keys move through.
    page.focus("#tab-stats")
    page.keyboard.press("ArrowRight")
    assert page.get_attribute("#tab-export", "aria-selected") == "true"
    assert page.is_visible("#panel-export") and not page.is_visible("#panel-stats")
    page.close()


def test_editor_sees_no_tickets_tab(browser: Any, app: App) -> None:
    page = _login(browser, app, app.editor, "#review")
    tabs = page.locator("#tabs [role=tab]").all_inner_texts()
    assert "工单" not in tabs and "导出" not in tabs
    assert tabs == ["文档", "问答库", "命中测试", "待改进", "统计"]
    assert not page.is_visible("#panel-tickets")
    # Opened on 待改进 from the link; the abstained question is there.
    page.wait_for_selector("#review-groups li h3:text-is('我想吃火锅')")
    # 统计 shows the questions half only.
    page.click("#tab-stats")
    page.wait_for_selector("#stats-charts[data-rendered='4']", timeout=30000)
    assert page.locator("#fig-tickets-by-county").count() == 0
    # 写入问答库 hands the question to the FAQ editor through the hash (#faq?new=…,
    # which the editor reads and then replaces with #faq): a new entry, pre-filled.
    page.click("#tab-review")
    page.click("#review-groups li:has-text('我想吃火锅') button:text-is('写入问答库')")
    page.wait_for_selector("#faq-questions", timeout=30000)
    assert page.input_value("#faq-questions").splitlines()[0] == "我想吃火锅"
    assert page.get_attribute("#tab-faq", "aria-selected") == "true"
    page.close()
    headers = {"Authorization": f"Bearer {app.editor}"}
    assert httpx.get(f"{app.url}/api/staff/export/tickets.csv", headers=headers).status_code == 403


def test_editor_gets_403_on_tickets(app: App) -> None:
    headers = {"Authorization": f"Bearer {app.editor}"}
    assert httpx.get(f"{app.url}/api/staff/tickets", headers=headers).status_code == 403
