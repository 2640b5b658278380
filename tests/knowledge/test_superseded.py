"""Superseded documents: curated config, repeal clauses found in the text, newer versions."""

from __future__ import annotations

from pathlib import Path

import pytest

from knowledge.chunking import chunk_document
from knowledge.model import Document
from knowledge.superseded import CONFIG_PATH, find_repeals, load_config, mark_superseded
from tests.knowledge.corpus_helpers import OLD_ACT, PROMOTION_ACT

REASONS = """
reasons:
  repealed: 《{by_title}》{article}废止了该文件。
  newer_version: 有更新版本（{by_date}）。
"""


def _config(tmp_path: Path, entries: str = "entries: []") -> Path:
    path = tmp_path / "superseded.yml"
    path.write_text(entries + "\n" + REASONS, encoding="utf-8")
    return path


def _doc(doc_id: str, title: str, text: str, date: str | None) -> Document:
    return Document(
        doc_id=doc_id, title=title, text=text, path=f"{doc_id}.md", kind="law", date=date
    )


def test_old_individual_business_regulation_is_superseded(core_docs) -> None:
    docs = mark_superseded(list(core_docs.values()))
    by_id = {d.doc_id: d for d in docs}
    old = by_id[OLD_ACT]
    assert old.superseded_by == "促进个体工商户发展条例"
    mark = old.meta["superseded"]
    assert mark["by_doc"] == PROMOTION_ACT
    assert mark["article"] == "第三十九条"
    assert mark["source"] == "config"
    assert mark["reason"]
    assert by_id[PROMOTION_ACT].superseded_by is None
    chunks = chunk_document(old)
    assert chunks and all(c.superseded_by == "促进个体工商户发展条例" for c in chunks)
    assert chunks[0].meta["superseded"]["article"] == "第三十九条"


def test_config_article_matches_the_repeal_clause_in_the_corpus(core_docs) -> None:
    assert ("个体工商户条例", "第三十九条") in find_repeals(core_docs[PROMOTION_ACT])
    entry = next(e for e in load_config(CONFIG_PATH)["entries"] if e.get("doc_id") == OLD_ACT)
    assert entry["article"] == "第三十九条"


def test_detection_alone_marks_the_old_regulation(core_docs, tmp_path: Path) -> None:
    docs = mark_superseded(list(core_docs.values()), config_path=_config(tmp_path))
    old = next(d for d in docs if d.doc_id == OLD_ACT)
    assert old.superseded_by == "促进个体工商户发展条例"
    assert old.meta["superseded"]["source"] == "text"
    assert old.meta["superseded"]["reason"] == "《促进个体工商户发展条例》第三十九条废止了该文件。"


def test_several_titles_repealed_in_one_sentence(core_docs) -> None:
    """The 2021 market-entity regulation repeals five regulations, one of them in the corpus."""
    repealed = find_repeals(core_docs["市场主体登记管理条例(2021-07-27)"])
    titles = [t for t, _ in repealed]
    assert "农民专业合作社登记管理条例" in titles
    assert len(titles) == 5
    assert {a for _, a in repealed} == {"第五十五条"}
    docs = {d.doc_id: d for d in mark_superseded(list(core_docs.values()))}
    coop = docs["农民专业合作社登记管理条例(2014-02-19)"]
    assert coop.meta["superseded"]["by_doc"] == "市场主体登记管理条例(2021-07-27)"


def test_repeal_matching_rules(tmp_path: Path) -> None:
    new = _doc(
        "新办法(2020-01-01)",
        "某某管理办法",
        "第一条 目的。\n第九条 本办法自2020年1月1日起施行。"
        "2001年3月1日原某局令第5号公布的《中华人民共和国某某登记办法》(某局令第5号)、"
        "《某某检查规定》同时废止。\n第十条 依照《立法法》的规定废止有关规章前,应当公告。",
        "2020-01-01",
    )
    old_a = _doc("登记办法(2001-03-01)", "中华人民共和国某某登记办法", "第一条 旧。", "2001-03-01")
    old_b = _doc("检查规定", "某某检查规定", "第一条 旧。", None)
    later = _doc("登记办法(2021-05-01)", "某某登记办法", "第一条 新版。", "2021-05-01")
    law = _doc("立法法", "立法法", "第一条 立法。", "2015-03-15")
    docs = [new, old_a, old_b, later, law]
    before = [(d.superseded_by, dict(d.meta)) for d in docs]

    result = {d.doc_id: d for d in mark_superseded(docs, config_path=_config(tmp_path))}
    # Repealed in the text (which wins over "a newer version exists").
    assert result["登记办法(2001-03-01)"].meta["superseded"]["source"] == "text"
    assert result["登记办法(2001-03-01)"].superseded_by == "某某管理办法"
    assert result["检查规定"].superseded_by == "某某管理办法"
    assert result["检查规定"].meta["superseded"]["article"] == "第九条"
    # A document dated after the repealing one is a new version, not repealed.
    assert result["登记办法(2021-05-01)"].superseded_by is None
    # "依照《立法法》的规定废止…" mentions a title but does not repeal it.
    assert result["立法法"].superseded_by is None
    assert result["新办法(2020-01-01)"].superseded_by is None
    assert [(d.superseded_by, d.meta) for d in docs] == before  # inputs untouched


def test_older_versions_of_a_title_point_to_the_newest(tmp_path: Path) -> None:
    docs = [
        _doc("法(2013-10-25)", "中华人民共和国某某法", "第一条 二版。", "2013-10-25"),
        _doc("法(2009-08-27)", "中华人民共和国某某法", "第一条 一版。", "2009-08-27"),
        _doc("法(2018-12-29)", "某某法", "第一条 三版。", "2018-12-29"),
        _doc("编一", "某某法典", "第一条 无日期。", None),
        _doc("编二", "某某法典", "第二条 无日期。", None),
    ]
    result = {d.doc_id: d for d in mark_superseded(docs, config_path=_config(tmp_path))}
    for old in ("法(2013-10-25)", "法(2009-08-27)"):
        mark = result[old].meta["superseded"]
        assert (mark["by_doc"], mark["source"]) == ("法(2018-12-29)", "version")
        assert mark["reason"] == "有更新版本（2018-12-29）。"
    assert result["法(2018-12-29)"].superseded_by is None
    assert result["编一"].superseded_by is None and result["编二"].superseded_by is None


def test_config_by_title_wins_over_detection(tmp_path: Path) -> None:
    config = _config(
        tmp_path,
        "entries:\n  - title: 某某检查规定\n    superseded_by: 另一办法\n    reason: 人工确认。",
    )
    new = _doc("新办法", "某某管理办法", "第九条 《某某检查规定》同时废止。", "2020-01-01")
    old = _doc("检查规定", "某某检查规定", "第一条 旧。", None)
    result = {d.doc_id: d for d in mark_superseded([new, old], config_path=config)}
    mark = result["检查规定"].meta["superseded"]
    assert (mark["by_title"], mark["by_doc"], mark["source"]) == ("另一办法", None, "config")


def test_config_can_overrule_a_detection(tmp_path: Path) -> None:
    config = _config(tmp_path, "entries:\n  - doc_id: 检查规定\n    in_force: true")
    new = _doc("新办法", "某某管理办法", "第九条 《某某检查规定》同时废止。", "2020-01-01")
    old = _doc("检查规定", "某某检查规定", "第一条 旧。", None)
    result = {d.doc_id: d for d in mark_superseded([new, old], config_path=config)}
    assert result["检查规定"].superseded_by is None
    assert "superseded" not in result["检查规定"].meta


@pytest.mark.parametrize(
    "body",
    ["entries:\n  - superseded_by: 某办法\n", "entries:\n  - doc_id: x\n", "entries: {}\n"],
)
def test_broken_config_fails_loudly(tmp_path: Path, body: str) -> None:
    with pytest.raises(ValueError):
        load_config(_config(tmp_path, body))
