"""`yiwen eval` follows the evaluation contract (DESIGN.md) and scores correctly."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import CORE, REPO
from yiwen.evaluation import hit_matches, score


def test_hit_matching_and_metrics() -> None:
    rows = [
        {"id": "a", "answerable": True, "gold": [{"doc": "d1", "contains": ["1万元"]}]},
        {"id": "b", "answerable": True, "gold": [{"doc": "d2", "contains": []}]},
        {"id": "c", "answerable": False, "gold": []},
    ]
    results = [
        {"hits": [{"doc": "d1", "text": "资助1万元"}], "abstained": False, "latency_ms": 10},
        {
            "hits": [{"doc": "x", "text": ""}, {"doc": "d2", "text": "t"}],
            "abstained": True,
            "latency_ms": 30,
        },
        {"hits": [], "abstained": True, "latency_ms": 20},
    ]
    assert hit_matches(results[0]["hits"][0], rows[0]["gold"])
    assert not hit_matches({"doc": "d1", "text": "资助"}, rows[0]["gold"])
    m = score(rows, results)
    assert m["hit@1"] == 0.5 and m["recall@5"] == 1.0 and m["mrr@10"] == 0.75
    assert m["abstention_oos"] == 1.0 and m["false_abstention"] == 0.5


@pytest.mark.slow
def test_eval_cli_writes_contract_lines(core_engine, tmp_path: Path) -> None:
    questions = tmp_path / "q.jsonl"
    rows = [
        {
            "id": "q1",
            "question": "个转企有什么补贴",
            "answerable": True,
            "gold": [
                {
                    "doc": "江门市市场监督管理局推进百县千镇万村高质量发展工程的若干措施",
                    "contains": ["1万元"],
                }
            ],
        },
        {"id": "q2", "question": "明天广州天气怎么样", "answerable": False, "gold": []},
    ]
    questions.write_text("\n".join(json.dumps(r, ensure_ascii=False) for r in rows), "utf-8")
    out = tmp_path / "r.jsonl"
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "yiwen.cli",
            "eval",
            "--questions",
            str(questions),
            "--corpus",
            str(CORE),
            "--out",
            str(out),
        ],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=900,
    )
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert "hit@1" in proc.stdout
    lines = [json.loads(x) for x in out.read_text("utf-8").splitlines()]
    assert [x["id"] for x in lines] == ["q1", "q2"]
    for x in lines:
        assert set(x) == {"id", "answer", "abstained", "hits", "latency_ms", "question_type"}
        for h in x["hits"]:
            assert set(h) == {"doc", "text", "score", "citation"}
    assert not lines[0]["abstained"] and lines[1]["abstained"]
    assert any(hit_matches(h, rows[0]["gold"]) for h in lines[0]["hits"][:5])
