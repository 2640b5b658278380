"""Two-person publishing of FAQ entries: an editor's change waits for an admin.

With ``YIWEN_CONSOLE_TWO_PERSON=true`` the entry citizens get stays as it was until an
admin approves; a rejected proposal leaves no trace in the index; every step is audited.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from tests.console.test_console_api import _ask, _h, _wait, make_env

pytestmark = pytest.mark.slow

QUESTION = "转企可以保留字号吗"
MARK = "须到登记窗口办理变更"
NEW_ANSWER = f"可以保留。转型为企业后，原字号可以继续使用，{MARK}。"


@pytest.fixture(scope="module")
def env(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    yield from make_env(tmp_path_factory.mktemp("two-person"), YIWEN_CONSOLE_TWO_PERSON="true")


def _entry(env: dict[str, Any]) -> dict[str, Any]:
    items = env["client"].get("/api/staff/faq", headers=_h(env)).json()["items"]
    return next(i for i in items if i["id"] == "demo-name")


def test_editor_edit_waits_for_admin_approval(env: dict[str, Any]) -> None:
    client = env["client"]
    old = _entry(env)
    body = {k: old[k] for k in ("topic", "questions", "sources", "date")}
    r = client.put("/api/staff/faq/demo-name", json={**body, "answer": NEW_ANSWER}, headers=_h(env))
    assert r.status_code == 200, r.text
    assert r.json()["job_id"] is None and r.json()["pending"]["answer"] == NEW_ANSWER
    # Published entry unchanged, the proposal shown beside it.
    listed = _entry(env)
    assert listed["answer"] == old["answer"] and listed["pending"]["answer"] == NEW_ANSWER
    assert MARK not in _ask(env, QUESTION)["answer"]

    # The editor cannot approve their own change.
    r = client.post("/api/staff/faq/demo-name/approve", headers=_h(env))
    assert r.status_code == 403 and "管理员" in r.json()["detail"]

    r = client.post("/api/staff/faq/demo-name/approve", headers=_h(env, "admin"))
    assert r.status_code == 200, r.text
    assert r.json()["pending"] is None and r.json()["answer"] == NEW_ANSWER
    assert _wait(env, r.json()["job_id"])[-1]["state"] == "done"
    assert MARK in _ask(env, QUESTION)["answer"]
    # Nothing left to approve.
    assert (
        client.post("/api/staff/faq/demo-name/approve", headers=_h(env, "admin")).status_code == 404
    )


def test_new_entry_rejected_never_reaches_the_index(env: dict[str, Any]) -> None:
    client = env["client"]
    entry = {
        "id": "two-person-new",
        "topic": "示例",
        "questions": ["登记机关审查什么", "材料齐全当场登记吗", "形式审查是什么意思"],
        "answer": "登记机关只做形式审查：材料齐全的，当场登记。",
        "sources": [{"doc": "示例经营条例(2024-01-01)", "clause": "第三条"}],
    }
    r = client.post("/api/staff/faq", json=entry, headers=_h(env))
    assert r.status_code == 201, r.text
    assert r.json()["state"] == "pending" and r.json()["job_id"] is None
    r = client.post("/api/staff/faq/two-person-new/reject", headers=_h(env, "admin"))
    assert r.status_code == 200, r.text
    ids = [i["id"] for i in client.get("/api/staff/faq", headers=_h(env)).json()["items"]]
    assert "two-person-new" not in ids

    # An admin's own change is published at once.
    r = client.post("/api/staff/faq", json=entry, headers=_h(env, "admin"))
    assert r.status_code == 201 and r.json()["state"] == "published" and r.json()["job_id"]


def test_each_step_audited(env: dict[str, Any]) -> None:
    items = (
        env["client"]
        .get("/api/staff/audit", params={"entity": "faq"}, headers=_h(env, "admin"))
        .json()["items"]
    )
    steps = [(i["action"], i["role"]) for i in items]
    assert ("faq.submit", "editor") in steps
    assert ("faq.approve", "admin") in steps
    assert ("faq.reject", "admin") in steps
    approve = next(i for i in items if i["action"] == "faq.approve")
    assert "t-editor" in approve["detail"]["after"]["submitted_by"]
