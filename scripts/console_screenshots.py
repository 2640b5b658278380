"""Screenshots of every staff console page for the README: ``docs/console-<page>.png``.

Why a script: the pictures must follow the UI when it changes, so anyone can regenerate
them with ``.venv/app/bin/python scripts/console_screenshots.py``. It starts the app on a
throw-away data dir (tmp SQLite, a two-document demo corpus, no Rasa), fills it with
made-up tickets, questions, an uploaded notice and an FAQ edit, then photographs each tab
at laptop width with Playwright and the Debian chromium. Nothing in the checkout but
``docs/`` is touched.
"""

from __future__ import annotations

import argparse
import datetime as dt
import io
import os
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

import httpx

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

CHROMIUM = Path("/usr/bin/chromium")
PAGES = ["tickets", "documents", "faq", "hittest", "review", "stats", "export"]
SERVICE_TOKEN = "screenshot-service-token-" + uuid.uuid4().hex
APP = "import sys, uvicorn; from yiwen.app import create_app; " \
      "uvicorn.run(create_app(preload=True), host='127.0.0.1', port=int(sys.argv[1]))"  # fmt: skip

# Made-up demo content (not the shipped corpus: a build of it would take minutes).
LAW = """# 江门市个体工商户转型升级示例办法

第一条 为支持个体工商户转型升级，制定本办法。

第二条 个体工商户转型为企业的，可以保留原有字号和经营场所。

第三条 登记机关对申请材料进行形式审查，材料齐全的当场办理登记。
"""
FAQ = """version: 1
topic: 个转企
entries:
  - id: gzq-name
    questions: [转企可以保留字号吗, 转型后原来的字号还能用吗, 个体户转企业字号能不能保留]
    answer: 可以。个体工商户转型为企业的，可以保留原有字号和经营场所。
    sources:
      - {doc: 江门市个体工商户转型升级示例办法(2025-03-01), clause: 第二条}
    date: 2025-03-01
"""
NOTICE_TITLE = "江门市2026年小微企业开办补贴示例措施"
COUNTIES = ["新会区", "新会区", "台山市", "开平市", "蓬江区", "江海区", "恩平市"]
QUESTIONS = [
    ("转企可以保留字号吗", "helpful", "socketio"),
    ("个体户转企业要多久", None, "wechat"),
    ("小微企业开办补贴有多少", "helpful", "rest"),
    ("网店卖食品需要办什么许可证？", None, "socketio"),
    ("网上卖食品要办证吗", None, "wechat"),
    ("商标注册要多少钱？", None, "rest"),
    ("投诉多久受理", "unhelpful", "wechat"),
]


def _notice() -> bytes:
    from docx import Document

    doc = Document()
    doc.add_heading(NOTICE_TITLE, level=1)
    doc.add_paragraph("第一条 为降低小微企业开办成本，制定本措施。")
    doc.add_paragraph("第二条 2026年在本市新设立的小微企业，可申请一次性开办补贴2000元。")
    doc.add_paragraph("第三条 本措施自2026年1月1日起施行。")
    buf = io.BytesIO()
    doc.save(buf)
    return buf.getvalue()


def _complaint(county: str, number: int) -> dict[str, object]:
    return {
        "kind": "complaint",
        "complainant": {"name": "陈小明", "phone": "139-1234-5678", "address": "江门市蓬江区"},
        "anonymous": False,
        "respondent": {
            "name": f"示例商店{number}",
            "address": f"江门市{county}中心路{number}号",
            "is_platform": False,
        },
        "county": None,
        "incident_date": (dt.date.today() - dt.timedelta(days=3 + number)).isoformat(),
        "amount": "35.00",
        "product": "牛奶",
        "demand": "退款",
        "demand_detail": None,
        "facts": "购买的牛奶已过保质期，商家拒绝退款。",
        "evidence": [],
        "consent_share_contact": True,
        "channel": "wechat",
        "sender_id": None,
        "local_ref": None,
    }


def _free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _wait(url: str, proc: subprocess.Popen[bytes], log: Path) -> None:
    deadline = time.monotonic() + 300
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise SystemExit(f"app exited:\n{log.read_text()[-3000:]}")
        try:
            if httpx.get(f"{url}/healthz", timeout=1).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.3)
    raise SystemExit(f"app did not start:\n{log.read_text()[-3000:]}")


def _job(client: httpx.Client, job_id: str) -> None:
    for _ in range(600):
        state = client.get(f"/api/staff/jobs/{job_id}").json()["state"]
        if state in ("done", "failed"):
            return
        time.sleep(0.2)


def _seed(url: str, database_url: str) -> str:
    """Demo data through the real APIs; returns an admin token."""
    from sqlalchemy.orm import Session

    from bot.actions import review_log
    from core.settings import TicketsSettings
    from tickets.db import make_engine
    from tickets.services.auth import issue_token

    engine = make_engine(TicketsSettings(database_url=database_url))
    with Session(engine) as session, session.begin():
        now = dt.datetime.now(dt.UTC)
        _row, admin = issue_token(session, role="admin", county=None, name="王主任", now=now)
    engine.dispose()
    service = {"Authorization": f"Bearer {SERVICE_TOKEN}"}
    with httpx.Client(base_url=url, timeout=120) as client:
        for number, county in enumerate(COUNTIES, start=1):
            body = _complaint(county, number)
            headers = {**service, "Idempotency-Key": uuid.uuid4().hex}
            client.post("/api/tickets", json=body, headers=headers).raise_for_status()
    with httpx.Client(
        base_url=url, timeout=120, headers={"Authorization": f"Bearer {admin}"}
    ) as client:
        r = client.post("/api/staff/documents", files={"file": ("kaiban-2026.docx", _notice())})
        r.raise_for_status()
        _job(client, r.json()["job_id"])
        entry = next(i for i in client.get("/api/staff/faq").json()["items"])
        edited = {k: entry[k] for k in ("topic", "questions", "sources", "date")}
        edited["answer"] = entry["answer"] + "转型时到登记窗口一并办理即可。"
        r = client.put(f"/api/staff/faq/{entry['id']}", json=edited)
        r.raise_for_status()
        if r.json().get("job_id"):
            _job(client, r.json()["job_id"])
    for question, feedback, channel in QUESTIONS:
        answer = httpx.post(f"{url}/api/ask", json={"question": question}, timeout=120).json()
        if feedback:
            review_log.record(
                question=question,
                answer=answer["answer"],
                abstained=answer["abstained"],
                feedback=feedback,
                channel=channel,
                url=database_url,
            )
    return admin


def _shoot(url: str, admin: str, out: Path) -> list[Path]:
    from playwright.sync_api import sync_playwright

    written = []
    with sync_playwright() as pw:
        browser = pw.chromium.launch(
            executable_path=str(CHROMIUM), args=["--no-sandbox", "--disable-gpu"]
        )
        page = browser.new_page(
            viewport={"width": 1366, "height": 820}, locale="zh-CN", timezone_id="Asia/Shanghai"
        )
        page.goto(f"{url}/staff")
        page.fill("#token", admin)
        page.click("#login button[type=submit]")
        page.wait_for_selector("#tabs [role=tab]")
        for name in PAGES:
            page.click(f"#tab-{name}")
            panel = f"#panel-{name}"
            if name == "tickets":
                page.wait_for_selector(f"{panel} tbody tr")
            if name == "documents":
                page.click(f"{panel} tbody button:text-is('{NOTICE_TITLE}')")
                page.wait_for_selector("#doc-meta")
            if name == "faq":
                page.wait_for_selector(f"{panel} tbody tr")
                page.click(f"{panel} tbody tr button >> nth=0")
                page.wait_for_selector(f"{panel} button[data-version]")
            if name == "hittest":
                page.fill("#ht-question", "小微企业开办补贴有多少")
                page.click(f"{panel} form button[type=submit]")
                page.wait_for_selector(f"{panel} table tbody tr")
            if name == "review":
                page.wait_for_selector("#review-groups li")
            if name == "stats":
                page.wait_for_selector("#stats-charts[data-rendered='8']", timeout=60000)
                page.wait_for_timeout(1200)  # let ECharts finish its entry animation
            page.evaluate("window.scrollTo(0, 0)")
            target = out / f"console-{name}.png"
            page.screenshot(path=str(target))
            written.append(target)
        browser.close()
    return written


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=REPO / "docs")
    args = parser.parse_args()
    if not CHROMIUM.exists():
        print("没有 Debian chromium：先运行 scripts/setup-browser.sh", file=sys.stderr)
        return 1
    with tempfile.TemporaryDirectory(prefix="yiwen-shots-") as name:
        tmp = Path(name)
        corpus, faq = tmp / "corpus", tmp / "faq"
        corpus.mkdir()
        faq.mkdir()
        (corpus / "江门市个体工商户转型升级示例办法(2025-03-01).md").write_text(LAW, "utf-8")
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
            PYTHONPATH=str(REPO),
        )
        port = _free_port()
        url = f"http://127.0.0.1:{port}"
        log = tmp / "app.log"
        with log.open("wb") as fh:
            proc = subprocess.Popen(
                [sys.executable, "-c", APP, str(port)], cwd=REPO, env=env, stdout=fh, stderr=fh
            )
        try:
            _wait(url, proc, log)
            admin = _seed(url, database_url)
            args.out.mkdir(parents=True, exist_ok=True)
            for path in _shoot(url, admin, args.out):
                print(f"{path}（{path.stat().st_size // 1024} KB）")
        finally:
            proc.terminate()
            proc.wait(timeout=30)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
