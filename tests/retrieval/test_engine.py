"""The engine over the real core corpus: cited answers, abstention, normalisation."""

from __future__ import annotations

import json
import re

import pytest

from tests.conftest import DEV

pytestmark = pytest.mark.slow


def _dev() -> list[dict]:
    if not DEV.is_file():
        pytest.skip(f"需要评测集 {DEV}")
    return [json.loads(x) for x in DEV.read_text("utf-8").splitlines() if x.strip()]


def test_answer_cites_document_and_article(core_engine) -> None:
    ans = core_engine.ask("个体工商户转型为企业以后债务怎么处理？")
    assert not ans.abstained
    assert ans.citations, ans.text
    assert any(
        re.search(r"《[^》]+》第[一二三四五六七八九十百零\d]+[条项段]", c) for c in ans.citations
    )
    assert ans.citations[0] in ans.text


def test_answers_are_their_payloads(core_engine) -> None:
    """Answer.text is rendered from Answer.payload (core.replies); both say the same."""
    from core.replies import render_text
    from retrieval.engine import Answer, Hit  # re-exported from retrieval.answer

    assert Answer.__module__ == Hit.__module__ == "retrieval.answer"
    for row in _dev():
        ans = core_engine.ask(row["question"])
        payload = ans.payload
        assert payload["type"] == "answer" and payload["abstained"] == ans.abstained
        assert render_text(payload) == ans.text
        assert [c["citation"] for c in payload["citations"]] == ans.citations
        for c in payload["citations"]:
            assert c["citation"] == f"《{c['title']}》{c['clause']}"
        if ans.abstained:
            assert payload["message"] == ans.text and payload["offers"]
        else:
            assert ans.text.startswith(payload["lead"]) and ans.lead == payload["lead"]
            assert json.loads(json.dumps(payload, ensure_ascii=False)) == payload


def test_out_of_scope_abstains_and_offers_12315(core_engine) -> None:
    for q in ("今天星期几？", "附近哪里有加油站", "帮我写一首关于秋天的诗"):
        ans = core_engine.ask(q)
        assert ans.abstained, (q, ans.confidence)
        assert "12315" in ans.text and "人工" in ans.text
        assert not ans.citations


def test_dev_questions_find_their_gold_source(core_engine) -> None:
    from yiwen.evaluation import hit_matches

    rows = [r for r in _dev() if r["answerable"]]
    found = 0
    for r in rows:
        ans = core_engine.ask(r["question"], k=5)
        found += any(hit_matches(h.public(), r["gold"]) for h in ans.hits)
    assert found / len(rows) >= 0.9, f"recall@5 {found}/{len(rows)}"


def test_traditional_query_finds_simplified_passage(core_engine) -> None:
    simp, _ = core_engine.search("农民专业合作社成员的身份证明", k=3)
    trad, _ = core_engine.search("農民專業合作社成員的身份證明", k=3)
    assert [h.chunk_id for h in trad] == [h.chunk_id for h in simp]


def test_superseded_regulation_ranks_below_current(core_engine) -> None:
    hits, _ = core_engine.search("个体工商户条例 个体工商户可以个人经营也可以家庭经营", k=10)
    docs = [h.doc for h in hits]
    old = [i for i, d in enumerate(docs) if d.startswith("个体工商户条例")]
    new = [i for i, d in enumerate(docs) if d.startswith("促进个体工商户发展条例")]
    assert new, docs
    if old:
        assert min(new) < min(old)
        assert hits[min(old)].superseded_by


def test_hostile_text_is_plain_text(core_engine) -> None:
    for q in ("<script>alert(1)</script> 投诉", "'; DROP TABLE tickets; --", "😀😀 个转企 🎉"):
        ans = core_engine.ask(q)
        assert isinstance(ans.text, str) and ans.text
