"""The NCP reader both training experiments share (bench/ncp.py)."""

from __future__ import annotations

from pathlib import Path

from bench.finetune_encoder import _passage, batches
from bench.ncp import as_sentence, read_rows, spans_by_doc


def _tsv(tmp_path: Path, rows: list[str]) -> Path:
    path = tmp_path / "ncp.csv"
    path.write_text("id\tdocid\tquestion\tanswer\n" + "\n".join(rows) + "\n", encoding="utf-8")
    return path


def test_bare_quotes_survive_and_short_rows_are_skipped(tmp_path: Path) -> None:
    path = _tsv(
        tmp_path,
        [
            '1\td1\t 什么是"三包"？ \t"三包"指包修、包换、包退',
            "2\td1\t缺一列",
            "3\td2\t谁来办？\t区市场监管局",
        ],
    )
    assert read_rows(path) == [
        ("1", "d1", '什么是"三包"？', '"三包"指包修、包换、包退'),
        ("3", "d2", "谁来办？", "区市场监管局"),
    ]


def test_spans_are_distinct_non_empty_and_in_file_order() -> None:
    # A document whose only row has no answer has nothing to rebuild: it is left out.
    rows = [
        ("1", "d1", "q1", "乙"),
        ("2", "d1", "q2", "甲"),
        ("3", "d1", "q3", "乙"),
        ("4", "d2", "q4", ""),
    ]
    assert spans_by_doc(rows) == {"d1": ["乙", "甲"]}


def test_a_span_is_closed_as_a_sentence_once() -> None:
    assert as_sentence("须持营业执照") == "须持营业执照。"
    assert as_sentence("须持营业执照？") == "须持营业执照？"


def test_a_positive_passage_grows_around_its_span_and_stays_bounded() -> None:
    spans = ["第一句" * 30, "答案在此", "第三句" * 30]
    text = _passage(spans, 1)
    assert "答案在此。" in text
    assert text.startswith("第一句") and text.endswith("第三句。")
    assert len(_passage(["长" * 1000], 0)) <= 480


def test_no_batch_holds_two_questions_of_one_document() -> None:
    items = [(f"d{i % 5}", f"q{i}", f"p{i % 5}") for i in range(40)]
    plan = batches(items, size=4, seed=1)
    used = [i for b in plan for i in b]
    # Each question once; only a last one without a partner from another document is left.
    assert len(used) == len(set(used)) >= 39
    for batch in plan:
        docs = [items[i][0] for i in batch]
        assert len(docs) == len(set(docs))
