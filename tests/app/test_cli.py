"""The `yiwen` command line, run as a real subprocess."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import REPO


def _yiwen(*args: str, env: dict[str, str] | None = None, timeout: int = 900):
    return subprocess.run(
        [sys.executable, "-m", "yiwen.cli", *args],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=timeout,
        env={**os.environ, **(env or {})},
    )


def test_ingest_reports_bad_files_and_keeps_going(tmp_path: Path) -> None:
    docs = tmp_path / "docs"
    docs.mkdir()
    (docs / "示例办法(2024-05-01).md").write_text(
        "# 示例办法\n\n第一条 经营者应当明码标价。\n\n第二条 消费者可以投诉。\n",
        "utf-8",
    )
    (docs / "空文件.txt").write_text("", "utf-8")
    (docs / "坏的.pdf").write_bytes(b"%PDF-1.4 not really a pdf")
    (docs / "表格.xls").write_bytes(b"\x00\x01")  # unsupported type: reported, not fatal
    env = {"YIWEN_DATA_DIR": str(tmp_path / "data"), "YIWEN_USE_FAQ": "false"}
    proc = _yiwen("ingest", str(docs), env=env)
    assert proc.returncode == 0, proc.stderr[-3000:]
    out = proc.stdout + proc.stderr
    assert "空文件.txt" in out and "坏的.pdf" in out and "表格.xls" in out
    assert "1 个文档" in proc.stdout and "2 个片段" in proc.stdout
    assert "失败 3 个文件" in proc.stdout
    assert "向量化" in proc.stderr  # the progress bar

    again = _yiwen("ingest", str(docs), env=env)
    assert again.returncode == 0 and "已加载" in again.stdout


def test_ingest_without_any_document_fails_clearly(tmp_path: Path) -> None:
    (tmp_path / "empty").mkdir()
    proc = _yiwen(
        "ingest",
        str(tmp_path / "empty"),
        env={"YIWEN_DATA_DIR": str(tmp_path / "data"), "YIWEN_USE_FAQ": "false"},
    )
    assert proc.returncode != 0
    assert "没有可索引的内容" in proc.stdout + proc.stderr


@pytest.mark.slow
def test_ask_json(core_engine) -> None:
    proc = _yiwen("ask", "--json", "农民专业合作社至少要有几个成员？")
    assert proc.returncode == 0, proc.stderr[-3000:]
    data = json.loads(proc.stdout)
    assert data["abstained"] is False and data["citations"]
    assert data["hits"] and {"doc", "text", "score", "citation"} <= set(data["hits"][0])


def test_ask_rejects_blank_question() -> None:
    proc = _yiwen("ask", "   ")
    assert proc.returncode != 0 and "不能为空" in proc.stderr
