"""命中测试: what the engine found for a question and what the bot would answer.

Only what the engine computes is shown: the ranked hits with their fused score and
its parts (dense, BM25, curated-question similarity), the two confidences against
their calibrated thresholds, the curated entry that matched and whether it agreed
(same answer type and key terms), the lead sentence, and whether it abstains.
"""

from __future__ import annotations

from typing import Any

from knowledge.normalize import normalize_text
from retrieval.answer_type import detect
from retrieval.lead import key_terms


def explain(engine: Any, question: str, k: int = 10) -> dict[str, Any]:
    """The hit-test view of ``question`` (runs the engine's own search and answer)."""
    q = normalize_text(question)
    qtype = detect(q)
    hits, best_dense, best_faq = engine.search_parts(q, k=k, qtype=qtype)
    answer = engine.ask(question)
    cfg = engine.config
    faq_hit = next((h for h in hits if h.kind == "faq"), None)
    matched = None
    if faq_hit is not None:
        chunk = engine._by_id[faq_hit.chunk_id]
        matched = {
            "id": chunk.chunk_id.removeprefix("faq:"),
            "questions": list(chunk.meta.get("questions", [])),
            "answer": chunk.text,
            "similarity": round(faq_hit.faq, 4),
            "agrees": faq_hit.faq_agrees,
            "leads": bool(hits) and hits[0].chunk_id == faq_hit.chunk_id and faq_hit.faq_agrees,
            "direct_threshold": cfg.faq_direct,
        }
    return {
        "question": question,
        "question_type": qtype.label,
        "key_terms": sorted(key_terms(q)),
        "confidence": {
            "passage": round(best_dense, 4),
            "passage_threshold": cfg.abstain_dense,
            "faq": round(best_faq, 4),
            "faq_threshold": cfg.abstain_below,
            "confident": engine.confident(best_dense, best_faq),
        },
        "hits": [
            {
                "rank": i,
                "citation": h.citation,
                "doc": h.doc,
                # The article label, so the FAQ editor can offer a hit as a source.
                "clause": getattr(engine._by_id.get(h.chunk_id), "label", "") or "",
                "kind": h.kind,
                "score": round(h.score, 4),
                "dense": round(h.dense, 4),
                "bm25": round(h.bm25, 4),
                "faq": round(h.faq, 4),
                "faq_agrees": h.faq_agrees,
                "superseded_by": h.superseded_by,
                "text": h.text[:300],
            }
            for i, h in enumerate(hits, start=1)
        ],
        "matched_faq": matched,
        "abstained": answer.abstained,
        "lead": answer.lead,
        "lead_citation": answer.lead_citation,
        "answer": answer.text,
        "citations": answer.citations,
    }
