"""How often the FAQ shortcut is right: own paraphrase set, apart from ../shared/eval.

A curated answer "leads" when it ranks first with the FAQ shortcut (a near-paraphrase
of one of its questions that agrees on the answer type and key terms). Precision is
the share of those leads that are an accepted entry; coverage is the share of
questions with an accepted entry whose entry led. Questions whose ``accept`` list is
empty have no curated answer: any curated lead on them is wrong.

    .venv/app/bin/python -m bench.faq_precision [--questions bench/data/faq_paraphrases.jsonl]
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

DATA = Path(__file__).resolve().parent / "data" / "faq_paraphrases.jsonl"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--questions", type=Path, default=DATA)
    parser.add_argument("--verbose", action="store_true", help="每题打印结果")
    args = parser.parse_args()

    from retrieval.engine import get_engine

    engine = get_engine()
    rows = [json.loads(x) for x in args.questions.read_text("utf-8").splitlines() if x.strip()]
    leads = right = covered = with_entry = 0
    for row in rows:
        hits, _ = engine.search(row["question"], k=5)
        top = hits[0] if hits else None
        shortcut = top is not None and top.kind == "faq" and top.faq_agrees
        led = top.chunk_id.removeprefix("faq:") if shortcut else None
        accept = row["accept"]
        with_entry += bool(accept)
        if led:
            leads += 1
            right += led in accept
            covered += led in accept
        if args.verbose:
            mark = "✓" if (led in accept if led else True) else "✗"
            print(f"{mark} {row['question']}  →  {led or '（文档/无捷径）'}  期望 {accept or '无'}")
    print("| FAQ shortcut | value |\n|---|---|")
    print(f"| questions | {len(rows)} |")
    print(f"| curated leads | {leads} |")
    print(f"| precision (accepted / leads) | {right / leads if leads else 0:.3f} |")
    coverage = covered / max(with_entry, 1)
    print(f"| coverage (accepted leads / questions with an entry) | {coverage:.3f} |")


if __name__ == "__main__":
    main()
