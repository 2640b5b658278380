"""Benchmarks of the Rasa assistant: NLU parse, REST turns, training, server start.

Run against a running stack (``yiwen up``: Rasa on 5005, actions on 5055)::

    .venv/app/bin/python -m bench.rasa parse                  # /model/parse p50/p95
    .venv/app/bin/python -m bench.rasa turns --users 1 20     # REST turns, knowledge + form
    .venv/app/bin/python -m bench.rasa train                  # training time and peak RSS
    .venv/app/bin/python -m bench.rasa start                  # Rasa server start-up time
    .venv/app/bin/python -m bench.rasa oos                    # out-of-scope → abstain/handoff

Concurrency follows DESIGN ("How to benchmark concurrency"): every simulated
citizen waits for the reply, then "types" for a think time before the next
message; latencies are collected over a fixed window after a warm-up. Each
command prints a Markdown table and, with ``--json``, machine-readable rows.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import resource
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import httpx

from core.settings import get_settings

REPO = Path(__file__).resolve().parents[1]
RASA_URL = get_settings().rasa.public_url


def admin_params() -> dict[str, str]:
    """``?token=…`` for Rasa's HTTP API, which `yiwen up` locks (bot/rasa_server.py)."""
    return {"token": get_settings().rasa_auth_token()}


# Our own phrasings (not the evaluation set).
KNOWLEDGE_QUESTIONS = [
    "个转企有什么扶持政策",
    "个体户转成公司可以保留字号吗",
    "家庭农场怎么登记",
    "农民专业合作社可以投资公司吗",
    "营业执照丢了怎么补办",
    "农村闲置住宅可以做经营场所吗",
    "个体工商户有哪些税费优惠",
    "商标可以质押贷款吗",
]
PARSE_SENTENCES = [*KNOWLEDGE_QUESTIONS, "我要投诉", "转人工", "查进度", "你好", "我想吃火锅"]
# A complaint: opener, then answers the form asks for (the first turn activates it).
FORM_TURNS = [
    "我要投诉",
    "百佳超市",
    "新会区会城中心南路12号",
    "电饭煲",
    "上周五",
    "三百五",
    "用了两天就坏了，商家不给换",
    "退货",
    "陈大文",
    "13912345678",
]


@dataclass
class Row:
    what: str
    users: int
    n: int
    p50_ms: float
    p95_ms: float
    throughput: float

    def markdown(self) -> str:
        return (
            f"| {self.what} | {self.users} | {self.n} | {self.p50_ms:.0f} | "
            f"{self.p95_ms:.0f} | {self.throughput:.1f} |"
        )


def percentile(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    index = min(len(ordered) - 1, max(0, round(q * (len(ordered) - 1))))
    return ordered[index]


def summarise(what: str, users: int, latencies: list[float], seconds: float) -> Row:
    return Row(
        what=what,
        users=users,
        n=len(latencies),
        p50_ms=statistics.median(latencies) * 1000 if latencies else float("nan"),
        p95_ms=percentile(latencies, 0.95) * 1000,
        throughput=len(latencies) / seconds if seconds else 0.0,
    )


# ------------------------------------------------------------------------ parse
async def bench_parse(n: int) -> Row:
    async with httpx.AsyncClient(base_url=RASA_URL, timeout=60, params=admin_params()) as client:
        for text in PARSE_SENTENCES:  # warm-up
            (await client.post("/model/parse", json={"text": text})).raise_for_status()
        latencies = []
        started = time.perf_counter()
        for i in range(n):
            text = PARSE_SENTENCES[i % len(PARSE_SENTENCES)]
            t0 = time.perf_counter()
            (await client.post("/model/parse", json={"text": text})).raise_for_status()
            latencies.append(time.perf_counter() - t0)
        return summarise("/model/parse (sequential)", 1, latencies, time.perf_counter() - started)


# ------------------------------------------------------------------------ REST turns
async def _send(client: httpx.AsyncClient, sender: str, text: str) -> float:
    t0 = time.perf_counter()
    response = await client.post("/webhooks/rest/webhook", json={"sender": sender, "message": text})
    response.raise_for_status()
    # A turn that answers nothing is a failure (issue 14), not a fast turn: never time it.
    if not any(str(m.get("text") or "").strip() for m in response.json()):
        raise RuntimeError(f"empty reply to {text!r} ({sender})")
    return time.perf_counter() - t0


async def _citizen(
    kind: str,
    client: httpx.AsyncClient,
    think_s: float,
    record_from: float,
    stop_at: float,
    out: list[float],
) -> None:
    """One simulated citizen: knowledge questions, or complaint form turns, until stop_at."""
    rng = random.Random()
    await asyncio.sleep(rng.uniform(0, think_s))  # stagger the starts
    while time.perf_counter() < stop_at:
        sender = f"bench-{kind}-{uuid.uuid4().hex[:10]}"
        if kind == "knowledge":
            turns = [rng.choice(KNOWLEDGE_QUESTIONS) for _ in range(3)]
            measured = range(len(turns))
        else:
            turns = FORM_TURNS
            measured = range(1, len(turns))  # form turns after activation
        for i, text in enumerate(turns):
            if time.perf_counter() >= stop_at:
                return
            latency = await _send(client, sender, text)
            if i in measured and time.perf_counter() >= record_from:
                out.append(latency)
            await asyncio.sleep(rng.uniform(0.5 * think_s, 1.5 * think_s))
        if kind == "form":
            await _send(client, sender, "取消")


async def bench_turns(
    kind: str,
    users: int,
    think_s: float,
    warmup_s: float,
    window_s: float,
    base_url: str | None = None,
) -> Row:
    limits = httpx.Limits(max_connections=users + 5, max_keepalive_connections=users + 5)
    async with httpx.AsyncClient(
        base_url=base_url or RASA_URL, timeout=120, limits=limits
    ) as client:
        start = time.perf_counter()
        record_from = start + warmup_s
        stop_at = record_from + window_s
        latencies: list[float] = []
        think = think_s if users > 1 else 0.0
        await asyncio.gather(
            *(_citizen(kind, client, think, record_from, stop_at, latencies) for _ in range(users))
        )
        label = "knowledge turn" if kind == "knowledge" else "form turn"
        mode = "sequential" if users == 1 else f"{users} conversations, think {think_s:g} s"
        return summarise(f"REST {label} ({mode})", users, latencies, window_s)


# ------------------------------------------------------------------------ train / start
def bench_train() -> dict[str, Any]:
    """Train into a temporary folder (never touches bot/models) and time it."""
    rasa = REPO / ".venv" / "rasa" / "bin" / "rasa"
    with tempfile.TemporaryDirectory() as out:
        cmd = [
            str(rasa), "train", "--config", "config.yml", "--domain", "bot/domain.yml",
            "--data", "bot/data", "--out", out, "--fixed-model-name", "bench",
        ]  # fmt: skip
        # A cold run: Rasa's training cache (.rasa/cache) would otherwise restore
        # unchanged components and hide the real cost.
        env = {**os.environ, "RASA_MAX_CACHE_SIZE": "0", "PYTHONPATH": str(REPO)}
        t0 = time.perf_counter()
        subprocess.run(
            cmd, cwd=REPO, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
            env=env,
        )  # fmt: skip
        seconds = time.perf_counter() - t0
    peak_mb = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    return {"what": "rasa train", "seconds": round(seconds, 1), "peak_rss_mb": round(peak_mb)}


def wait_for_model(port: int, proc: subprocess.Popen[bytes]) -> None:
    """Until the ``rasa run`` on ``port`` has a model loaded (``/status`` names it; ``/``
    answers before that). Exits when the process dies first."""
    while True:
        if proc.poll() is not None:
            raise SystemExit("rasa run exited during start-up")
        try:
            ready = httpx.get(f"http://127.0.0.1:{port}/status", timeout=2)
            if ready.status_code == 200 and ready.json().get("model_file"):
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.5)


def bench_start(model: str, port: int) -> dict[str, Any]:
    """Start ``rasa run`` with the model and time until it answers, then stop it."""
    rasa = REPO / ".venv" / "rasa" / "bin" / "rasa"
    creds = Path(tempfile.mkdtemp()) / "credentials.yml"
    creds.write_text("rest:\n", encoding="utf-8")
    cmd = [
        str(rasa), "run", "--enable-api", "--port", str(port), "--interface", "127.0.0.1",
        "--model", model, "--endpoints", "bot/endpoints.yml", "--credentials", str(creds),
    ]  # fmt: skip
    t0 = time.perf_counter()
    proc = subprocess.Popen(cmd, cwd=REPO, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        wait_for_model(port, proc)
        seconds = time.perf_counter() - t0
    finally:
        proc.terminate()
        proc.wait(timeout=30)
    return {"what": "rasa run start-up (until /status answers)", "seconds": round(seconds, 1)}


# ------------------------------------------------------------------------ out of scope
OOS_PROBES = REPO / "tests" / "bot" / "data" / "oos_probes.yml"
DEV_SET = REPO.parent / "shared" / "eval" / "dev.jsonl"


def _unanswerable_dev_questions() -> list[str]:
    if not DEV_SET.exists():
        return []
    rows = [json.loads(line) for line in DEV_SET.read_text(encoding="utf-8").splitlines() if line]
    return [r["question"] for r in rows if not r.get("answerable", True)]


def bench_oos() -> dict[str, Any]:
    """Each probe in a fresh conversation must end in abstention or handoff, outside any form."""
    import yaml

    probes = yaml.safe_load(OOS_PROBES.read_text(encoding="utf-8"))
    sets = {
        "oos_probes": probes["probes"],
        "oos_heldout": probes.get("heldout_probes", []),
        "dev_unanswerable": _unanswerable_dev_questions(),
    }
    result: dict[str, Any] = {}
    with httpx.Client(base_url=RASA_URL, timeout=120) as client:
        for name, questions in sets.items():
            failures = []
            for question in questions:
                sender = f"bench-oos-{uuid.uuid4().hex[:10]}"
                client.post(
                    "/webhooks/rest/webhook", json={"sender": sender, "message": question}
                ).raise_for_status()
                tracker = client.get(
                    f"/conversations/{sender}/tracker", params=admin_params()
                ).json()
                slots = tracker.get("slots", {})
                in_form = bool((tracker.get("active_loop") or {}).get("name"))
                ok = not in_form and (slots.get("kb_abstained") or slots.get("handoff_requested"))
                if not ok:
                    intent = (tracker.get("latest_message") or {}).get("intent", {}).get("name")
                    failures.append({"question": question, "intent": intent, "in_form": in_form})
            total = len(questions)
            result[name] = {
                "n": total,
                "abstained_or_handoff": total - len(failures),
                "rate": round((total - len(failures)) / total, 3) if total else None,
                "failures": failures,
            }
    return result


def _print_rows(rows: list[Row], as_json: bool) -> None:
    if as_json:
        for row in rows:
            print(json.dumps(asdict(row), ensure_ascii=False))
        return
    print("| measurement | conversations | n | p50 ms | p95 ms | turns/s |")
    print("|---|---|---|---|---|---|")
    for row in rows:
        print(row.markdown())


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--json", action="store_true", help="print JSON lines")
    sub = parser.add_subparsers(dest="command", required=True)
    p = sub.add_parser("parse", help="/model/parse latency")
    p.add_argument("-n", type=int, default=200)
    t = sub.add_parser("turns", help="REST turn latency, knowledge and form")
    t.add_argument("--users", type=int, nargs="+", default=[1, 20])
    t.add_argument("--think", type=float, default=3.0, help="think time between messages (s)")
    t.add_argument("--warmup", type=float, default=10.0)
    t.add_argument("--window", type=float, default=60.0)
    t.add_argument("--kind", choices=["knowledge", "form", "both"], default="both")
    sub.add_parser("train", help="training time and peak RSS (temporary output)")
    s = sub.add_parser("start", help="Rasa server start-up time")
    s.add_argument("--model", default=None, help="model path (default: current hash)")
    s.add_argument("--port", type=int, default=5399)
    sub.add_parser("oos", help="out-of-scope probes and unanswerable dev questions")
    args = parser.parse_args(argv)

    if args.command == "parse":
        _print_rows([asyncio.run(bench_parse(args.n))], args.json)
    elif args.command == "turns":
        kinds = ["knowledge", "form"] if args.kind == "both" else [args.kind]
        rows = [
            asyncio.run(bench_turns(kind, users, args.think, args.warmup, args.window))
            for kind in kinds
            for users in args.users
        ]
        _print_rows(rows, args.json)
    elif args.command == "train":
        print(json.dumps(bench_train(), ensure_ascii=False))
    elif args.command == "start":
        sys.path.insert(0, str(REPO))
        from bot.train import model_path

        model = args.model or str(model_path().relative_to(REPO))
        print(json.dumps(bench_start(model, args.port), ensure_ascii=False))
    elif args.command == "oos":
        print(json.dumps(bench_oos(), ensure_ascii=False, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
