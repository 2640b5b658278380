"""``yiwen eval``: answer a question set through the bot's own path and score it.

Contract (DESIGN.md, "Evaluation contract"): input lines carry id, question,
answerable and gold [{doc, contains}]; output lines carry id, answer, abstained,
hits [{doc, text, score, citation}] and latency_ms. A hit counts when its doc
matches a gold doc and its text contains every string of that gold entry.

Direct answer (DESIGN.md): an answerable question may carry ``lead``, a regex
the answer's lead (its text before the sources, 依据) must match, and the
engine must not have abstained. It measures what a citizen reads first.
"""

from __future__ import annotations

import hashlib
import json
import re
import statistics
from pathlib import Path
from typing import Any

from core.progress import StageProgress
from core.settings import get_settings


def hit_matches(hit: dict[str, Any], gold: list[dict[str, Any]]) -> bool:
    return any(
        hit["doc"] == g["doc"] and all(s in hit["text"] for s in g.get("contains", []))
        for g in gold
    )


SOURCES_MARK = "依据"


_SOURCES_LINE_RE = re.compile(rf"(?m)^{SOURCES_MARK}[:：]?\s*$")


def answer_lead(answer: str) -> str:
    """The part of an answer a citizen reads before its sources (``依据``).

    The sources header is a line of its own; a lead may itself contain the word
    (经营者依据平台服务协议…), so a bare first occurrence is only the fallback.
    """
    header = _SOURCES_LINE_RE.search(answer)
    cut = header.start() if header else answer.find(SOURCES_MARK)
    return answer if cut < 0 else answer[:cut]


def lead_ok(question: dict[str, Any], result: dict[str, Any]) -> bool | None:
    """Direct answer for one question: None when it carries no ``lead`` pattern."""
    pattern = question.get("lead")
    if not pattern or not question.get("answerable", True):
        return None
    return not result["abstained"] and bool(re.search(pattern, answer_lead(result["answer"])))


def wrong_leads(rows: list[dict[str, Any]], results: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """One row per question whose lead missed, with what a reader needs to see why."""
    out = []
    for q, r in zip(rows, results):
        if lead_ok(q, r) is False:
            out.append(
                {
                    "id": q["id"],
                    "type": r.get("question_type", ""),
                    "question": q["question"],
                    "expected": q["lead"],
                    "lead": "（拒答）" if r["abstained"] else answer_lead(r["answer"]).strip(),
                }
            )
    return out


def format_wrong_leads(rows: list[dict[str, Any]], width: int = 90) -> str:
    if not rows:
        return "所有带 lead 的问题都直接答到了所问的事实。"
    lines = ["| id | 问题类型 | 问题 | 应含 | 实际开头 |", "|---|---|---|---|---|"]
    for w in rows:
        lead = w["lead"].replace("\n", " ")
        lead = lead[:width] + ("…" if len(lead) > width else "")
        lines.append(f"| {w['id']} | {w['type']} | {w['question']} | `{w['expected']}` | {lead} |")
    return "\n".join(lines)


def score(rows: list[dict[str, Any]], results: list[dict[str, Any]]) -> dict[str, Any]:
    """Retrieval metrics over answerable questions; abstention over the rest.

    Retrieval metrics use the ranked hits whether or not the engine abstained;
    an answerable question that abstained is counted in ``false_abstention``.
    """
    ans = [(q, r) for q, r in zip(rows, results) if q.get("answerable", True)]
    oos = [(q, r) for q, r in zip(rows, results) if not q.get("answerable", True)]
    h1 = r5 = mrr = 0.0
    for q, r in ans:
        ranks = [i for i, h in enumerate(r["hits"][:10], 1) if hit_matches(h, q["gold"])]
        if ranks:
            h1 += ranks[0] == 1
            r5 += ranks[0] <= 5
            mrr += 1.0 / ranks[0]
    lat = sorted(r["latency_ms"] for r in results) or [0.0]
    n = max(len(ans), 1)
    leads = [ok for q, r in zip(rows, results) if (ok := lead_ok(q, r)) is not None]
    return {
        "questions": len(rows),
        "answerable": len(ans),
        "out_of_scope": len(oos),
        "hit@1": h1 / n,
        "recall@5": r5 / n,
        "mrr@10": mrr / n,
        "abstention_oos": (sum(r["abstained"] for _, r in oos) / len(oos)) if oos else None,
        "false_abstention": sum(r["abstained"] for _, r in ans) / n,
        "direct_answer": (sum(leads) / len(leads)) if leads else None,
        "with_lead": len(leads),
        "latency_p50_ms": statistics.median(lat),
        "latency_p95_ms": lat[min(len(lat) - 1, int(round(0.95 * (len(lat) - 1))))],
    }


def format_metrics(m: dict[str, Any]) -> str:
    def f(v: Any) -> str:
        return "—" if v is None else (f"{v:.3f}" if isinstance(v, float) else str(v))

    lines = ["| metric | value |", "|---|---|"]
    lines += [f"| {k} | {f(v)} |" for k, v in m.items() if k != "wrong_leads"]
    if "wrong_leads" in m:
        lines += ["", "直接回答未命中的问题（wrong leads）：", format_wrong_leads(m["wrong_leads"])]
    return "\n".join(lines)


def eval_index_dir(corpora: list[Path], use_faq: bool) -> Path:
    """The app's own index when the inputs are the configured ones, else a keyed folder."""
    s = get_settings().knowledge
    same = sorted(p.resolve() for p in corpora) == sorted(p.resolve() for p in s.corpus_dirs)
    if same and use_faq == s.use_faq:
        return s.index_dir
    key = "|".join(sorted(str(p.resolve()) for p in corpora)) + f"|faq={use_faq}"
    digest = hashlib.sha256(key.encode()).hexdigest()[:12]
    return s.data_dir / "eval-index" / digest


def run_eval(
    questions: Path,
    corpora: list[Path],
    use_faq: bool,
    out: Path,
    limit: int | None = None,
    log: Any = print,
) -> dict[str, Any]:
    from retrieval.engine import open_engine

    rows = [json.loads(line) for line in questions.read_text("utf-8").splitlines() if line.strip()]
    if limit:
        rows = rows[:limit]
    bar = StageProgress()
    engine, _ = open_engine(
        corpus=corpora,
        faq_dir=True if use_faq else None,
        index_dir=eval_index_dir(corpora, use_faq),
        progress=bar,
        log=log,
    )
    results = []
    out.parent.mkdir(parents=True, exist_ok=True)
    with out.open("w", encoding="utf-8") as fh:
        for i, q in enumerate(rows):
            a = engine.ask(q["question"], k=10)
            rec = {
                "id": q["id"],
                "answer": a.text,
                "abstained": a.abstained,
                "hits": [h.public() for h in a.hits],
                "latency_ms": round(a.latency_ms, 2),
                "question_type": a.question_type,
            }
            results.append(rec)
            fh.write(json.dumps(rec, ensure_ascii=False) + "\n")
            bar("回答问题", i + 1, len(rows))
    bar.close()
    metrics = score(rows, results)
    metrics["wrong_leads"] = wrong_leads(rows, results)
    return metrics
