"""Tests for the curated FAQ: the shipped YAML, its citations, and the loader's error messages."""

from __future__ import annotations

import json
import re
import textwrap
import unicodedata
from pathlib import Path

import pytest

from knowledge.faq import (
    DEFAULT_FAQ_DIR,
    FaqEntry,
    FaqError,
    doc_title,
    faq_to_chunks,
    load_faq,
)

SHARED = Path(__file__).resolve().parents[2] / ".." / "shared"
CORE = SHARED / "corpus" / "core"
DEV = SHARED / "eval" / "dev.jsonl"
COPY_WINDOW = 20  # an answer may not share this many consecutive characters with its source

ARTICLE = re.compile(r"^第[零〇一二三四五六七八九十百千]+条$")
MEASURE = re.compile(r"^第(\d+)项$")
PARAGRAPH = re.compile(r"^第(\d+)段$")
STEM_DATE = re.compile(r"\((\d{4}-\d{2}-\d{2})\)$")


# ---------------------------------------------------------------- helpers


@pytest.fixture(scope="module")
def shipped() -> list[FaqEntry]:
    return load_faq(DEFAULT_FAQ_DIR)


@pytest.fixture(scope="module")
def corpus() -> dict[str, str]:
    if not CORE.is_dir():
        pytest.skip(f"共享语料不存在：{CORE}（该检查需要 <repo>/../shared）")
    return {path.stem: path.read_text(encoding="utf-8") for path in CORE.iterdir()}


def clause_in_document(clause: str, text: str) -> bool:
    """Does the cited label exist in the document text?

    第X条: a line (after optional markdown heading marks) starting with that label
    followed by a space; 第N项: a line starting with ``N.`` or ``N、`` (notice
    measures); 第N段: the document has at least N non-empty lines.
    """
    lines = [line.strip() for line in text.splitlines()]
    if ARTICLE.match(clause):
        pattern = re.compile(rf"^(?:#+\s*)?{re.escape(clause)}[\s\u3000]")
        return any(pattern.match(line) for line in lines)
    if match := MEASURE.match(clause):
        pattern = re.compile(rf"^{match.group(1)}[.、．]")
        return any(pattern.match(line) for line in lines)
    if match := PARAGRAPH.match(clause):
        return sum(1 for line in lines if line) >= int(match.group(1))
    return False


def squash(text: str) -> str:
    """NFKC and no whitespace, so full-width punctuation or line breaks cannot hide copying."""
    return "".join(unicodedata.normalize("NFKC", text).split())


def copied_window(answer: str, sources: list[str]) -> str | None:
    """The first COPY_WINDOW-character run of ``answer`` found verbatim in a source, if any."""
    flat_answer = squash(answer)
    flat_sources = [squash(source) for source in sources]
    for start in range(len(flat_answer) - COPY_WINDOW + 1):
        window = flat_answer[start : start + COPY_WINDOW]
        if any(window in source for source in flat_sources):
            return window
    return None


def write(directory: Path, name: str, body: str) -> Path:
    path = directory / name
    path.write_text(textwrap.dedent(body).lstrip(), encoding="utf-8")
    return path


GOOD_ENTRY = """
  - id: {id}
    questions: [问法一, 问法二, 问法三]
    answer: 这是一个自己写的答案。
    sources:
      - doc: 促进个体工商户发展条例(2022-10-01)
        clause: 第十三条
    date: 2022-10-01
"""


def faq_file(*entries: str, topic: str = "测试") -> str:
    return f"version: 1\ntopic: {topic}\nentries:\n" + "".join(entries)


# ---------------------------------------------------------------- the shipped FAQ


def test_shipped_faq_loads_with_enough_distinct_entries(shipped: list[FaqEntry]) -> None:
    assert len(shipped) >= 40
    ids = [entry.id for entry in shipped]
    assert len(ids) == len(set(ids))
    for entry in shipped:
        assert len(entry.questions) >= 3, entry.id
        assert len(set(entry.questions)) == len(entry.questions), entry.id


def test_shipped_answers_are_plain_short_chinese(shipped: list[FaqEntry]) -> None:
    for entry in shipped:
        assert 0 < len(entry.answer) <= 400, entry.id
        assert not re.search(r"[*#`|]|\]\(|^\s*[-+]\s", entry.answer), f"{entry.id} 含 markdown"
        assert re.search(r"[\u4e00-\u9fff]", entry.answer), entry.id
        sentences = [s for s in re.split(r"[。！？]", entry.answer) if s.strip()]
        assert 1 <= len(sentences) <= 6, f"{entry.id}: {len(sentences)} 句"


def test_every_clause_uses_a_known_label_form(shipped: list[FaqEntry]) -> None:
    forms = (ARTICLE, MEASURE, PARAGRAPH)
    for entry in shipped:
        for source in entry.sources:
            assert any(form.match(source.clause) for form in forms), (entry.id, source.clause)


def test_every_source_document_and_clause_exists(
    shipped: list[FaqEntry], corpus: dict[str, str]
) -> None:
    missing = [
        (entry.id, source.doc, source.clause)
        for entry in shipped
        for source in entry.sources
        if source.doc not in corpus or not clause_in_document(source.clause, corpus[source.doc])
    ]
    assert not missing, missing


def test_entry_date_matches_primary_source(shipped: list[FaqEntry], corpus: dict[str, str]) -> None:
    for entry in shipped:
        doc = entry.primary.doc
        if match := STEM_DATE.search(doc):
            assert entry.date is not None, entry.id
            assert entry.date.isoformat() == match.group(1), entry.id
        elif entry.date is not None:
            written = f"{entry.date.year}年{entry.date.month}月{entry.date.day}日"
            assert written in corpus[doc], f"{entry.id}: {written} 不在 {doc} 中"


def test_answers_are_not_copied_from_their_sources(
    shipped: list[FaqEntry], corpus: dict[str, str]
) -> None:
    copied = []
    for entry in shipped:
        sources = [corpus[s.doc] for s in entry.sources if s.doc in corpus]
        if window := copied_window(entry.answer, sources):
            copied.append((entry.id, window))
    assert not copied, copied


def test_copy_check_sees_through_punctuation_width_and_line_breaks() -> None:
    source = "第一条 本店商品售出后，\n顾客凭小票（原件）七日内可以调换；食品除外。"
    pasted = "本店商品售出后,顾客凭小票(原件)七日内可以调换"
    assert copied_window(pasted, [source]) is not None
    assert copied_window("买了东西一周内拿着小票能换货，吃的不行。", [source]) is None


@pytest.mark.parametrize(
    ("clause", "found"),
    [
        ("第十三条", True),
        ("第十四条", True),
        ("第三条", False),  # only a reference inside a sentence, not a heading line
        ("第十条", False),  # must not match 第十一条 ... by prefix
        ("第2项", True),
        ("第12项", False),
        ("第5段", True),
        ("第9段", False),
        ("第十三款", False),
    ],
)
def test_clause_check_only_accepts_real_labels(clause: str, found: bool) -> None:
    text = "\n".join(
        [
            "## 第十三条 示例条文。",
            "",
            "第十四条　全角空格分隔的条文，见第三条规定。",
            "第十一条 另一条。",
            "1.第一项措施。",
            "2、第二项措施。",
            "第六行",
        ]
    )
    assert clause_in_document(clause, text) is found


def _repealed_core_documents() -> set[str]:
    from knowledge.loaders import load_corpus
    from knowledge.superseded import mark_superseded
    from tests.conftest import CORE

    docs, _ = load_corpus([CORE])
    return {d.doc_id for d in mark_superseded(docs) if d.superseded_by}


def test_dev_questions_have_a_matching_faq_entry(shipped: list[FaqEntry]) -> None:
    """Each answerable dev question whose gold document the FAQ cites gets an entry.

    The entry must cite a gold document as its primary source and, unless a gold
    string is so long that quoting it would break the no-copy rule, contain the
    gold strings so that an FAQ hit counts in ``yiwen eval``.
    """
    if not DEV.is_file():
        pytest.skip(f"评测集不存在：{DEV}")
    items = [json.loads(line) for line in DEV.read_text(encoding="utf-8").splitlines() if line]
    cited = {source.doc for entry in shipped for source in entry.sources}
    # A repealed gold document is not the primary source of any entry on purpose: the
    # entry cites the law in force (《农民专业合作社登记管理条例》 was repealed by
    # 《市场主体登记管理条例》第五十五条; knowledge/superseded.py detects it).
    cited -= _repealed_core_documents()
    all_questions = {squash(q).rstrip("?？") for entry in shipped for q in entry.questions}
    uncovered = []
    for item in items:
        assert squash(item["question"]).rstrip("?？") not in all_questions, item["id"]
        gold = [g for g in item["gold"] if g["doc"] in cited]
        if not item["answerable"] or not gold:
            continue
        ok = False
        for entry in shipped:
            for g in gold:
                if entry.primary.doc != g["doc"]:
                    continue
                quotable = all(len(s) < COPY_WINDOW for s in g["contains"])
                if not quotable or all(s in entry.answer for s in g["contains"]):
                    ok = True
        if not ok:
            uncovered.append(item["id"])
    assert not uncovered, uncovered


def test_shipped_faq_becomes_one_chunk_per_entry(shipped: list[FaqEntry]) -> None:
    chunks = faq_to_chunks(shipped)
    assert len(chunks) == len(shipped)
    assert len({c.chunk_id for c in chunks}) == len(chunks)
    for chunk, entry in zip(chunks, shipped, strict=True):
        assert chunk.kind == "faq"
        assert chunk.source_doc == entry.primary.doc
        assert chunk.citation == f"《{doc_title(entry.primary.doc)}》{entry.primary.clause}"


# ---------------------------------------------------------------- loader behaviour


def test_chunk_fields_follow_the_primary_source(tmp_path: Path) -> None:
    write(
        tmp_path,
        "a.yml",
        faq_file(
            """
  - id: gzq-demo
    topic: 个转企
    questions: [个转企有补贴吗, 个专企补多少, 個轉企有冇錢]
    answer: 符合条件的每户一次性资助1万元。
    sources:
      - doc: 促进个体工商户发展条例(2022-10-01)
        clause: 第十三条
      - doc: 江门市市场监督管理局推进百县千镇万村高质量发展工程的若干措施
        clause: 第14项
    date: 2022-10-01
"""
        ),
    )
    (chunk,) = faq_to_chunks(load_faq(tmp_path))
    assert chunk.chunk_id == "faq:gzq-demo"
    assert chunk.doc_id == "faq:gzq-demo"
    assert chunk.title == "促进个体工商户发展条例"
    assert chunk.label == "第十三条"
    assert chunk.text == "符合条件的每户一次性资助1万元。"
    assert chunk.date == "2022-10-01"
    assert chunk.source_doc == "促进个体工商户发展条例(2022-10-01)"
    assert chunk.meta == {
        "questions": ["个转企有补贴吗", "个专企补多少", "個轉企有冇錢"],
        "topic": "个转企",
        "sources": [
            {"doc": "促进个体工商户发展条例(2022-10-01)", "clause": "第十三条"},
            {
                "doc": "江门市市场监督管理局推进百县千镇万村高质量发展工程的若干措施",
                "clause": "第14项",
            },
        ],
    }
    assert chunk.to_dict()["meta"]["topic"] == "个转企"


def test_file_topic_is_the_default_and_null_date_is_allowed(tmp_path: Path) -> None:
    write(
        tmp_path,
        "t.yml",
        faq_file(
            GOOD_ENTRY.format(id="one"),
            """
  - id: two
    topic: 覆盖
    questions: [甲, 乙, 丙]
    answer: 答案。
    sources: [{doc: 江门市市场监督管理局服务高质量发展工作综述, clause: 第16段}]
    date: null
""",
            topic="默认",
        ),
    )
    one, two = load_faq(tmp_path)
    assert (one.topic, two.topic) == ("默认", "覆盖")
    assert two.date is None
    assert faq_to_chunks([two])[0].date is None
    assert one.file == "t.yml"


def test_folded_answer_lines_join_without_stray_spaces(tmp_path: Path) -> None:
    entry = GOOD_ENTRY.format(id="folded").replace(
        "    answer: 这是一个自己写的答案。\n",
        "    answer: >-\n      第一句话。\n      第二句提到 ODR 企业，\n      第三句。\n",
    )
    write(tmp_path, "f.yml", faq_file(entry))
    (loaded,) = load_faq(tmp_path)
    assert loaded.answer == "第一句话。第二句提到 ODR 企业，第三句。"


def test_files_are_read_in_sorted_order(tmp_path: Path) -> None:
    write(tmp_path, "b.yml", faq_file(GOOD_ENTRY.format(id="from-b")))
    write(tmp_path, "a.yml", faq_file(GOOD_ENTRY.format(id="from-a")))
    (tmp_path / "notes.txt").write_text("not yaml: [", encoding="utf-8")
    assert [e.id for e in load_faq(tmp_path)] == ["from-a", "from-b"]


def test_empty_directory_gives_no_entries_and_missing_directory_fails(tmp_path: Path) -> None:
    assert load_faq(tmp_path) == []
    with pytest.raises(FaqError, match="FAQ 目录不存在"):
        load_faq(tmp_path / "nope")


@pytest.mark.parametrize(
    ("entry", "expected"),
    [
        pytest.param(
            GOOD_ENTRY.format(id="no-sources").replace(
                "    sources:\n      - doc: 促进个体工商户发展条例(2022-10-01)\n"
                "        clause: 第十三条\n",
                "",
            ),
            "FAQ 文件 bad.yml 第 2 条（id=no-sources）：缺少字段 sources",
            id="missing-field",
        ),
        pytest.param(
            GOOD_ENTRY.format(id="no-q").replace("[问法一, 问法二, 问法三]", "[]"),
            "FAQ 文件 bad.yml 第 2 条（id=no-q）：字段 questions 至少需要 3 个问法",
            id="empty-questions",
        ),
        pytest.param(
            GOOD_ENTRY.format(id="two-q").replace("[问法一, 问法二, 问法三]", "[问法一, 问法二]"),
            "第 2 条（id=two-q）：字段 questions 至少需要 3 个问法",
            id="too-few-questions",
        ),
        pytest.param(
            GOOD_ENTRY.format(id="blank-q").replace("问法二", "''"),
            "第 2 条（id=blank-q）：字段 questions 第 2 项 不能为空",
            id="blank-question",
        ),
        pytest.param(
            GOOD_ENTRY.format(id="bad-month").replace("2022-10-01\n", "2022-13-01\n"),
            "第 2 条（id=bad-month）：字段 date 不是有效日期",
            id="impossible-date",
        ),
        pytest.param(
            GOOD_ENTRY.format(id="slash-date").replace("date: 2022-10-01", "date: 2022/10/01"),
            "第 2 条（id=slash-date）：字段 date 不是有效日期",
            id="wrong-date-format",
        ),
        pytest.param(
            GOOD_ENTRY.format(id="Bad_ID"),
            "FAQ 文件 bad.yml 第 2 条（id=Bad_ID）：字段 id 格式不对",
            id="bad-id",
        ),
        pytest.param(
            GOOD_ENTRY.format(id="no-clause").replace("        clause: 第十三条\n", ""),
            "第 2 条（id=no-clause）：缺少字段 sources 第 1 项的 clause",
            id="missing-nested-field",
        ),
        pytest.param(
            GOOD_ENTRY.format(id="typo").replace("    answer:", "    anwser:"),
            "第 2 条（id=typo）：未知字段 anwser",
            id="misspelt-key",
        ),
        pytest.param(
            GOOD_ENTRY.format(id="long").replace("这是一个自己写的答案。", "很长" * 201),
            "第 2 条（id=long）：字段 answer 超过 400 字",
            id="answer-too-long",
        ),
    ],
)
def test_malformed_entry_names_file_entry_and_field(
    tmp_path: Path, entry: str, expected: str
) -> None:
    write(tmp_path, "bad.yml", faq_file(GOOD_ENTRY.format(id="fine"), entry))
    with pytest.raises(FaqError) as caught:
        load_faq(tmp_path)
    assert expected in str(caught.value)
    assert all(p.startswith("FAQ 文件 bad.yml") for p in caught.value.problems)


def test_entry_without_id_is_named_by_its_index(tmp_path: Path) -> None:
    write(
        tmp_path, "x.yml", faq_file(GOOD_ENTRY.format(id="fine").replace("  - id: fine\n", "  -\n"))
    )
    with pytest.raises(FaqError) as caught:
        load_faq(tmp_path)
    assert "FAQ 文件 x.yml 第 1 条：缺少字段 id" in str(caught.value)


def test_missing_topic_without_file_default_is_an_error(tmp_path: Path) -> None:
    body = faq_file(GOOD_ENTRY.format(id="orphan")).replace("topic: 测试\n", "")
    write(tmp_path, "x.yml", body)
    with pytest.raises(FaqError, match=r"第 1 条（id=orphan）：缺少字段 topic"):
        load_faq(tmp_path)


def test_yaml_syntax_error_names_file_and_line(tmp_path: Path) -> None:
    write(
        tmp_path,
        "broken.yml",
        """
        version: 1
        topic: 测试
        entries:
          - id: a
            questions: [一, 二, 三
            answer: 缺了右括号
        """,
    )
    with pytest.raises(FaqError) as caught:
        load_faq(tmp_path)
    message = str(caught.value)
    assert message.startswith("FAQ 文件 broken.yml 第 ")
    assert "YAML 语法错误" in message
    line = int(re.search(r"第 (\d+) 行", message).group(1))  # type: ignore[union-attr]
    assert 5 <= line <= 7  # the unclosed list starts on line 5; PyYAML reports where it gives up


def test_duplicate_key_in_an_entry_is_reported(tmp_path: Path) -> None:
    entry = GOOD_ENTRY.format(id="twice").replace(
        "    date: 2022-10-01", "    date: 2022-10-01\n    answer: 第二个答案"
    )
    write(tmp_path, "dup.yml", faq_file(entry))
    with pytest.raises(FaqError) as caught:
        load_faq(tmp_path)
    assert re.fullmatch(
        r"FAQ 文件 dup\.yml 第 \d+ 行：键 answer 重复出现，请只保留一个", str(caught.value)
    )


def test_duplicate_id_across_files_names_both_places(tmp_path: Path) -> None:
    write(tmp_path, "a.yml", faq_file(GOOD_ENTRY.format(id="same")))
    write(tmp_path, "b.yml", faq_file(GOOD_ENTRY.format(id="other"), GOOD_ENTRY.format(id="same")))
    with pytest.raises(FaqError) as caught:
        load_faq(tmp_path)
    assert "FAQ 文件 b.yml 第 2 条（id=same）：id 重复，已在 a.yml 第 1 条使用" in str(caught.value)


def test_all_problems_are_reported_together(tmp_path: Path) -> None:
    write(tmp_path, "a.yml", "version: 2\ntopic: x\nentries: []\n")
    write(tmp_path, "b.yml", faq_file(GOOD_ENTRY.format(id="ok").replace("2022-10-01\n", "soon\n")))
    with pytest.raises(FaqError) as caught:
        load_faq(tmp_path)
    problems = caught.value.problems
    assert any(p.startswith("FAQ 文件 a.yml：字段 version 应为 1") for p in problems)
    assert any(p.startswith("FAQ 文件 a.yml：字段 entries") for p in problems)
    assert any(p.startswith("FAQ 文件 b.yml 第 1 条（id=ok）：字段 date") for p in problems)


def test_faq_error_is_a_value_error() -> None:
    assert issubclass(FaqError, ValueError)


@pytest.mark.parametrize(
    ("stem", "title"),
    [
        ("促进个体工商户发展条例(2022-10-01)", "促进个体工商户发展条例"),
        ("市场主体登记管理条例（2021-07-27）", "市场主体登记管理条例"),
        ("江门市市场监督管理局服务高质量发展工作综述",) * 2,
        ("价格法(1997-12-29)", "价格法"),
    ],
)
def test_doc_title_drops_a_trailing_date(stem: str, title: str) -> None:
    assert doc_title(stem) == title
