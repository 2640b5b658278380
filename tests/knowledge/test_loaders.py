"""Loaders: real core files, and generated broken files that must fail with a clear fix."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from knowledge.loaders import SUPPORTED, LoadError, load_corpus, load_document
from tests.knowledge.corpus_helpers import MEASURES, OLD_ACT, PROMOTION_ACT, REVIEW, make_pdf

LAW_TEXT = "第一条 为了规范个体工商户登记,制定本办法。\n第二条 个体工商户可以申请转型为企业。"


# --------------------------------------------------------------------------- real corpus


def test_core_corpus_loads_without_errors(core_dir: Path, core_docs) -> None:
    files = sorted(p for p in core_dir.iterdir() if p.suffix in SUPPORTED)
    assert sorted(core_docs) == sorted(p.stem for p in files)
    for doc in core_docs.values():
        assert doc.text.strip()
        assert "INFO END" not in doc.text
        assert not doc.text.startswith("# ")
        assert "，" not in doc.text and "（" not in doc.text  # normalised
        assert doc.meta["format"] in {"md", "txt"}


def test_markdown_law_metadata(core_docs) -> None:
    act = core_docs[PROMOTION_ACT]
    assert (act.title, act.kind, act.date) == ("促进个体工商户发展条例", "law", "2022-10-01")
    assert act.text.startswith("第一条 ")

    quality = core_docs["产品质量法(2018-12-29)"]
    assert quality.title == "中华人民共和国产品质量法"
    assert quality.issuer == "全国人民代表大会常务委员会"
    assert quality.meta["header"]  # the 通过/修正 lines are kept as metadata
    assert "第一次修正" not in quality.text

    old = core_docs[OLD_ACT]
    assert old.issuer == "国务院"
    assert old.date == "2016-02-06"  # the file stem's date wins over header dates

    optimise = core_docs["优化营商环境条例(2019-10-22)"]
    assert optimise.meta["effective"] == "2020-01-01"


def test_notice_header_is_metadata(core_docs) -> None:
    notice = core_docs[MEASURES]
    assert notice.kind == "notice"
    assert notice.title == MEASURES
    assert notice.date == "2023-04-04"
    assert notice.issuer == "江门市市场监督管理局"
    assert notice.meta["recipients"].startswith("各县(市、区)市场监管局")
    assert "印发" in notice.meta["issue_note"]
    first_line = notice.text.split("\n")[0]
    assert first_line.startswith("为贯彻落实")
    assert "现印发给你们" not in notice.text
    assert "2023年4月4日" not in notice.text


def test_free_text_document(core_docs) -> None:
    review = core_docs[REVIEW]
    assert review.kind == "text"
    assert review.title == REVIEW
    assert review.date is None


# --------------------------------------------------------------------------- encodings


def test_gb18030_text_file(tmp_path: Path) -> None:
    path = tmp_path / "个体工商户登记办法(2020-05-01).txt"
    path.write_bytes(("个体工商户登记办法\n" + LAW_TEXT).encode("gb18030"))
    doc = load_document(path)
    assert doc.doc_id == "个体工商户登记办法(2020-05-01)"
    assert doc.title == "个体工商户登记办法"
    assert doc.date == "2020-05-01"
    assert doc.kind == "law"
    assert "个体工商户可以申请转型为企业。" in doc.text


def test_plain_text_law_with_title_and_history_lines(tmp_path: Path) -> None:
    path = tmp_path / "某某法.txt"
    lines = [
        "中华人民共和国某某法",
        "2010年1月1日 第十一届全国人民代表大会常务委员会第十次会议通过",
        "2018年12月29日 第十三届全国人民代表大会常务委员会第七次会议修正",
        "第一章 总则",
        LAW_TEXT,
    ]
    path.write_text("\n".join(lines), encoding="utf-8")
    doc = load_document(path)
    assert doc.title == "中华人民共和国某某法"
    assert doc.date == "2018-12-29"
    assert doc.issuer == "全国人民代表大会常务委员会"
    assert doc.text.startswith("第一章 总则\n第一条")


def test_utf8_bom_and_crlf(tmp_path: Path) -> None:
    path = tmp_path / "办法.txt"
    path.write_bytes(b"\xef\xbb\xbf" + LAW_TEXT.replace("\n", "\r\n").encode("utf-8"))
    doc = load_document(path)
    assert doc.text == LAW_TEXT


def test_traditional_text_is_converted(tmp_path: Path) -> None:
    path = tmp_path / "說明.txt"
    path.write_text("個體工商戶可以申請轉型為企業。", encoding="utf-8")
    assert load_document(path).text == "个体工商户可以申请转型为企业。"


def test_undecodable_bytes(tmp_path: Path) -> None:
    path = tmp_path / "乱码.txt"
    path.write_bytes(b"abc\x80\xff\x81 def")
    with pytest.raises(LoadError) as err:
        load_document(path)
    assert err.value.reason == "encoding"
    assert "无法识别文件编码" in err.value.message and "UTF-8" in err.value.message


@pytest.mark.parametrize("content", [b"", b"  \n\t\r\n  ", "\u3000\n".encode()])
def test_empty_and_whitespace_files(tmp_path: Path, content: bytes) -> None:
    path = tmp_path / "空.txt"
    path.write_bytes(content)
    with pytest.raises(LoadError) as err:
        load_document(path)
    assert err.value.reason == "empty"
    assert err.value.message == f"文件为空：{path}。请检查文件内容后重新导入。"
    assert err.value.path == path


def test_markdown_with_header_only(tmp_path: Path) -> None:
    path = tmp_path / "只有标题.md"
    path.write_text("# 某条例\n\n2020年1月1日 通过\n\n<!--  INFO  END  -->\n", encoding="utf-8")
    with pytest.raises(LoadError) as err:
        load_document(path)
    assert err.value.reason == "no_body"


# --------------------------------------------------------------------------- pdf


def test_pdf_with_chinese_text(tmp_path: Path) -> None:
    path = tmp_path / "登记办法.pdf"
    path.write_bytes(make_pdf(LAW_TEXT.split("\n")))
    doc = load_document(path)
    assert doc.kind == "law"
    assert doc.meta["format"] == "pdf"
    assert "第二条 个体工商户可以申请转型为企业。" in doc.text


def test_pdf_layout_lines_are_rejoined(tmp_path: Path) -> None:
    path = tmp_path / "折行.pdf"
    path.write_bytes(
        make_pdf(["第一条 个体工商户可以", "申请转型为企业。", "第二条 本办法自公布之日起施行。"])
    )
    lines = load_document(path).text.split("\n")
    assert lines == ["第一条 个体工商户可以申请转型为企业。", "第二条 本办法自公布之日起施行。"]


def test_encrypted_pdf(tmp_path: Path) -> None:
    path = tmp_path / "加密.pdf"
    path.write_bytes(make_pdf(["第一条 测试。"], password="secret"))
    with pytest.raises(LoadError) as err:
        load_document(path)
    assert err.value.reason == "pdf_encrypted"
    assert err.value.message == f"PDF 已加密，无法读取：{path}。请提供未加密的版本。"


def test_corrupt_pdf(tmp_path: Path) -> None:
    path = tmp_path / "损坏.pdf"
    path.write_bytes(os.urandom(2048))
    with pytest.raises(LoadError) as err:
        load_document(path)
    assert err.value.reason == "pdf_corrupt"
    assert "PDF 文件已损坏" in err.value.message


def test_pdf_without_text_is_reported_as_a_possible_scan(tmp_path: Path) -> None:
    path = tmp_path / "扫描件.pdf"
    path.write_bytes(make_pdf([]))
    with pytest.raises(LoadError) as err:
        load_document(path)
    assert err.value.reason == "pdf_no_text"
    assert "扫描件" in err.value.message and "OCR" in err.value.message


# --------------------------------------------------------------------------- docx


def test_docx_paragraphs_headings_and_tables_in_order(tmp_path: Path) -> None:
    import docx

    document = docx.Document()
    document.add_heading("个体工商户登记示范办法", level=0)
    document.add_heading("第一章 总则", level=1)
    document.add_paragraph("第一条 为了规范登记,制定本办法。")
    document.add_paragraph("第二条 个体工商户可以申请转型为企业。")
    table = document.add_table(rows=1, cols=2)
    table.rows[0].cells[0].text = "办理时限"
    table.rows[0].cells[1].text = "3个工作日"
    document.add_paragraph("第三条 本办法自公布之日起施行。")
    path = tmp_path / "示范办法.docx"
    document.save(str(path))

    doc = load_document(path)
    assert doc.title == "个体工商户登记示范办法"
    assert doc.kind == "law"
    assert doc.meta["format"] == "docx"
    order = [
        doc.text.index(s)
        for s in ("第一章 总则", "第一条", "第二条", "办理时限 3个工作日", "第三条")
    ]
    assert order == sorted(order)


def test_corrupt_docx(tmp_path: Path) -> None:
    path = tmp_path / "坏的.docx"
    path.write_bytes(b"PK\x03\x04 not really a zip")
    with pytest.raises(LoadError) as err:
        load_document(path)
    assert err.value.reason == "docx_corrupt"


# --------------------------------------------------------------------------- types and folders


def test_unsupported_type(tmp_path: Path) -> None:
    path = tmp_path / "统计表.xls"
    path.write_bytes(b"\xd0\xcf\x11\xe0 fake excel")
    with pytest.raises(LoadError) as err:
        load_document(path)
    assert err.value.message == (f"不支持的文件类型 .xls：{path}。支持 .txt / .md / .docx / .pdf。")
    assert str(err.value) == err.value.message


def test_legacy_word_names_the_fix(tmp_path: Path) -> None:
    path = tmp_path / "旧文件.doc"
    path.write_bytes(b"\xd0\xcf\x11\xe0")
    with pytest.raises(LoadError, match=r"另存为 \.docx"):
        load_document(path)


def test_missing_file(tmp_path: Path) -> None:
    with pytest.raises(LoadError) as err:
        load_document(tmp_path / "不存在.txt")
    assert err.value.reason == "not_found"


def test_load_corpus_keeps_going_past_bad_files(tmp_path: Path) -> None:
    folder = tmp_path / "docs"
    (folder / "sub").mkdir(parents=True)
    (folder / "b_good.txt").write_text(LAW_TEXT, encoding="utf-8")
    (folder / "sub" / "a_good.md").write_text("# 示例\n\n" + LAW_TEXT, encoding="utf-8")
    (folder / "c_empty.txt").write_bytes(b"")
    (folder / "d_corrupt.pdf").write_bytes(os.urandom(512))
    (folder / "e_table.xls").write_bytes(b"\xd0\xcf\x11\xe0")
    (folder / "photo.jpg").write_bytes(b"\xff\xd8\xff")  # not a document: ignored
    (folder / ".hidden.txt").write_text(LAW_TEXT, encoding="utf-8")
    (folder / "_index.md").write_text("---\nbookCollapseSection: true\n---\n", encoding="utf-8")
    extra = tmp_path / "single.txt"
    extra.write_bytes(LAW_TEXT.encode("gb18030"))

    docs, errors = load_corpus([folder, extra])
    assert [d.doc_id for d in docs] == ["b_good", "a_good", "single"]
    assert sorted(e.path.name for e in errors) == ["c_empty.txt", "d_corrupt.pdf", "e_table.xls"]
    assert all(isinstance(e, LoadError) and e.message for e in errors)
