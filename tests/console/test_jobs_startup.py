"""Starting the app on a data dir the console has never written to queues no build.

Why it matters: the job worker's staleness check once read "no export on disk" as
"stale", so every fresh app (each test's, each new deployment's) rebuilt the whole
index at start-up, took the cores for minutes and swapped the index under the
processes sharing the data dir.
"""

from __future__ import annotations

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from tests.console.conftest import Console
from tickets.models import KbJob


def test_fresh_data_dir_with_no_documents_is_current(console: Console) -> None:
    runner = console.client.app.state.console.runner
    assert runner.check_validity() is None
    export = runner.settings.console_export_dir / "documents.jsonl"
    assert not export.exists()
    with Session(console.engine) as session:
        assert session.scalar(select(func.count()).select_from(KbJob)) == 0
