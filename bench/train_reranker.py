"""Train the gov-QA reranker (``retrieval/rerank.py``) on NCP policy QA, never on gov_qa.

Training data: ``NCPPolicies_train_20200301.csv`` (id, docid, question, answer span).
The policy documents themselves are not distributed, so each docid becomes one
document made of its answer spans in file order: a short answer text that, like a
gov_qa document, answers its questions among some sentences that answer others.
Each question's gold is its docid's document. The candidates are what the real
engine (same chunking, BM25, dense encoder and fusion as production, no FAQ)
returns for the question from that corpus, so the negatives are the engine's own
hard negatives.

Model choice is by grouped K-fold cross-validation on these questions (folds split
by document, so no document's questions are on both sides); gov_qa is measured
once per shipped model by ``bench/eval_reranker.py`` and never used here.

    nice .venv/app/bin/python -m bench.train_reranker            # writes retrieval/reranker.txt

Derived data (documents, index, candidate features) stays under ``var/rerank``.
"""

from __future__ import annotations

import argparse
import hashlib
import itertools
import json
import time
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import numpy as np

from bench.common import REPO, SHARED
from bench.ncp import NCP_TRAIN, as_sentence, read_rows, spans_by_doc
from retrieval.rerank import DEPTH, FEATURE_NAMES, MODEL_PATH, features

WORKDIR = REPO / "var" / "rerank"

# Hyperparameters compared by cross-validation. Small on purpose: ~2.4k training lists,
# and on the shared 2-core machine each grid point (5 fits) takes minutes.
GRID: dict[str, list[Any]] = {
    "num_leaves": [7, 15],
    "n_estimators": [100, 300],
    "min_child_samples": [50],
}
FIXED: dict[str, Any] = {
    "objective": "lambdarank",
    "learning_rate": 0.05,
    "subsample": 0.8,
    "subsample_freq": 1,
    "colsample_bytree": 0.8,
    "lambdarank_truncation_level": 10,
    "num_threads": 1,  # the machine is shared; one core is enough for this size
    "verbose": -1,
}


@dataclass
class Question:
    qid: str
    question: str
    doc: str  # the file stem of the gold document


def load_ncp(path: Path, max_docs: int | None, seed: int) -> tuple[dict[str, str], list[Question]]:
    """Documents (stem -> text) and questions from the NCP training file.

    ``max_docs`` samples whole documents (with all their questions) to bound the
    encoding time; the sample is fixed by ``seed``.
    """
    rows = read_rows(path)
    spans = spans_by_doc(rows)
    docids = sorted(spans)
    if max_docs and max_docs < len(docids):
        rng = np.random.default_rng(seed)
        docids = sorted(rng.choice(docids, size=max_docs, replace=False).tolist())
    stem = {d: f"ncp{i:04d}" for i, d in enumerate(docids)}
    docs = {stem[d]: "".join(as_sentence(s) for s in spans[d]) + "\n" for d in docids}
    questions = [
        Question(qid, q, stem[docid])
        for qid, docid, q, answer in rows
        if docid in stem and q and answer
    ]
    return docs, questions


def write_docs(docs: dict[str, str], folder: Path) -> None:
    """One .txt per document; unchanged files are left alone so the index cache holds."""
    folder.mkdir(parents=True, exist_ok=True)
    for old in folder.glob("*.txt"):
        if old.stem not in docs:
            old.unlink()
    for name, text in docs.items():
        p = folder / f"{name}.txt"
        if not p.is_file() or p.read_text("utf-8") != text:
            p.write_text(text, "utf-8")


def collect(
    questions: list[Question], docs_dir: Path, index_dir: Path, depth: int
) -> list[dict[str, Any]]:
    """The engine's top ``depth`` hits for every question (the slow part, cached).

    Hits are kept rather than features so that a feature change needs no new search.
    """
    from retrieval.engine import open_engine

    engine, report = open_engine(corpus=[docs_dir], faq_dir=None, index_dir=index_dir)
    print(f"index: {report.documents} documents, {report.chunks} chunks ({report.reason})")
    out: list[dict[str, Any]] = []
    started = time.perf_counter()
    for i, q in enumerate(questions):
        hits, _ = engine.search(q.question, k=depth)
        out.append({"q": i, "hits": [asdict(h) for h in hits]})
        if (i + 1) % 500 == 0:
            print(f"  {i + 1}/{len(questions)} questions, {time.perf_counter() - started:.0f} s")
    return out


def featurize(questions: list[Question], candidates: list[dict[str, Any]]) -> dict[str, np.ndarray]:
    """Feature rows, gold labels (hit from the question's document) and list sizes."""
    from retrieval.engine import Hit

    xs, ys, groups, qidx = [], [], [], []
    for c in candidates:
        if not c["hits"]:
            continue
        q = questions[c["q"]]
        hits = [Hit(**h) for h in c["hits"]]
        xs.append(features(q.question, hits))
        ys.append(np.array([h.doc == q.doc for h in hits], dtype=np.int32))
        groups.append(len(hits))
        qidx.append(c["q"])
    return {
        "X": np.vstack(xs),
        "y": np.concatenate(ys),
        "group": np.array(groups),
        "qidx": np.array(qidx),
    }


def _metrics(y_lists: list[np.ndarray], score_lists: list[np.ndarray]) -> dict[str, float]:
    """hit@1, recall@5 and MRR@10 over lists, as yiwen eval counts them (first gold hit)."""
    h1 = r5 = mrr = 0.0
    for y, s in zip(y_lists, score_lists):
        order = np.argsort(-s, kind="stable")
        pos = np.flatnonzero(y[order])
        if pos.size:
            rank = int(pos[0]) + 1
            h1 += rank == 1
            r5 += rank <= 5
            mrr += 1.0 / rank if rank <= 10 else 0.0
    n = max(len(y_lists), 1)
    return {"hit@1": h1 / n, "recall@5": r5 / n, "mrr@10": mrr / n}


def _split(data: dict[str, np.ndarray]) -> tuple[list[np.ndarray], list[np.ndarray]]:
    bounds = np.concatenate([[0], np.cumsum(data["group"])])
    xs = [data["X"][a:b] for a, b in itertools.pairwise(bounds)]
    ys = [data["y"][a:b] for a, b in itertools.pairwise(bounds)]
    return xs, ys


def _fit(xs: list[np.ndarray], ys: list[np.ndarray], params: dict[str, Any]) -> Any:
    """Fit lambdarank on the lists that contain a gold hit (others carry no gradient)."""
    import lightgbm as lgb

    keep = [i for i, y in enumerate(ys) if y.any()]
    model = lgb.LGBMRanker(**FIXED, **params)
    model.fit(
        np.vstack([xs[i] for i in keep]),
        np.concatenate([ys[i] for i in keep]),
        group=[len(ys[i]) for i in keep],
        feature_name=FEATURE_NAMES,
    )
    return model


def _fit_linear(xs: list[np.ndarray], ys: list[np.ndarray]) -> Any:
    """Pointwise logistic regression: the dependency-free alternative, for comparison."""
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    model = make_pipeline(StandardScaler(), LogisticRegression(C=1.0, max_iter=2000))
    model.fit(np.vstack(xs), np.concatenate(ys))
    return model


def cross_validate(
    data: dict[str, np.ndarray], doc_of: np.ndarray, folds: int, seed: int
) -> tuple[list[dict[str, Any]], dict[str, float], dict[str, float]]:
    """Mean CV metrics of every grid point, the engine order and the linear model.

    Folds are grouped by gold document (sklearn GroupKFold over shuffled doc ids).
    """
    from sklearn.model_selection import GroupKFold

    xs, ys = _split(data)
    idx = np.arange(len(xs))
    splits = list(
        GroupKFold(n_splits=folds, shuffle=True, random_state=seed).split(idx, groups=doc_of)
    )
    base = _metrics(ys, [-x[:, FEATURE_NAMES.index("rank")] for x in xs])

    def run(fit: Any) -> dict[str, float]:
        scores: list[np.ndarray] = [np.zeros(0)] * len(xs)
        for train, test in splits:
            model = fit([xs[i] for i in train], [ys[i] for i in train])
            pred = _predict(model, np.vstack([xs[i] for i in test]))
            bounds = np.cumsum([0] + [len(xs[i]) for i in test])
            for i, a, b in zip(test, bounds[:-1], bounds[1:]):
                scores[i] = pred[a:b]
        return _metrics(ys, scores)

    linear = run(_fit_linear)
    print(f"engine order     {_fmt(base)}")
    print(f"logistic (lin.)  {_fmt(linear)}")
    table: list[dict[str, Any]] = []
    keys = list(GRID)
    for values in itertools.product(*(GRID[k] for k in keys)):
        params = dict(zip(keys, values))
        m = run(lambda a, b, p=params: _fit(a, b, p))
        table.append({"params": params, **m})
        print(f"lambdarank {params}  {_fmt(m)}")
    return table, base, linear


def _predict(model: Any, x: np.ndarray) -> np.ndarray:
    if hasattr(model, "predict_proba"):
        return model.predict_proba(x)[:, 1]
    return model.booster_.predict(x, num_threads=1)  # the booster: no feature-name check


def _fmt(m: dict[str, float]) -> str:
    return f"hit@1 {m['hit@1']:.3f}  recall@5 {m['recall@5']:.3f}  MRR@10 {m['mrr@10']:.3f}"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--train", type=Path, default=NCP_TRAIN)
    ap.add_argument("--workdir", type=Path, default=WORKDIR)
    ap.add_argument("--out", type=Path, default=MODEL_PATH)
    ap.add_argument("--depth", type=int, default=DEPTH)
    ap.add_argument("--max-docs", type=int, default=None, help="sample this many NCP documents")
    ap.add_argument("--folds", type=int, default=5)
    ap.add_argument("--seed", type=int, default=13)
    ap.add_argument("--refresh", action="store_true", help="search the candidates again")
    args = ap.parse_args()

    started = time.perf_counter()
    docs, questions = load_ncp(args.train, args.max_docs, args.seed)
    print(f"NCP: {len(docs)} documents, {len(questions)} questions")
    docs_dir, index_dir = args.workdir / "ncp_docs", args.workdir / "ncp_index"
    write_docs(docs, docs_dir)
    key = hashlib.sha256(
        json.dumps([sorted(docs.items()), [q.__dict__ for q in questions]]).encode()
    ).hexdigest()[:12]
    cache = args.workdir / f"candidates-d{args.depth}-{key}.jsonl"
    if cache.is_file() and not args.refresh:
        candidates = [json.loads(x) for x in cache.read_text("utf-8").splitlines()]
    else:
        candidates = collect(questions, docs_dir, index_dir, args.depth)
        cache.write_text(
            "".join(json.dumps(c, ensure_ascii=False) + "\n" for c in candidates), "utf-8"
        )
    data = featurize(questions, candidates)
    in_window = np.array([y.any() for y in _split(data)[1]])
    print(
        f"candidates: {len(data['group'])} lists, {len(data['y'])} rows, "
        f"gold in the top {args.depth}: {in_window.mean():.3f}"
    )

    doc_of = np.array([questions[i].doc for i in data["qidx"]])
    table, base, linear = cross_validate(data, doc_of, args.folds, args.seed)
    best = max(table, key=lambda r: (r["hit@1"], r["mrr@10"]))
    print(f"chosen: {best['params']}  {_fmt(best)}")

    xs, ys = _split(data)
    model = _fit(xs, ys, best["params"])
    args.out.parent.mkdir(parents=True, exist_ok=True)
    model.booster_.save_model(str(args.out))
    import lightgbm as lgb

    gain = model.booster_.feature_importance(importance_type="gain")
    meta = {
        "model": args.out.name,
        "depth": args.depth,
        "features": FEATURE_NAMES,
        "source": {
            "file": str(args.train.relative_to(SHARED.parent))
            if args.train.is_relative_to(SHARED.parent)
            else str(args.train),
            "sha256": hashlib.sha256(args.train.read_bytes()).hexdigest(),
            "construction": "one document per NCP docid: its answer spans in file order; "
            "gold = the question's docid; candidates = engine.search top depth (no FAQ)",
            "documents": len(docs),
            "questions": len(questions),
            "lists": int(len(data["group"])),
            "training_lists_with_gold": int(in_window.sum()),
            "rows": int(len(data["y"])),
            "max_docs": args.max_docs,
            "seed": args.seed,
        },
        "cv": {
            "folds": args.folds,
            "grouped_by": "gold document",
            "engine_order": base,
            "logistic_regression": linear,
            "chosen": best,
            "grid": table,
        },
        "params": {**FIXED, **best["params"]},
        "lightgbm": lgb.__version__,
        "feature_gain": {n: round(float(g), 1) for n, g in zip(FEATURE_NAMES, gain)},
        "train_seconds": round(time.perf_counter() - started, 1),
    }
    args.out.with_suffix(".json").write_text(
        json.dumps(meta, ensure_ascii=False, indent=1) + "\n", "utf-8"
    )
    print(f"wrote {args.out} ({args.out.stat().st_size / 1024:.1f} KiB) and its .json")


if __name__ == "__main__":
    main()
