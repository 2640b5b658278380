"""``yiwen eval``: answer a question set through the bot's own path and score it.

Contract (DESIGN.md, "Evaluation contract"): input lines carry id, question,
answerable and gold [{doc, contains}]; output lines carry id, answer, abstained,
hits [{doc, text, score, citation}] and latency_ms. A hit counts when its doc
matches a gold doc and its text contains every string of that gold entry.
"""

from __future__ import annotations

import hashlib
import json
import statistics
from pathlib import Path
from typing import Any

from yiwen.progress import StageProgress
from yiwen.settings import get_settings


def hit_matches(hit: dict[str, Any], gold: list[dict[str, Any]]) -> bool:
    return any(
        hit["doc"] == g["doc"] and all(s in hit["text"] for s in g.get("contains", []))
        for g in gold
    )


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
    return {
        "questions": len(rows),
        "answerable": len(ans),
        "out_of_scope": len(oos),
        "hit@1": h1 / n,
        "recall@5": r5 / n,
        "mrr@10": mrr / n,
        "abstention_oos": (sum(r["abstained"] for _, r in oos) / len(oos)) if oos else None,
        "false_abstention": sum(r["abstained"] for _, r in ans) / n,
        "latency_p50_ms": statistics.median(lat),
        "latency_p95_ms": lat[min(len(lat) - 1, int(round(0.95 * (len(lat) - 1))))],
    }


def format_metrics(m: dict[str, Any]) -> str:
    def f(v: Any) -> str:
        return "—" if v is None else (f"{v:.3f}" if isinstance(v, float) else str(v))

    lines = ["| metric | value |", "|---|---|"]
    lines += [f"| {k} | {f(v)} |" for k, v in m.items()]
    return "\n".join(lines)


def eval_index_dir(corpora: list[Path], use_faq: bool) -> Path:
    """The app's own index when the inputs are the configured ones, else a keyed folder."""
    s = get_settings()
    same = sorted(p.resolve() for p in corpora) == sorted(p.resolve() for p in s.corpus_dirs)
    if same and use_faq == s.use_faq:
        return s.index_dir
    key = "|".join(sorted(str(p.resolve()) for p in corpora)) + f"|faq={use_faq}"
    digest = hashlib.sha256(key.encode()).hexdigest()[:12]
    return get_settings().data_dir / "eval-index" / digest


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
            }
            results.append(rec)
            fh.write(json.dumps(rec, ensure_ascii=False) + "\n")
            bar("回答问题", i + 1, len(rows))
    bar.close()
    return score(rows, results)
