"""End to end: the real app (`yiwen serve`) answers from a new index after `yiwen ingest`,
without a restart, and says so in /healthz and /metrics.

Its own data dir and a two-document corpus in tmp_path, so the shared test index is
never touched; the poller runs every 0.2 s.
"""

from __future__ import annotations

import json
import os
import time
from pathlib import Path

import httpx
import pytest
from click.testing import CliRunner

from bench.common import start_app
from tests.app.test_metrics import _sample
from tests.netutil import free_port
from tests.retrieval.test_hot_swap import NEW_DOC, NEW_QUESTION, NEW_TITLE, OLD_DOC, OLD_TITLE

pytestmark = pytest.mark.slow


def _ingest(env: dict[str, str], monkeypatch: pytest.MonkeyPatch) -> None:
    from yiwen.cli import main

    with monkeypatch.context() as m:
        for key, value in env.items():
            m.setenv(key, value)
        result = CliRunner().invoke(main, ["ingest"], catch_exceptions=False)
    assert result.exit_code == 0, result.output


def test_app_answers_from_a_new_index_without_restart(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    docs = tmp_path / "docs"
    docs.mkdir()
    (docs / f"{OLD_TITLE}(2024-03-01).md").write_text(OLD_DOC, "utf-8")
    env = {
        "YIWEN_DATA_DIR": str(tmp_path / "data"),
        "YIWEN_CORPUS_DIRS": json.dumps([str(docs)]),
        "YIWEN_USE_FAQ": "false",
        "YIWEN_INDEX_POLL_SECONDS": "0.2",
    }
    _ingest(env, monkeypatch)
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    proc = start_app(port, env={k: v for k, v in os.environ.items() if k[:6] == "YIWEN_"} | env)
    try:
        before = httpx.get(f"{base}/healthz", timeout=10).json()["index"]
        assert before["version"] > 0 and before["last_swap_error"] is None
        first = httpx.post(f"{base}/api/ask", json={"question": NEW_QUESTION}, timeout=30).json()
        assert not any(NEW_TITLE in c for c in first["citations"])

        (docs / f"{NEW_TITLE}(2026-01-01).md").write_text(NEW_DOC, "utf-8")
        _ingest(env, monkeypatch)

        deadline = time.monotonic() + 30
        while True:
            body = httpx.post(f"{base}/api/ask", json={"question": NEW_QUESTION}, timeout=30)
            assert body.status_code == 200
            if f"《{NEW_TITLE}》第二条" in body.json()["citations"]:
                break
            assert time.monotonic() < deadline, body.json()
            time.sleep(0.2)
        assert "七十三元" in body.json()["answer"]
        after = httpx.get(f"{base}/healthz", timeout=10).json()["index"]
        assert after["version"] > before["version"] and after["swaps"] == 1

        scraped = httpx.get(f"{base}/metrics", timeout=10)
        assert scraped.status_code == 200
        assert _sample(scraped.text, "yiwen_index_version") == after["version"]
        assert _sample(scraped.text, "yiwen_index_swaps_total", outcome="ok") == 1
        assert _sample(scraped.text, "yiwen_questions_total", channel="api", outcome="answered")
        assert proc.poll() is None  # the same process all along
    finally:
        proc.terminate()
        proc.wait(timeout=30)
