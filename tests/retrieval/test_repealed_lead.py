"""No answer leads with a repealed article when a text in force answers (core corpus).

For every article of every superseded document in the core corpus, the article's own
first sentence is asked as a question: the hardest case, since it matches the repealed
wording exactly. Whenever a text in force "answers" (is among the top five and scores
within the engine's ``repealed_margin`` of the best hit), the lead's source must be in
force.
"""

from __future__ import annotations

import pytest

from retrieval.lead import sentences

pytestmark = pytest.mark.slow


def test_core_corpus_repeals_are_detected(core_engine) -> None:
    superseded = {c.title for c in core_engine.index.chunks if c.superseded_by}
    assert "个体工商户条例" in superseded
    # Listed among five titles before 同时废止 in 《市场主体登记管理条例》第五十五条.
    assert "农民专业合作社登记管理条例" in superseded


def test_repealed_articles_never_lead_when_current_text_answers(core_engine) -> None:
    chunks = core_engine.index.chunks
    repealed_titles = {c.title for c in chunks if c.superseded_by}
    asked = led_by_repealed = 0
    failures = []
    for c in chunks:
        if not c.superseded_by or c.kind == "faq":
            continue
        first = sentences(c.text)
        if not first or len(first[0]) < 8:
            continue
        ans = core_engine.ask(first[0][:60])
        if ans.abstained:
            continue
        asked += 1
        margin = core_engine.config.repealed_margin
        top = ans.hits[0].score
        current_in_top5 = any(not h.superseded_by and h.score >= top - margin for h in ans.hits[:5])
        lead_title = ans.lead_citation.split("》")[0].lstrip("《")
        if lead_title in repealed_titles:
            led_by_repealed += 1
            if current_in_top5:
                failures.append((c.citation, ans.lead_citation, ans.lead[:60]))
    assert asked >= 50, asked
    assert not failures, failures[:5]
