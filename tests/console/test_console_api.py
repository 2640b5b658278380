"""Knowledge console API end to end on a small corpus in tmp: upload → job → answer,
FAQ edit and rollback, Excel round trip, repeal by date, roles and audit.

The app runs on TestClient with its lifespan (migrations, job worker). The engine the
app answers from is swapped by the job itself (``yiwen.app`` tells ``app.state.live``
after each build), so no reload happens in the test.
"""

from __future__ import annotations

import datetime as dt
import io
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from core.settings import reset_settings

pytestmark = pytest.mark.slow

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

AMOUNT = "3721元"
TITLE = "江门市2026年扶持个体工商户转型升级若干措施"


def _docx() -> bytes:
    from docx import Document

    doc = Document()
    doc.add_heading(TITLE, level=1)
    doc.add_paragraph("第一条 为支持本市个体工商户转型升级，制定本措施。")
    doc.add_paragraph(
        f"第二条 个体工商户在2026年内转型为企业的，由所在县（市、区）一次性发放转型奖励{AMOUNT}。"
    )
    doc.add_paragraph("第三条 本措施自2026年1月1日起施行。")
    buf = io.BytesIO()
    doc.save(buf)
    return buf.getvalue()


@pytest.fixture(scope="module")
def env(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    yield from make_env(tmp_path_factory.mktemp("console"))


def make_env(root: Path, **settings: str) -> Iterator[dict[str, Any]]:
    """The app on TestClient over the tmp corpus; ``settings`` are extra YIWEN_* values."""
    corpus, faq = root / "corpus", root / "faq"
    corpus.mkdir()
    faq.mkdir()
    (corpus / "示例经营条例(2024-01-01).md").write_text(LAW, "utf-8")
    (faq / "demo.yml").write_text(FAQ, "utf-8")
    mp = pytest.MonkeyPatch()
    mp.setenv("YIWEN_DATA_DIR", str(root / "data"))
    mp.setenv("YIWEN_CORPUS_DIRS", f'["{corpus}"]')
    mp.setenv("YIWEN_FAQ_DIR", str(faq))
    mp.setenv("YIWEN_CONSOLE_UPLOAD_MAX_BYTES", str(200_000))
    mp.delenv("YIWEN_DATABASE_URL", raising=False)
    for key, value in settings.items():
        mp.setenv(key, value)
    reset_settings()
    import retrieval.engine as engine_module

    mp.setattr(engine_module, "_live", None)
    from tickets.deps import STATE_KEY
    from tickets.services.auth import issue_token
    from yiwen.app import create_app

    app = create_app(preload=True)
    with TestClient(app) as client:
        state = getattr(app.state, STATE_KEY)
        tokens: dict[str, str] = {}
        with state.db.writing() as session:
            for role, county in (("editor", None), ("admin", None), ("county", "新会区")):
                _row, secret = issue_token(
                    session, role=role, county=county, name=f"t-{role}", now=state.now()
                )
                tokens[role] = secret
        yield {"client": client, "app": app, "tokens": tokens, "state": state}
    mp.undo()
    reset_settings()


def _h(env: dict[str, Any], role: str = "editor") -> dict[str, str]:
    return {"Authorization": f"Bearer {env['tokens'][role]}"}


def _wait(env: dict[str, Any], job_id: str) -> list[dict[str, Any]]:
    seen: list[dict[str, Any]] = []
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        r = env["client"].get(f"/api/staff/jobs/{job_id}", headers=_h(env))
        assert r.status_code == 200, r.text
        seen.append(r.json())
        if seen[-1]["state"] in ("done", "failed"):
            return seen
        time.sleep(0.1)
    raise AssertionError(f"job {job_id} not finished: {seen[-1]}")


def _ask(env: dict[str, Any], question: str) -> dict[str, Any]:
    r = env["client"].post("/api/ask", json={"question": question})
    assert r.status_code == 200, r.text
    return r.json()


def _upload(env: dict[str, Any], name: str, data: bytes, role: str = "editor") -> Any:
    return env["client"].post(
        "/api/staff/documents", files={"file": (name, data)}, headers=_h(env, role)
    )


def test_roles(env: dict[str, Any]) -> None:
    client = env["client"]
    assert client.get("/api/staff/documents").status_code == 401
    r = client.get("/api/staff/documents", headers=_h(env, "county"))
    assert r.status_code == 403 and "知识编辑" in r.json()["detail"]
    r = client.get("/api/staff/tickets", headers=_h(env, "editor"))
    assert r.status_code == 403 and "县区工作人员" in r.json()["detail"]
    assert client.get("/api/staff/faq", headers=_h(env, "admin")).status_code == 200
    assert client.get("/api/staff/tickets", headers=_h(env, "county")).status_code == 200
    assert client.get("/api/staff/me", headers=_h(env, "editor")).json()["role"] == "editor"


def test_bad_uploads_get_chinese_errors(env: dict[str, Any]) -> None:
    from pypdf import PdfWriter

    r = _upload(env, "notice.exe", b"MZ....")
    assert r.status_code == 422 and "不支持的文件类型" in r.json()["detail"]
    r = _upload(env, "坏文件.docx", b"this is not a zip file at all")
    assert r.status_code == 422 and "坏文件.docx" in r.json()["detail"]
    assert "损坏" in r.json()["detail"] and "/uploads/" not in r.json()["detail"]
    writer = PdfWriter()
    writer.add_blank_page(200, 200)
    writer.encrypt("secret")
    buf = io.BytesIO()
    writer.write(buf)
    r = _upload(env, "加密.pdf", buf.getvalue())
    assert r.status_code == 422 and "加密" in r.json()["detail"]
    blank = PdfWriter()
    blank.add_blank_page(200, 200)
    buf = io.BytesIO()
    blank.write(buf)
    r = _upload(env, "扫描件.pdf", buf.getvalue())
    assert r.status_code == 422 and "没有可提取的文字" in r.json()["detail"]
    r = _upload(env, "大文件.txt", "第一条 内容。\n".encode() * 30_000)
    assert r.status_code == 413 and "过大" in r.json()["detail"]


def test_upload_docx_answers_with_its_title(env: dict[str, Any]) -> None:
    r = _upload(env, "upload-2026.docx", _docx())
    assert r.status_code == 202, r.text
    job_id = r.json()["job_id"]
    seen = _wait(env, job_id)
    assert seen[-1]["state"] == "done", seen[-1]
    assert seen[-1]["progress"] == 1.0
    progress = [s["progress"] for s in seen]
    assert progress == sorted(progress)

    docs = env["client"].get("/api/staff/documents", headers=_h(env)).json()["items"]
    doc = next(d for d in docs if d["filename"] == "upload-2026.docx")
    assert doc["title"] == TITLE and doc["state"] == "published"
    detail = env["client"].get(f"/api/staff/documents/{doc['id']}", headers=_h(env)).json()
    assert [c["label"] for c in detail["chunks"]] == ["第一条", "第二条", "第三条"]

    body = _ask(env, "个体工商户转型为企业有多少转型奖励？")
    assert not body["abstained"], body
    assert AMOUNT in body["answer"]
    assert any(TITLE in c for c in body["citations"]), body["citations"]
    assert not any("upload-2026" in c for c in body["citations"])
    env["doc_id"] = doc["id"]


def test_faq_create_edit_rollback_changes_answer(env: dict[str, Any]) -> None:
    client, doc_id = env["client"], env["doc_id"]
    entry = {
        "id": "jm-transform-award",
        "topic": "个转企",
        "questions": ["江门转企奖励怎么领", "转型奖励去哪里领取", "个体户转企业的奖励找谁领"],
        "answer": "转型奖励由所在县（市、区）一次性发放，无须另行申请。",
        "sources": [{"doc": f"console-{doc_id}", "clause": "第二条"}],
        "date": "2026-01-01",
    }
    r = client.post("/api/staff/faq", json=entry, headers=_h(env))
    assert r.status_code == 201, r.text
    assert _wait(env, r.json()["job_id"])[-1]["state"] == "done"
    assert "无须另行申请" in _ask(env, "转型奖励去哪里领取")["answer"]

    r = client.put(
        "/api/staff/faq/jm-transform-award",
        json={**entry, "answer": "转型奖励须到所在县（市、区）市场监管局窗口领取。"},
        headers=_h(env),
    )
    assert r.status_code == 200 and r.json()["version"] == 2
    assert _wait(env, r.json()["job_id"])[-1]["state"] == "done"
    assert "窗口领取" in _ask(env, "转型奖励去哪里领取")["answer"]

    diff = client.get(
        "/api/staff/faq/jm-transform-award/diff", params={"a": 1, "b": 2}, headers=_h(env)
    ).json()["diff"]
    assert any(line.startswith("-") and "无须另行申请" in line for line in diff)

    r = client.post("/api/staff/faq/jm-transform-award/rollback/1", headers=_h(env))
    assert r.status_code == 200 and r.json()["version"] == 3
    assert _wait(env, r.json()["job_id"])[-1]["state"] == "done"
    assert "无须另行申请" in _ask(env, "转型奖励去哪里领取")["answer"]

    bad = {**entry, "id": "bad-source", "sources": [{"doc": "nope", "clause": "第一条"}]}
    r = client.post("/api/staff/faq", json=bad, headers=_h(env))
    assert r.status_code == 422 and "不存在" in r.json()["detail"]


def test_excel_round_trip(env: dict[str, Any]) -> None:
    from openpyxl import Workbook, load_workbook

    client = env["client"]
    r = client.get("/api/staff/faq/export.xlsx", headers=_h(env))
    assert r.status_code == 200
    wb = load_workbook(io.BytesIO(r.content))
    ws = wb.worksheets[0]
    rows = list(ws.iter_rows(values_only=True))
    ids = [row[0] for row in rows[1:]]
    assert {"demo-name", "jm-transform-award"} <= set(ids)
    row_no = ids.index("demo-name") + 2
    ws.cell(row=row_no, column=4, value="可以。转型为企业后，原有字号可以继续使用。")
    ws.append(["bad-row", "示例", "只有一个问题", "答案", "示例经营条例(2024-01-01) 第二条", ""])
    bad_row = ws.max_row
    out = io.BytesIO()
    wb.save(out)
    r = client.post(
        "/api/staff/faq/import", files={"file": ("faq.xlsx", out.getvalue())}, headers=_h(env)
    )
    assert r.status_code == 200, r.text
    report = r.json()
    assert report["changed"] == ["demo-name"]
    assert report["created"] == []
    assert len(report["failed"]) == 1 and report["failed"][0]["row"] == bad_row
    assert report["failed"][0]["message"].startswith(f"第{bad_row}行：")
    assert _wait(env, report["job_id"])[-1]["state"] == "done"

    template = client.get("/api/staff/faq/template.xlsx", headers=_h(env))
    header = next(iter(load_workbook(io.BytesIO(template.content)).worksheets[0].values))
    assert header[0] == "编号"
    empty = Workbook()
    buf = io.BytesIO()
    empty.save(buf)
    r = client.post(
        "/api/staff/faq/import", files={"file": ("x.xlsx", buf.getvalue())}, headers=_h(env)
    )
    assert r.status_code == 422 and "表头" in r.json()["detail"]


def test_repeal_date_passing_demotes_without_manual_reindex(env: dict[str, Any]) -> None:
    client, doc_id, app = env["client"], env["doc_id"], env["app"]
    runner = app.state.console.runner
    today = env["state"].today()
    tomorrow = today + dt.timedelta(days=1)
    r = client.patch(
        f"/api/staff/documents/{doc_id}",
        json={"repealed_on": tomorrow.isoformat()},
        headers=_h(env),
    )
    assert r.status_code == 200, r.text
    assert _wait(env, r.json()["job_id"])[-1]["state"] == "done"
    question = "个体工商户转型为企业有多少转型奖励？"
    assert any(TITLE in c for c in _ask(env, question)["citations"])

    # Two days pass; nobody touches the console. The scheduled check notices.
    runner.today = lambda: today + dt.timedelta(days=2)
    job_id = runner.check_validity()
    assert job_id is not None
    assert _wait(env, job_id)[-1]["state"] == "done"
    seen = client.post("/api/staff/hittest", json={"question": question}, headers=_h(env)).json()
    assert TITLE not in seen["lead_citation"], seen
    repealed = [h for h in seen["hits"] if TITLE in h["citation"]]
    assert repealed and all("废止" in (h["superseded_by"] or "") for h in repealed)
    hits = seen["hits"]
    assert runner.check_validity() is None  # nothing stale any more
    # A repealed article is refused as a FAQ source, with the reason.
    entry = {
        "id": "repealed-source",
        "topic": "个转企",
        "questions": ["问一", "问二", "问三"],
        "answer": "答案。",
        "sources": [{"doc": f"console-{doc_id}", "clause": "第二条"}],
    }
    runner_today = runner.today
    env["state"].today = runner_today  # the API's today, two days on
    r = client.post("/api/staff/faq", json=entry, headers=_h(env))
    assert r.status_code == 422 and "废止" in r.json()["detail"], r.text
    assert hits


def test_audit_has_before_and_after(env: dict[str, Any]) -> None:
    client, doc_id = env["client"], env["doc_id"]
    r = client.get(
        "/api/staff/audit", params={"entity": "document", "entity_id": str(doc_id)}, headers=_h(env)
    )
    assert r.status_code == 403  # editors cannot read the audit log
    r = client.get(
        "/api/staff/audit",
        params={"entity": "document", "entity_id": str(doc_id)},
        headers=_h(env, "admin"),
    )
    items = r.json()["items"]
    actions = [i["action"] for i in items]
    assert "document.upload" in actions and "document.edit" in actions
    edit = next(i for i in items if i["action"] == "document.edit")
    assert edit["detail"]["before"]["repealed_on"] is None
    assert edit["detail"]["after"]["repealed_on"] is not None
    assert edit["role"] == "editor" and "t-editor" in edit["actor"]
    faq = client.get("/api/staff/audit", params={"entity": "faq"}, headers=_h(env, "admin")).json()[
        "items"
    ]
    assert {"faq.create", "faq.edit", "faq.rollback_v1", "faq.import"} <= {i["action"] for i in faq}


def test_versions_listed(env: dict[str, Any]) -> None:
    r = env["client"].get(f"/api/staff/documents/{env['doc_id']}/versions", headers=_h(env))
    assert [v["version"] for v in r.json()["items"]][:2] == [1, 2]


def test_hittest(env: dict[str, Any]) -> None:
    r = env["client"].post(
        "/api/staff/hittest", json={"question": "转企可以保留字号吗"}, headers=_h(env)
    )
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["hits"] and body["hits"][0]["rank"] == 1
    assert body["matched_faq"]["id"] == "demo-name"
    assert set(body["confidence"]) >= {"passage", "passage_threshold", "faq", "faq_threshold"}
    assert body["abstained"] is False and body["lead"]
    r = env["client"].post(
        "/api/staff/hittest", json={"question": "转企"}, headers=_h(env, "county")
    )
    assert r.status_code == 403


def test_tmp_path_only(env: dict[str, Any]) -> None:
    from core.settings import get_settings

    export = get_settings().knowledge.console_export_dir
    assert (export / "documents.jsonl").is_file()
    assert Path(__file__).resolve().parents[2] not in export.resolve().parents
