"""`yiwen bench`: query latency, ingestion throughput, index size and app RSS.

Run: `.venv/app/bin/yiwen bench` (add `--no-lawrefbook` to skip the 3,502-law set).
Everything is measured on the machine it runs on; the table says which.
"""

from __future__ import annotations

import shutil
import tarfile
import tempfile
import time
from pathlib import Path

import httpx
import yaml

from bench.common import REPO, SHARED, free_port, machine, pct, rss_mb, start_app


def _queries() -> list[str]:
    data = yaml.safe_load((REPO / "retrieval" / "calibration_set.yml").read_text("utf-8"))
    return data["in_scope"] + data["out_of_scope"]


def bench_queries(rows: list[tuple[str, str]]) -> None:
    from retrieval.engine import get_engine

    engine = get_engine()
    qs = _queries()
    for q in qs[:5]:
        engine.ask(q)  # warm caches (jieba, faiss)
    lat = []
    for _ in range(2):
        for q in qs:
            t = time.perf_counter()
            engine.ask(q)
            lat.append((time.perf_counter() - t) * 1000)
    rows.append(
        (
            "单次问答延迟 p50 / p95（核心语料，含查询向量化）",
            f"{pct(lat, 50):.1f} / {pct(lat, 95):.1f} ms（{len(lat)} 次）",
        )
    )
    m = engine.index.manifest
    rows.append(
        ("核心语料索引", f"{m.n_documents} 文档，{m.n_chunks} 片段，FAQ 问法 {m.n_faq_questions}")
    )
    from core.settings import get_settings

    index_dir = get_settings().knowledge.index_dir
    size = sum(p.stat().st_size for p in index_dir.rglob("*") if p.is_file())
    rows.append(("索引磁盘占用", f"{size / 1e6:.1f} MB"))


def _lexical_pass(paths: list[Path]) -> tuple[list, list, float, float]:
    """Load + chunk, then tokenise + BM25; returns chunks, errors and the two timings."""
    import bm25s

    from knowledge.chunking import chunk_document
    from knowledge.loaders import load_corpus
    from knowledge.superseded import mark_superseded
    from retrieval.index import lexical_text
    from retrieval.tokenizer import tokenize_many

    t0 = time.perf_counter()
    docs, errors = load_corpus(paths)
    docs = mark_superseded(docs)
    chunks = [c for d in docs for c in chunk_document(d)]
    t1 = time.perf_counter()
    tokens = [t or ["<empty>"] for t in tokenize_many([lexical_text(c) for c in chunks])]
    bm = bm25s.BM25(k1=1.2, b=0.75)
    bm.index(tokens, show_progress=False)
    t2 = time.perf_counter()
    return chunks, errors, t1 - t0, t2 - t1


def _dense_rate(chunks: list, sample: int) -> tuple[float, int, int]:
    """Units/s of the configured encoder on an even sample; total units of ``chunks``."""
    from core.settings import get_settings
    from retrieval.encoders import load_encoder
    from retrieval.index import dense_units

    s = get_settings().knowledge
    enc = load_encoder(s.encoder, s.model_cache_dir, threads=s.encoder_threads)
    units = [u for c in chunks for u in dense_units(c)]
    step = max(1, len(units) // sample)
    picked = units[::step][:sample]
    t = time.perf_counter()
    enc.encode_passages(picked, batch_size=32)
    return len(picked) / (time.perf_counter() - t), len(units), len(picked)


def bench_core_ingest(rows: list[tuple[str, str]], dense_sample: int) -> None:
    from core.settings import get_settings

    chunks, _errors, t_chunk, t_bm25 = _lexical_pass(get_settings().knowledge.corpus_dirs)
    rows.append(
        (
            "核心语料：加载+分块 / 分词+BM25",
            f"{len(chunks)} 片段，{t_chunk:.2f} s / {t_bm25:.2f} s"
            f"（{len(chunks) / (t_chunk + t_bm25):.0f} 片段/s）",
        )
    )
    rate, units, n = _dense_rate(chunks, min(dense_sample, 300))
    rows.append(
        (
            "核心语料：向量化",
            f"抽样 {n} 个检索单元 {rate:.1f} 个/s；全部 {units} 个单元预计 {units / rate:.0f} s",
        )
    )


def bench_lawrefbook(rows: list[tuple[str, str]], dense_sample: int) -> None:
    archive = SHARED / "corpus" / "lawrefbook.tar.xz"
    if not archive.is_file():
        rows.append(("全量法规集", f"跳过：找不到 {archive}"))
        return
    tmp = Path(tempfile.mkdtemp(prefix="yiwen-law-"))
    try:
        t0 = time.perf_counter()
        with tarfile.open(archive) as tf:
            tf.extractall(tmp, filter="data")
        t_unpack = time.perf_counter() - t0
        chunks, errors, t_chunk, t_bm25 = _lexical_pass([tmp])
        rows.append(("全量法规集：解压", f"{t_unpack:.1f} s"))
        rows.append(
            (
                "全量法规集：加载+分块",
                f"{len(chunks)} 片段（失败 {len(errors)} 个文件），{t_chunk:.1f} s",
            )
        )
        rows.append(
            (
                "全量法规集：分词+BM25",
                f"{t_bm25:.1f} s；分块+BM25 合计 {t_chunk + t_bm25:.1f} s"
                f"（{len(chunks) / (t_chunk + t_bm25):.0f} 片段/s）",
            )
        )
        rate, units, n = _dense_rate(chunks, dense_sample)
        rows.append(
            (
                f"全量法规集：向量化（抽样 {n} 个检索单元）",
                f"{rate:.1f} 个/s，全部 {units} 个单元预计 {units / rate / 3600:.1f} 小时",
            )
        )
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def bench_app_rss(rows: list[tuple[str, str]]) -> None:
    port = free_port()
    proc = start_app(port)
    try:
        for q in _queries()[:30]:
            httpx.post(f"http://127.0.0.1:{port}/api/ask", json={"question": q}, timeout=30)
        cur, peak = rss_mb(proc.pid)
        rows.append(
            ("应用进程 RSS（默认模型，30 次问答后）", f"{cur:.0f} MB（峰值 {peak:.0f} MB）")
        )
    finally:
        proc.terminate()
        proc.wait(timeout=30)


def run(lawrefbook: bool = True, dense_sample: int = 500) -> str:
    from core.settings import get_settings

    encoder = get_settings().knowledge.encoder
    rows: list[tuple[str, str]] = [("机器", machine()), ("默认向量模型", encoder)]
    bench_queries(rows)
    bench_core_ingest(rows, dense_sample)
    bench_app_rss(rows)
    if lawrefbook:
        bench_lawrefbook(rows, dense_sample)
    rows.append(("本进程 RSS（当前 / 峰值）", "%.0f / %.0f MB" % rss_mb()))
    out = ["| 项目 | 结果 |", "|---|---|"] + [f"| {k} | {v} |" for k, v in rows]
    return "\n".join(out)


def main(argv: list[str] | None = None) -> None:
    """``python -m bench.retrieval [--no-lawrefbook] [--dense-sample N]`` (``yiwen bench``)."""
    import argparse

    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--no-lawrefbook", action="store_true", help="skip the full law set")
    parser.add_argument("--dense-sample", type=int, default=500)
    args = parser.parse_args(argv)
    print(run(lawrefbook=not args.no_lawrefbook, dense_sample=args.dense_sample))


if __name__ == "__main__":
    main()
