"""``yiwen purge --older-than DAYS``: the retention command (issue 12, data protection).

Run as operators run it (a subprocess with the environment pointing at the data), on a
data dir with old and recent items of every kind the policy covers.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import sqlite3
import subprocess
import time
from pathlib import Path

from sqlalchemy import create_engine, text

from tests.security.stack import APP_PY, REPO


def _old(days: int) -> dt.datetime:
    return dt.datetime.now(dt.UTC) - dt.timedelta(days=days)


def test_purge_removes_old_personal_data_and_keeps_recent(tmp_path: Path) -> None:
    data = tmp_path / "data"
    env = {k: v for k, v in os.environ.items() if not k.startswith("YIWEN_")}
    env.update(
        PYTHONPATH=str(REPO),
        YIWEN_DATA_DIR=str(data),
        YIWEN_DATABASE_URL=f"sqlite:///{tmp_path / 'app.db'}",
        YIWEN_RASA_TRACKER_STORE_URL=f"sqlite:///{tmp_path / 'tracker.db'}",
    )
    script = """
import datetime as dt, json
from bot.actions.outbox import Outbox
from bot.actions.ticket_client import TicketReceipt
from bot.actions import review_log
box = Outbox()
for ref in ("LOCAL-20250101-AAAAAA", "LOCAL-20261201-BBBBBB", "LOCAL-20250101-CCCCCC"):
    box.add({"complainant": {"name": "陈大文", "phone": "13912345678"}}, "complaint",
            phone_last4="5678", local_ref=ref)
box.mark_delivered("LOCAL-20250101-AAAAAA",
                   TicketReceipt(ticket_no="JM2025-000001", lookup_code="JM2025-000001-7KQ2XM"))
box.mark_delivered("LOCAL-20261201-BBBBBB",
                   TicketReceipt(ticket_no="JM2026-000002", lookup_code="JM2026-000002-7KQ2XM"))
review_log.record(question="旧问题", answer=None, abstained=True, sender_id="old", channel="rest")
review_log.record(question="新问题", answer=None, abstained=True, sender_id="new", channel="rest")
"""
    subprocess.run([str(APP_PY), "-c", script], cwd=REPO, env=env, check=True, timeout=120)
    # Age what should be purged.
    outbox = sqlite3.connect(data / "outbox.sqlite3")
    old_iso = _old(100).isoformat(timespec="seconds")
    outbox.execute("UPDATE outbox SET updated_at=? WHERE local_ref LIKE 'LOCAL-2025%'", (old_iso,))
    outbox.commit()
    app = create_engine(f"sqlite:///{tmp_path / 'app.db'}")
    with app.begin() as conn:
        conn.execute(
            text("UPDATE review_log SET created_at=:at WHERE sender_id='old'"), {"at": _old(100)}
        )
    tracker = sqlite3.connect(tmp_path / "tracker.db")
    tracker.execute("CREATE TABLE events (id INTEGER PRIMARY KEY, sender_id TEXT, timestamp REAL)")
    tracker.execute("INSERT INTO events VALUES (1, 'old', ?)", (time.time() - 100 * 86400,))
    tracker.execute("INSERT INTO events VALUES (2, 'new', ?)", (time.time(),))
    tracker.commit()

    done = subprocess.run(
        [str(APP_PY), "-m", "yiwen.cli", "purge", "--older-than", "90"],
        cwd=REPO, env=env, capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert "清除 1 条" in done.stdout and "删除 1 条" in done.stdout, done.stdout

    rows = {
        r[0]: (json.loads(r[1]), r[2], r[3], r[4])
        for r in outbox.execute(
            "SELECT local_ref, payload, phone_last4, ticket_no, lookup_code FROM outbox"
        )
    }
    assert rows["LOCAL-20250101-AAAAAA"] == ({}, None, "JM2025-000001", None)  # old, delivered
    assert rows["LOCAL-20261201-BBBBBB"][3] == "JM2026-000002-7KQ2XM"
    assert rows["LOCAL-20261201-BBBBBB"][0]["complainant"]["name"] == "陈大文"  # recent
    assert rows["LOCAL-20250101-CCCCCC"][0]["complainant"]["name"] == "陈大文"  # never sent
    assert [r[0] for r in tracker.execute("SELECT sender_id FROM events")] == ["new"]
    with app.connect() as conn:
        review = conn.execute(text("SELECT question, sender_id FROM review_log")).all()
    assert sorted(review) == [("新问题", "new"), ("旧问题", None)]
    app.dispose()
