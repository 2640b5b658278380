"""The knowledge half of the staff console, driven in Chromium like a clerk would.

One real app process (uvicorn, ``preload=True``) over a tiny corpus in tmp, so each index
build takes seconds; the bot is asked over REST (``/api/ask``) on the same process,
which is never restarted. The tests run in order and share the uploaded document.
"""

from __future__ import annotations

import datetime as dt
import io
import os
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy.orm import Session

from core.settings import TicketsSettings
from tests.netutil import free_port
from tests.tickets.helpers import SERVICE_TOKEN, stop_server
from tickets.db import make_engine
from tickets.services.auth import issue_token

pytestmark = [pytest.mark.slow, pytest.mark.browser]

REPO = Path(__file__).resolve().parents[2]
APP = "import sys, uvicorn; from yiwen.app import create_app; " \
      "uvicorn.run(create_app(preload=True), host='127.0.0.1', port=int(sys.argv[1]))"  # fmt: skip

LAW = """# 示例经营条例

第一条 为了方便示例，制定本条例。

第二条 经营者申请转型为企业的，可以保留原有字号。

第三条 登记机关对申请材料进行形式审查，材料齐全的当场登记。
"""
FAQ = """version: 1
topic: 示例
entries:
  - id: demo-name
    questions: [转企可以保留字号吗, 转型后原来的字号还能用吗, 个体户转企业字号能不能保留]
    answer: 可以。经营者转型为企业的，可以保留原有字号。
    sources:
      - {doc: 示例经营条例(2024-01-01), clause: 第二条}
    date: 2024-01-01
"""
TITLE = "江门市2026年个体工商户转型升级奖励办法"
AMOUNT = "4817元"
FILENAME = "jm-award-upload.docx"
AWARD_Q = "个体工商户转型为企业有多少转型奖励？"
NAME_Q = "转企可以保留字号吗"
#: Reasonable, but nothing in the tiny corpus answers it: the bot abstains.
MISS_Q = "网店卖食品需要办什么许可证？"


def _docx(path: Path) -> None:
    from docx import Document

    doc = Document()
    doc.add_heading(TITLE, level=1)
    doc.add_paragraph("第一条 为支持本市个体工商户转型升级，制定本办法。")
    doc.add_paragraph(
        f"第二条 个体工商户在2026年内转型为企业的，由所在县（市、区）一次性发放转型奖励{AMOUNT}。"
    )
    doc.add_paragraph("第三条 本办法自2026年1月1日起施行。")
    buf = io.BytesIO()
    doc.save(buf)
    path.write_bytes(buf.getvalue())


@dataclass
class App:
    url: str
    tmp: Path
    admin: str
    editor: str
    shared: dict[str, Any] = field(default_factory=dict)

    def ask(self, question: str) -> dict[str, Any]:
        r = httpx.post(f"{self.url}/api/ask", json={"question": question}, timeout=60)
        assert r.status_code == 200, r.text
        return r.json()

    def until(self, question: str, ok: Callable[[dict[str, Any]], bool], within: float = 60) -> Any:
        """Ask until ``ok`` holds (the engines take up a new index within seconds)."""
        deadline = time.monotonic() + within
        while True:
            body = self.ask(question)
            if ok(body) or time.monotonic() > deadline:
                return body
            time.sleep(0.5)


def _wait_started(proc: subprocess.Popen[bytes], url: str, log: Path, within: float) -> None:
    deadline = time.monotonic() + within
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"app exited:\n{log.read_text()[-3000:]}")
        try:
            if httpx.get(f"{url}/healthz", timeout=2).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.3)
    proc.kill()
    raise TimeoutError(f"app did not start in {within:.0f} s:\n{log.read_text()[-3000:]}")


@pytest.fixture(scope="module")
def app(tmp_path_factory: pytest.TempPathFactory) -> Iterator[App]:
    tmp = tmp_path_factory.mktemp("console-kb")
    corpus, faq = tmp / "corpus", tmp / "faq"
    corpus.mkdir()
    faq.mkdir()
    (corpus / "示例经营条例(2024-01-01).md").write_text(LAW, "utf-8")
    (faq / "demo.yml").write_text(FAQ, "utf-8")
    database_url = f"sqlite:///{tmp / 'app.db'}"
    env = {k: v for k, v in os.environ.items() if not k.startswith("YIWEN_")}
    env.update(
        YIWEN_DATABASE_URL=database_url,
        YIWEN_DATA_DIR=str(tmp / "data"),
        YIWEN_CORPUS_DIRS=f'["{corpus}"]',
        YIWEN_FAQ_DIR=str(faq),
        YIWEN_TICKET_API_TOKEN=SERVICE_TOKEN,
        YIWEN_INDEX_POLL_SECONDS="1",
        YIWEN_CONSOLE_RECHECK_S="2",
        PYTHONPATH=str(REPO),
    )
    port = free_port()
    log_path = tmp / "app.log"
    with log_path.open("wb") as log:
        proc = subprocess.Popen(
            [sys.executable, "-c", APP, str(port)], cwd=REPO, env=env, stdout=log, stderr=log
        )
    base = f"http://127.0.0.1:{port}"
    try:
        # Start-up loads the encoder and builds the tiny index: seconds alone, minutes on
        # a machine busy with other suites, hence the longer wait than wait_healthy's.
        _wait_started(proc, base, log_path, within=420)
        engine = make_engine(TicketsSettings(database_url=database_url))
        now = dt.datetime.now(dt.UTC)
        with Session(engine) as session, session.begin():
            _r, admin = issue_token(session, role="admin", county=None, name="主任", now=now)
            _r, editor = issue_token(session, role="editor", county=None, name="小李", now=now)
        engine.dispose()
        yield App(base, tmp, admin, editor)
    finally:
        stop_server(proc)


def _login(browser: Any, app: App, token: str, hash_: str = "") -> Any:
    page = browser.new_page(viewport={"width": 1280, "height": 900}, locale="zh-CN")
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    page.goto(f"{app.url}/staff{hash_}")
    page.fill("#token", token)
    page.click("#login button[type=submit]")
    page.wait_for_selector("#tabs [role=tab]")
    page.errors = errors  # type: ignore[attr-defined]
    return page


def _wait_job_done(page: Any, status: str, timeout: float = 90_000) -> None:
    page.wait_for_function(
        "s => { const t = document.querySelector(s).textContent;"
        " return t.includes('已完成') || t.includes('索引已更新') || t.includes('失败'); }",
        arg=status,
        timeout=timeout,
    )
    text = page.text_content(status)
    assert "失败" not in text, text


def _cites(body: dict[str, Any], title: str) -> bool:
    return any(title in c for c in body["citations"])


def test_upload_docx_in_the_browser_then_the_bot_cites_its_title(browser: Any, app: App) -> None:
    path = app.tmp / FILENAME
    _docx(path)
    page = _login(browser, app, app.editor)
    assert page.get_attribute("#tab-documents", "aria-selected") == "true"
    page.wait_for_selector("#doc-upload")
    # Record every progress value the page shows while the job runs.
    page.evaluate(
        """() => { window.seen = []; const p = document.querySelector('#doc-progress');
        new MutationObserver(() => window.seen.push(Number(p.value)))
          .observe(p, {attributes: true}); }"""
    )
    page.set_input_files("#doc-file", str(path))
    page.click("#doc-upload button[type=submit]")
    _wait_job_done(page, "#doc-status")
    assert page.is_visible("#doc-progress")
    assert page.evaluate("document.querySelector('#doc-progress').value") == 1
    seen = page.evaluate("window.seen")
    assert seen and seen == sorted(seen), seen
    page.wait_for_selector(f"#panel-documents tbody button:text-is('{TITLE}')")
    assert page.errors == []  # type: ignore[attr-defined]
    page.close()

    body = app.until(AWARD_Q, lambda b: _cites(b, TITLE))
    assert not body["abstained"] and AMOUNT in body["answer"], body
    assert _cites(body, TITLE) and not any("jm-award-upload" in c for c in body["citations"])


def test_faq_edit_changes_the_answer_and_rollback_restores_it(browser: Any, app: App) -> None:
    before = app.ask(NAME_Q)
    assert "可以保留原有字号" in before["answer"], before
    page = _login(browser, app, app.editor, "#faq")
    page.click("#panel-faq tbody button:text-is('demo-name')")
    page.fill("#faq-answer", "可以。转型后字号照用，但须在营业执照变更时一并申报。")
    page.click("#panel-faq form:has(#faq-answer) button[type=submit]")
    _wait_job_done(page, "#faq-status")
    body = app.until(NAME_Q, lambda b: "一并申报" in b["answer"])
    assert "一并申报" in body["answer"], body

    # Version history: 1 is the shipped text, 2 the edit. Roll back to 1.
    page.wait_for_selector("#panel-faq button[data-version='2']")
    page.click("#panel-faq button[data-version='1']")
    page.wait_for_selector("#panel-faq button[data-version='3']")
    _wait_job_done(page, "#faq-status")
    assert page.input_value("#faq-answer") == "可以。经营者转型为企业的，可以保留原有字号。"
    body = app.until(NAME_Q, lambda b: "一并申报" not in b["answer"])
    assert "一并申报" not in body["answer"] and "可以保留原有字号" in body["answer"], body
    assert page.errors == []  # type: ignore[attr-defined]
    page.close()


def _open_document(page: Any) -> None:
    page.click(f"#panel-documents tbody button:text-is('{TITLE}')")
    page.wait_for_selector("#doc-meta")


def test_repeal_date_yesterday_demotes_and_labels(browser: Any, app: App) -> None:
    page = _login(browser, app, app.editor, "#documents")
    _open_document(page)
    yesterday = (dt.date.today() - dt.timedelta(days=1)).isoformat()
    page.fill("#meta-repealed_on", yesterday)
    page.click("#doc-meta button[type=submit]")
    _wait_job_done(page, "#doc-status")
    page.wait_for_selector("#panel-documents tbody td:has-text('已废止')")
    page.close()

    def demoted(body: dict[str, Any]) -> bool:
        return TITLE not in (body.get("lead_citation") or "")

    body = app.until(AWARD_Q, demoted)
    assert demoted(body), body
    labelled = [c for c in body["citations"] if TITLE in c]
    assert all("废止" in c for c in labelled), body
    headers = {"Authorization": f"Bearer {app.editor}"}
    hits = httpx.post(
        f"{app.url}/api/staff/hittest", json={"question": AWARD_Q}, headers=headers, timeout=60
    ).json()["hits"]
    assert any(TITLE in h["citation"] and "废止" in (h["superseded_by"] or "") for h in hits)


def test_disabled_document_is_no_longer_cited(browser: Any, app: App) -> None:
    page = _login(browser, app, app.editor, "#documents")
    _open_document(page)
    page.click("#doc-actions button:text-is('停用')")
    _wait_job_done(page, "#doc-status")
    page.wait_for_selector(f"#panel-documents tbody tr:has-text('{TITLE}') td:text-is('已停用')")
    page.close()
    body = app.until(AWARD_Q, lambda b: not _cites(b, TITLE))
    assert not _cites(b := body, TITLE) and AMOUNT not in b["answer"], body


def test_abstained_question_becomes_an_faq_entry_in_two_clicks(browser: Any, app: App) -> None:
    assert app.ask(MISS_Q)["abstained"]
    page = _login(browser, app, app.editor, "#review")
    item = page.locator(f"#review-groups li:has(h3:text-is('{MISS_Q}'))")
    item.locator("button:text-is('写入问答库')").click()  # click 1
    page.wait_for_selector("#faq-answer")
    assert page.input_value("#faq-questions").splitlines()[0] == MISS_Q
    assert page.input_value("#faq-sources").strip(), "the hit test suggests a source"
    assert page.evaluate("document.activeElement.id") == "faq-answer"
    # The clerk writes the answer and two more ways to ask (typing, no clicks).
    page.fill("#faq-questions", f"{MISS_Q}\n网上卖食品要办证吗\n网店销售食品需要什么许可")
    page.fill("#faq-answer", "网店销售食品，须先取得食品经营许可证，并在网店首页公示。")
    page.keyboard.press("Tab")
    page.click("#panel-faq form:has(#faq-answer) button[type=submit]")  # click 2
    _wait_job_done(page, "#faq-status")
    assert page.errors == []  # type: ignore[attr-defined]
    page.close()
    body = app.until(MISS_Q, lambda b: not b["abstained"])
    assert not body["abstained"] and "首页公示" in body["answer"], body


def test_admin_sees_every_change_in_the_audit_log(app: App) -> None:
    r = httpx.get(
        f"{app.url}/api/staff/audit",
        headers={"Authorization": f"Bearer {app.admin}"},
        params={"page_size": 200},
        timeout=30,
    )
    assert r.status_code == 200, r.text
    items = r.json()["items"]
    actions = {i["action"] for i in items if "小李" in i["actor"]}
    assert {
        "document.upload",
        "faq.edit",
        "faq.rollback_v1",
        "document.edit",
        "document.disable",
        "faq.create",
    } <= actions, actions
    edit = next(i for i in items if i["action"] == "document.edit")
    assert edit["detail"]["before"]["repealed_on"] is None
    assert edit["detail"]["after"]["repealed_on"] is not None
