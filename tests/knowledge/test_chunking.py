"""Structure-aware chunking: one citable unit per chunk, labels and headings from the text."""

from __future__ import annotations

import re
import tarfile
from pathlib import Path

import pytest

from knowledge.chunking import CHUNKER_VERSION, chunk_document, split_text
from knowledge.loaders import load_corpus
from knowledge.model import Document
from tests.knowledge.corpus_helpers import LAWREFBOOK_TAR, MEASURES, PROMOTION_ACT, REVIEW

SENTENCE_END = re.compile(r"[。;!?][”’」』)\]】]*$")
DIGITS = "零一二三四五六七八九"


def cn_number(n: int) -> str:
    """1 → 一, 13 → 十三, 39 → 三十九 (enough for article numbers below 100)."""
    tens, ones = divmod(n, 10)
    text = ("" if tens <= 1 else DIGITS[tens]) + ("十" if tens else "")
    return text + (DIGITS[ones] if ones else "")


def law_chunks(core_docs):
    return {d.doc_id: chunk_document(d) for d in core_docs.values() if d.kind == "law"}


# --------------------------------------------------------------------------- laws


def test_promotion_act_has_every_article_in_order(core_docs) -> None:
    chunks = chunk_document(core_docs[PROMOTION_ACT])
    assert [c.label for c in chunks] == [f"第{cn_number(n)}条" for n in range(1, 40)]
    art13 = chunks[12]
    assert art13.text.startswith("第十三条 ")
    assert "转型为企业" in art13.text
    assert art13.citation == "《促进个体工商户发展条例》第十三条"


def test_chapter_and_section_headings(core_docs) -> None:
    chunks = chunk_document(core_docs["电子商务法(2018-08-31)"])
    by_label = {c.label: c for c in chunks}
    assert by_label["第一条"].heading == "第一章 总则"
    assert by_label["第二十七条"].heading == "第二章 电子商务经营者 / 第二节 电子商务平台经营者"
    assert by_label["第八十九条"].heading.startswith("第七章")
    for chunk in chunks:
        assert chunk.heading.split(" / ")[-1] not in chunk.text.split("\n")[0]


def test_law_chunks_start_with_their_label_and_never_end_mid_sentence(core_docs) -> None:
    for doc_id, chunks in law_chunks(core_docs).items():
        assert chunks, doc_id
        for chunk in chunks:
            assert chunk.label, (doc_id, chunk.text[:30])
            if chunk.meta.get("part", 1) == 1:
                assert chunk.text.startswith(chunk.label + " "), (doc_id, chunk.label)
            assert SENTENCE_END.search(chunk.text), (doc_id, chunk.label, chunk.text[-20:])
            assert len(chunk.text) <= 480


@pytest.mark.parametrize("max_chars", [480, 150])
def test_split_articles_keep_their_label_and_lose_nothing(core_docs, max_chars: int) -> None:
    split_seen = 0
    for doc in core_docs.values():
        if doc.kind != "law":
            continue
        chunks = chunk_document(doc, max_chars=max_chars)
        articles = re.split(r"\n(?=第[一二三四五六七八九十百零]+条 )", doc.text)
        by_label: dict[str, list[str]] = {}
        for chunk in chunks:
            by_label.setdefault(chunk.label, []).append(chunk.text)
            assert len(chunk.text) <= max_chars
        for article in articles:
            label = article.split(" ", 1)[0]
            if not label.endswith("条"):
                continue
            article = re.split(r"\n#", article)[0]  # drop a following chapter heading
            parts = by_label[label]
            split_seen += len(parts) > 1
            assert "".join(parts).replace("\n", "") == article.replace("\n", "")
    assert split_seen > 0


def test_each_article_is_one_citable_chunk_unlike_fixed_windows(core_docs) -> None:
    """Every article is whole in exactly one chunk, and no chunk mixes two articles.

    The peer's 250-character windows with 50 overlap cut some articles and mix
    neighbouring articles in most windows, so a window has no single citation.
    """

    def windows(text: str) -> list[str]:
        return [text[i : i + 250] for i in range(0, max(len(text) - 50, 1), 200)]

    article_start = re.compile(r"(?:^|\n)第[一二三四五六七八九十百零]+条 ")
    whole_ours = whole_windows = total = 0
    mixed_windows = n_windows = 0
    for doc in core_docs.values():
        if doc.kind != "law":
            continue
        chunks = chunk_document(doc)
        fixed = windows(doc.text)
        for article in re.findall(r"^第[一二三四五六七八九十百零]+条 .*$", doc.text, re.M):
            if len(article) > 250:
                continue
            total += 1
            whole_ours += sum(article in c.text for c in chunks) == 1
            whole_windows += any(article in w for w in fixed)
        assert all(len(article_start.findall(c.text)) <= 1 for c in chunks)
        n_windows += len(fixed)
        mixed_windows += sum(len(article_start.findall(w)) >= 2 for w in fixed)
    assert whole_ours == total > whole_windows
    assert mixed_windows > n_windows / 2


# --------------------------------------------------------------------------- notices


def test_measures_notice(core_docs) -> None:
    chunks = chunk_document(core_docs[MEASURES])
    assert chunks[0].label == "序言" and chunks[0].text.startswith("为贯彻落实")
    measures = [c for c in chunks if c.label.endswith("项")]
    assert [c.label for c in measures] == [f"第{n}项" for n in range(1, 21)]
    sections = {
        "一、": range(1, 7),
        "二、": range(7, 11),
        "三、": range(11, 16),
        "四、": range(16, 21),
    }
    for prefix, numbers in sections.items():
        for n in numbers:
            chunk = measures[n - 1]
            assert chunk.heading.startswith(prefix), (n, chunk.heading)
            assert chunk.text.startswith(f"{n}.")
    assert measures[13].citation == f"《{MEASURES}》第14项"
    assert "个转企" in measures[13].text
    # The header (recipients, 印发 line, issuer, date) is metadata, never a chunk.
    for chunk in chunks:
        assert "现印发给你们" not in chunk.text
        assert "江门市局各科室" not in chunk.text
        assert chunk.date == "2023-04-04" and chunk.issuer == "江门市市场监督管理局"


def _doc(text: str, kind: str, doc_id: str = "样例") -> Document:
    return Document(doc_id=doc_id, title="样例文件", text=text, path=f"{doc_id}.txt", kind=kind)


def test_notice_item_units_lists_and_restarting_numbers() -> None:
    text = "\n".join(
        [
            "为做好相关工作,现提出如下意见。",
            "一、总体要求",
            "(一)坚持依法行政。各部门要严格依法办事,不得擅自增加条件。",
            "(二)坚持便民高效。推行网上办理,压缩办理时限。",
            "二、重点任务",
            "(一)下列事项实行告知承诺:",
            "1.个体工商户设立登记;",
            "2.个体工商户变更登记。",
            "(二)加强事中事后监管。对承诺不实的,依法撤销登记并记入信用记录。",
        ]
    )
    chunks = chunk_document(_doc(text, "notice"))
    assert [(c.label, c.heading) for c in chunks] == [
        ("序言", ""),
        ("一、(一)", "一、总体要求"),
        ("一、(二)", "一、总体要求"),
        ("二、(一)", "二、重点任务"),
        ("二、(二)", "二、重点任务"),
    ]
    assert "2.个体工商户变更登记。" in chunks[3].text  # the list stays with its lead-in


def test_notice_measure_numbers_that_restart_are_qualified() -> None:
    text = "\n".join(
        [
            "一、登记服务",
            "1.推行全程网办,实现登记业务不见面办理,压缩开办时间。",
            "2.推行证照联办,一次申请同时办理营业执照和许可证。",
            "二、监管执法",
            "1.推行综合查一次,减少对经营主体的重复检查和干扰。",
        ]
    )
    labels = [c.label for c in chunk_document(_doc(text, "notice"))]
    assert labels == ["一、第1项", "一、第2项", "二、第1项"]


def test_notice_one_line_entries_are_packed_together() -> None:
    text = "\n".join(
        [
            "一、受理范围",
            "1.买卖合同纠纷;",
            "2.服务合同纠纷;",
            "3.网络购物纠纷。",
            "二、不予受理的情形",
            "4.已经由人民法院受理、仲裁机构受理或者其他行政机关处理过的投诉。",
        ]
    )
    chunks = chunk_document(_doc(text, "notice"))
    assert [c.label for c in chunks] == ["第1至3项", "第4项"]
    assert chunks[0].text == "1.买卖合同纠纷;\n2.服务合同纠纷;\n3.网络购物纠纷。"


# --------------------------------------------------------------------------- free text


def test_news_review_paragraphs(core_docs) -> None:
    doc = core_docs[REVIEW]
    chunks = chunk_document(doc)
    numbers = [int(re.fullmatch(r"第(\d+)段", c.label).group(1)) for c in chunks]
    assert numbers == sorted(set(numbers))
    paragraphs = [line for line in doc.text.split("\n") if line]
    # The photo captions at the top are merged into the first real paragraph.
    first = chunks[0]
    assert first.text.split("\n")[0] == paragraphs[0]
    assert len(first.text.split("\n")) >= 5
    # Section letters and headlines are headings, not chunk text.
    assert chunks[0].heading == ""
    headed = [c for c in chunks if c.heading]
    assert headed and headed[0].heading.startswith("聚焦营商环境优化深化改革")
    assert any(c.heading.startswith("服务国家重大战略") for c in chunks)
    for chunk in chunks:
        assert chunk.text.split("\n")[0] not in {"A", "B", "C"}
        assert not chunk.text.startswith(chunk.heading.split(" ")[0] or "\0")
    # Labels are stable: the same paragraph gets the same number at any max_chars.
    small = chunk_document(doc, max_chars=120)
    assert {c.label for c in small} >= {c.label for c in chunks}


def test_free_text_short_paragraphs_merge_forward() -> None:
    long_a = "这是一段足够长的正文。" * 8
    long_b = "这是另一段足够长的正文。" * 8
    text = "\n".join(
        ["图片说明一。", "图片说明二。", long_a, "A", "第一节标题", long_b, "短结尾。"]
    )
    chunks = chunk_document(_doc(text, "text"))
    assert [(c.label, c.heading) for c in chunks] == [("第3段", ""), ("第4段", "第一节标题")]
    assert chunks[0].text.startswith("图片说明一。\n图片说明二。\n")
    assert chunks[1].text.endswith("短结尾。")


# --------------------------------------------------------------------------- invariants


def test_chunk_fields_are_copied_from_the_document(core_docs) -> None:
    for doc in core_docs.values():
        chunks = chunk_document(doc)
        assert [c.position for c in chunks] == list(range(len(chunks)))
        for chunk in chunks:
            assert chunk.chunk_id == f"{doc.doc_id}#{chunk.position}"
            assert (chunk.doc_id, chunk.title, chunk.kind) == (doc.doc_id, doc.title, doc.kind)
            assert (chunk.date, chunk.issuer) == (doc.date, doc.issuer)
            assert chunk.superseded_by == doc.superseded_by
            assert chunk.text and chunk.text == chunk.text.strip()
            assert chunk.to_dict()["chunk_id"] == chunk.chunk_id


def test_chunker_version_is_recorded() -> None:
    assert isinstance(CHUNKER_VERSION, str) and CHUNKER_VERSION


# --------------------------------------------------------------------------- splitting


def test_split_text_prefers_sentence_ends() -> None:
    text = "".join(f"第{n}句话讲一件事情。" for n in range(1, 41))
    parts = split_text(text, 100)
    assert "".join(parts) == text
    assert all(len(p) <= 100 and p.endswith("。") for p in parts)
    sizes = [len(p) for p in parts]
    assert max(sizes) - min(sizes) <= 20  # balanced, no tiny tail


def test_split_text_long_sentence_cuts_at_commas_then_hard() -> None:
    sentence = ",".join("条件" * 10 for _ in range(12)) + "。"
    parts = split_text(sentence, 100)
    assert "".join(parts) == sentence
    assert all(len(p) <= 100 for p in parts)
    assert all(p.endswith((",", "。")) for p in parts)
    no_commas = "字" * 250
    assert [len(p) for p in split_text(no_commas, 100)] == [100, 100, 50]


def test_split_text_short_and_empty() -> None:
    assert split_text("第一条 短。", 480) == ["第一条 短。"]
    assert split_text("  ", 480) == []


# --------------------------------------------------------------------------- scale robustness


def test_lawrefbook_sample_chunks_cleanly(tmp_path: Path) -> None:
    """Every 40th file of the 3,502-file LawRefBook set: no crash, sane chunks."""
    if not LAWREFBOOK_TAR.is_file():
        pytest.skip(f"共享语料不存在：{LAWREFBOOK_TAR}")
    with tarfile.open(LAWREFBOOK_TAR, "r:xz") as tar:
        members = [m for m in tar if m.isfile() and m.name.endswith(".md")][::40]
        for n, member in enumerate(members):
            data = tar.extractfile(member)
            assert data is not None
            (tmp_path / f"{n:03d}_{Path(member.name).name}").write_bytes(data.read())
    docs, errors = load_corpus([tmp_path])
    assert len(docs) + len(errors) == len(members)
    assert len(docs) >= len(members) * 0.9
    kinds = set()
    for doc in docs:
        chunks = chunk_document(doc)
        kinds.add(doc.kind)
        assert chunks, doc.doc_id
        assert len({c.chunk_id for c in chunks}) == len(chunks)
        assert all(0 < len(c.text) <= 480 for c in chunks)
        if doc.kind == "law":
            assert any(c.label.endswith("条") for c in chunks)
    assert "law" in kinds
