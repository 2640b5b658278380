"""Measure the reranker on gov_qa: engine order vs reranked, and the latency it adds.

This is the held-out measurement (the model never saw gov_qa or its source); run
it once per candidate model, not to tune features.

    nice .venv/app/bin/python -m bench.eval_reranker

Both columns come from the same ``engine.search(question, k=depth)`` call: the
baseline keeps the engine's order, the other reorders the top ``depth`` with the
model; both are then cut to the 10 hits ``yiwen eval`` scores, and scored by
``yiwen.evaluation.score`` (gold doc + contains strings).
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path
from typing import Any

from bench.common import REPO, SHARED, machine, pct
from retrieval.rerank import MODEL_PATH, Reranker
from yiwen.evaluation import eval_index_dir, hit_matches, score

GOV_QA = SHARED / "eval" / "external" / "gov_qa"
KEEP = 10  # hits per question that yiwen eval scores


def _result(qid: str, hits: list[Any], latency_ms: float) -> dict[str, Any]:
    return {
        "id": qid,
        "abstained": False,
        "hits": [h.public() for h in hits[:KEEP]],
        "latency_ms": latency_ms,
    }


def _first_gold(result: dict[str, Any], gold: list[dict[str, Any]]) -> int | None:
    for i, h in enumerate(result["hits"], 1):
        if hit_matches(h, gold):
            return i
    return None


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--questions", type=Path, default=GOV_QA / "questions.jsonl")
    ap.add_argument("--corpus", type=Path, action="append", default=None)
    ap.add_argument("--model", type=Path, default=MODEL_PATH)
    ap.add_argument("--depth", type=int, default=None, help="default: the model's depth")
    ap.add_argument("--out", type=Path, default=REPO / "var" / "eval" / "rerank-gov_qa.json")
    ap.add_argument(
        "--index-dir", type=Path, default=None, help="default: the folder yiwen eval uses"
    )
    ap.add_argument("--limit", type=int, default=None, help="first N questions (smoke runs)")
    args = ap.parse_args()
    corpora = args.corpus or [GOV_QA / "docs"]

    from retrieval.engine import open_engine

    reranker = Reranker.load(args.model)
    if not reranker.active:
        raise SystemExit(f"no model at {args.model}: run bench.train_reranker first")
    depth = args.depth or reranker.depth
    reranker.depth = depth
    index_dir = args.index_dir or eval_index_dir(corpora, use_faq=False)
    engine, _ = open_engine(corpus=corpora, faq_dir=None, index_dir=index_dir)
    rows = [json.loads(x) for x in args.questions.read_text("utf-8").splitlines() if x.strip()]
    rows = rows[: args.limit] if args.limit else rows
    base, reranked, search_ms, rerank_ms = [], [], [], []
    for q in rows:
        t0 = time.perf_counter()
        hits, _ = engine.search(q["question"], k=depth)
        t1 = time.perf_counter()
        new = reranker.rerank(q["question"], hits)
        t2 = time.perf_counter()
        search_ms.append((t1 - t0) * 1000)
        rerank_ms.append((t2 - t1) * 1000)
        base.append(_result(q["id"], hits, search_ms[-1]))
        reranked.append(_result(q["id"], new, search_ms[-1] + rerank_ms[-1]))
    m_base, m_new = score(rows, base), score(rows, reranked)

    wins = losses = 0
    for q, b, r in zip(rows, base, reranked):
        if not q.get("answerable", True):
            continue
        rb, rr = _first_gold(b, q["gold"]), _first_gold(r, q["gold"])
        wins += rr == 1 and rb != 1
        losses += rb == 1 and rr != 1

    print(f"{args.questions}: {m_base['answerable']} answerable questions")
    print(f"model {args.model.name}, reranking the top {depth}; {machine()}\n")
    print("| order | hit@1 | recall@5 | MRR@10 |")
    print("|---|---:|---:|---:|")
    for name, m in (("engine (baseline)", m_base), ("reranked", m_new)):
        print(f"| {name} | {m['hit@1']:.3f} | {m['recall@5']:.3f} | {m['mrr@10']:.3f} |")
    print(f"\nhit@1 changes: {wins} questions gained rank 1, {losses} lost it")
    print(
        f"search (k={depth}) p50 / p95: {pct(search_ms, 50):.1f} / {pct(search_ms, 95):.1f} ms; "
        f"rerank added p50 / p95: {pct(rerank_ms, 50):.1f} / {pct(rerank_ms, 95):.1f} ms"
    )
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(
        json.dumps(
            {
                "model": str(args.model),
                "depth": depth,
                "baseline": m_base,
                "reranked": m_new,
                "gained_rank1": wins,
                "lost_rank1": losses,
                "search_ms": {"p50": pct(search_ms, 50), "p95": pct(search_ms, 95)},
                "rerank_ms": {"p50": pct(rerank_ms, 50), "p95": pct(rerank_ms, 95)},
            },
            indent=1,
        )
        + "\n",
        "utf-8",
    )


if __name__ == "__main__":
    main()
