"""The outbox can be trusted (issue 12, #8): a submission the ticket API refuses is not
retried forever, one refusal does not stop the others, operators can see and requeue
stuck items, and stuck items make ``/healthz`` say degraded.

Before the fix a 409 (and the NUL complaint's 500 on PostgreSQL) retried forever, a 429
aborted the whole retry pass, nothing listed stuck items and nothing alerted anyone.
Runs against the real ticket API on SQLite and PostgreSQL.
"""

from __future__ import annotations

import datetime as dt
import os
import sqlite3
import subprocess
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy.engine import make_url

from tests.security.stack import APP_PY, REPO
from tests.tickets.helpers import SERVICE_TOKEN, Server, complaint

pytestmark = pytest.mark.slow


@pytest.fixture
def outbox(api: Server, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Any:
    monkeypatch.setenv("YIWEN_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("YIWEN_TICKET_API_URL", api.base_url)
    monkeypatch.setenv("YIWEN_TICKET_API_TOKEN", SERVICE_TOKEN)
    from bot.actions.outbox import Outbox

    return Outbox()


def _payload(**overrides: Any) -> dict[str, Any]:
    body = complaint(**overrides)
    body.pop("local_ref", None)
    return body


def test_refused_submissions_are_flagged_not_retried_forever(api: Server, outbox: Any) -> None:
    from bot.actions.outbox import deliver_pending

    nul = outbox.add(_payload(facts="过期\u0000牛奶"), "complaint", hold_s=0)
    first = outbox.add(_payload(), "complaint", hold_s=0)
    assert deliver_pending(outbox) == 1
    # Same idempotency key, other content: the API answers 409.
    clash = outbox.add(_payload(facts="另一件事"), "complaint", hold_s=0)
    conn = sqlite3.connect(outbox.path)
    with conn:  # the key is UNIQUE in the outbox: move it from the delivered item
        conn.execute("UPDATE outbox SET idempotency_key='x' WHERE local_ref=?", (first.local_ref,))
        conn.execute(
            "UPDATE outbox SET idempotency_key=? WHERE local_ref=?",
            (first.idempotency_key, clash.local_ref),
        )
    conn.close()
    deliver_pending(outbox)
    states = {i.local_ref: i.status for i in outbox.all()}
    assert states[nul.local_ref] == "rejected"
    assert states[first.local_ref] == "delivered"
    assert states[clash.local_ref] == "rejected"


def test_a_throttled_item_does_not_stop_the_pass(outbox: Any) -> None:
    from bot.actions.outbox import deliver_pending
    from bot.actions.ticket_client import TicketThrottled, create_ticket

    throttled = outbox.add(_payload(), "complaint", hold_s=0)
    fine = outbox.add(_payload(), "complaint", hold_s=0)

    def send(payload: dict[str, Any], key: str) -> Any:
        if key == throttled.idempotency_key:
            raise TicketThrottled("throttled", "请稍后再试", 429)
        return create_ticket(payload, key)

    assert deliver_pending(outbox, send) == 1
    states = {i.local_ref: i.status for i in outbox.all()}
    assert states == {throttled.local_ref: "pending", fine.local_ref: "delivered"}


def test_operators_list_and_requeue_and_healthz_reports_stuck(
    api: Server, outbox: Any, tmp_path: Path
) -> None:
    stuck = outbox.add(_payload(), "complaint", hold_s=0)
    old = (dt.datetime.now(dt.UTC) - dt.timedelta(hours=2)).isoformat(timespec="seconds")
    conn = sqlite3.connect(outbox.path)
    with conn:
        conn.execute("UPDATE outbox SET created_at=? WHERE local_ref=?", (old, stuck.local_ref))
    conn.close()
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    listed = subprocess.run(
        [str(APP_PY), "-m", "yiwen.cli", "outbox", "list"],
        cwd=REPO, env=env, capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert listed.returncode == 0, listed.stderr
    assert stuck.local_ref in listed.stdout and "pending" in listed.stdout
    assert "13912345678" not in listed.stdout and "陈小明" not in listed.stdout
    retried = subprocess.run(
        [str(APP_PY), "-m", "yiwen.cli", "outbox", "retry", stuck.local_ref],
        cwd=REPO, env=env, capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert retried.returncode == 0 and "已重新排队" in retried.stdout, retried.stdout
    # The API server's data dir holds the outbox the action server beside it writes.
    server_data = Path(str(make_url(api.database_url).database or "")).parent
    if make_url(api.database_url).get_backend_name() != "sqlite":
        pytest.skip("the PostgreSQL server's data dir is its own; checked on SQLite")
    served = server_data / "sqlite" / "outbox.sqlite3"
    served.parent.mkdir(parents=True, exist_ok=True)
    served.write_bytes(outbox.path.read_bytes())
    try:
        health = httpx.get(f"{api.base_url}/healthz", timeout=30)
    finally:
        served.unlink()
    assert health.status_code == 200
    assert health.json()["status"] == "degraded" and health.json()["outbox_stuck"] == 1
    assert httpx.get(f"{api.base_url}/healthz", timeout=30).json()["status"] == "ok"
