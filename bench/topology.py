"""Benchmark of the production topology, through nginx on the public port.

    .venv/app/bin/python -m bench.topology            # 1 then 2 replicas, same run

Starts ``yiwen up --prod`` twice on this machine (its PostgreSQL and Redis, databases
``yiwen_bench*`` and Redis db 2/3, a data dir under ``var/bench-prod``), each time:
saturation (20 conversations, no think time, knowledge turns), latency at 20
conversations with 3 s think time, and the resident memory of every process of the
topology (``yiwen ps`` pids and their children). Prints one table per measurement.

    .venv/app/bin/python -m bench.topology --replicas 2 --rollout rasa

also rolls the Rasa replicas (``yiwen rollout``: each reloads its model, about a
minute) while 20 conversations talk, and counts the failed turns. Too slow for CI's
failure tests, which roll the action servers the same way.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import httpx

from bench.rasa import Row, bench_turns

REPO = Path(__file__).resolve().parents[1]
YIWEN = REPO / ".venv" / "app" / "bin" / "yiwen"


def _rss_mb(pid: int) -> float:
    """VmRSS of ``pid`` and all its descendants, MB."""
    total = 0.0
    todo = [pid]
    while todo:
        p = todo.pop()
        try:
            for line in Path(f"/proc/{p}/status").read_text().splitlines():
                if line.startswith("VmRSS:"):
                    total += int(line.split()[1]) / 1024
            children = Path(f"/proc/{p}/task/{p}/children").read_text().split()
        except OSError:
            continue
        todo += [int(c) for c in children]
    return total


def _cpu_s(pid: int, descendants: bool = True) -> float:
    """User + system CPU seconds of ``pid`` and (unless not asked) its live descendants."""
    tick = os.sysconf("SC_CLK_TCK")
    total = 0.0
    todo = [pid]
    while todo:
        p = todo.pop()
        try:
            fields = Path(f"/proc/{p}/stat").read_text().rsplit(")", 1)[1].split()
            total += (int(fields[11]) + int(fields[12])) / tick
            children = Path(f"/proc/{p}/task/{p}/children").read_text().split()
        except OSError:
            continue
        if descendants:
            todo += [int(c) for c in children]
    return total


def _cpu_by_process(rows: list[dict[str, Any]]) -> dict[str, float]:
    """CPU seconds so far of each topology process, the stores and this benchmark."""
    out = {r["name"]: _cpu_s(int(r["pid"])) for r in rows if r["pid"] and r["kind"] != "manager"}
    stores = {"postgres": 0.0, "redis-server": 0.0}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            text = stat.read_text()
        except OSError:
            continue
        comm = text[text.index("(") + 1 : text.rindex(")")]
        if comm.split(":")[0] in stores or comm in stores:
            fields = text.rsplit(")", 1)[1].split()
            key = "postgres" if comm.startswith("postgres") else "redis-server"
            stores[key] += (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    out.update(stores)
    # The client alone: the topology it started (`yiwen up --prod`) is its child.
    out["benchmark client"] = _cpu_s(os.getpid(), descendants=False)
    return out


def _ps(env: dict[str, str]) -> list[dict[str, Any]]:
    out = subprocess.run([str(YIWEN), "ps", "--json"], env=env, capture_output=True, text=True)
    return json.loads(out.stdout) if out.returncode == 0 else []


def _start(replicas: int, env: dict[str, str], log: Path) -> subprocess.Popen[bytes]:
    env = dict(env, YIWEN_REPLICAS=str(replicas))
    proc = subprocess.Popen(
        [str(YIWEN), "up", "--prod"],
        cwd=REPO,
        env=env,
        stdout=log.open("wb"),
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    deadline = time.time() + 600
    while time.time() < deadline:
        rows = _ps(env)
        if rows and all(r["healthy"] for r in rows):
            return proc
        if proc.poll() is not None:
            sys.exit(f"yiwen up --prod exited; see {log}")
        time.sleep(3)
    sys.exit(f"topology not healthy after 600 s; see {log}")


def _stop(proc: subprocess.Popen[bytes]) -> None:
    proc.send_signal(signal.SIGTERM)
    try:
        proc.wait(timeout=90)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)


#: A turn counts as failed if it errors, returns empty, or takes longer than 10 s (issue 14).
TURN_LIMIT_S = 10.0


async def _load_until(public: str, done: Any, users: int = 20, think: float = 3.0) -> list[Any]:
    """(status, seconds, empty) of every turn of ``users`` conversations until ``done()``."""
    from bench.rasa import KNOWLEDGE_QUESTIONS

    turns: list[tuple[int, float, bool]] = []

    async def citizen(i: int, client: httpx.AsyncClient) -> None:
        await asyncio.sleep(think * i / users)  # stagger the starts
        n = 0
        while not done():
            text = KNOWLEDGE_QUESTIONS[(i + n) % len(KNOWLEDGE_QUESTIONS)]
            t0 = time.perf_counter()
            try:
                r = await client.post(
                    "/webhooks/rest/webhook", json={"sender": f"roll-{i:03d}", "message": text}
                )
                empty = not any(str(m.get("text") or "").strip() for m in r.json())
                turns.append((r.status_code, time.perf_counter() - t0, empty))
            except Exception:  # a failed turn, counted below
                turns.append((0, time.perf_counter() - t0, True))
            n += 1
            await asyncio.sleep(think * (0.5 + (n % 3) / 2))

    async with httpx.AsyncClient(base_url=public, timeout=TURN_LIMIT_S + 5) as client:
        await asyncio.gather(*(citizen(i, client) for i in range(users)))
    return turns


def _rollout_under_load(kind: str, env: dict[str, str], public: str) -> str:
    """``yiwen rollout --kind KIND`` while 20 conversations (3 s think) talk: one table row."""
    result: dict[str, Any] = {}

    def roll() -> None:
        time.sleep(5)
        t0 = time.perf_counter()
        result["run"] = subprocess.run(
            [str(YIWEN), "rollout", "--kind", kind], env=env, capture_output=True, text=True
        )
        result["seconds"] = time.perf_counter() - t0
        time.sleep(5)  # and a few turns after the last replica is back

    import threading

    roller = threading.Thread(target=roll)
    roller.start()
    turns = asyncio.run(_load_until(public, lambda: not roller.is_alive()))
    roller.join()
    run = result["run"]
    if run.returncode != 0:
        sys.exit(f"yiwen rollout --kind {kind} failed:\n{run.stdout}{run.stderr}")
    failed = [t for t in turns if t[0] != 200 or t[2] or t[1] > TURN_LIMIT_S]
    secs = sorted(t[1] for t in turns)
    p95 = secs[int(0.95 * (len(secs) - 1))] * 1000 if secs else 0.0
    return (
        f"| `yiwen rollout --kind {kind}` under 20 conversations, 3 s think "
        f"| {result['seconds']:.0f} | {len(turns)} | {len(failed)} | {p95:.0f} "
        f"| {max(secs) * 1000:.0f} |"
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--replicas", type=int, nargs="+", default=[1, 2])
    parser.add_argument("--window", type=float, default=30.0)
    parser.add_argument("--port", type=int, default=18080)
    parser.add_argument(
        "--rollout",
        choices=["rasa", "actions"],
        help="after the measurements, roll the replicas of this kind under load (last size)",
    )
    args = parser.parse_args(argv)
    data = REPO / "var" / "bench-prod"
    data.mkdir(parents=True, exist_ok=True)
    env = dict(os.environ)
    # The index `make run` built (var/index), else the test suite's over the core corpus.
    index = REPO / "var" / "index"
    if not index.exists():
        index = REPO / "var" / "test-data" / "index"
        env["YIWEN_CORPUS_DIRS"] = json.dumps([str(REPO.parent / "shared" / "corpus" / "core")])
    if not (data / "index").exists():
        (data / "index").symlink_to(index.resolve(), target_is_directory=True)
    env.update(
        YIWEN_DATA_DIR=str(data),
        YIWEN_DATABASE_URL="postgresql+psycopg://postgres@127.0.0.1:5432/yiwen_bench",
        YIWEN_RASA_TRACKER_STORE_URL="postgresql://postgres@127.0.0.1:5432/yiwen_bench_rasa",
        YIWEN_RASA_LOCK_STORE_URL="redis://127.0.0.1:6379/3",
        YIWEN_REDIS_URL="redis://127.0.0.1:6379/2",
        YIWEN_PUBLIC_PORT=str(args.port),
        YIWEN_PORT=str(args.port + 1),
        YIWEN_RASA_PORT=str(args.port + 2),
        YIWEN_ACTION_PORT=str(args.port + 8),
    )
    import psycopg

    with psycopg.connect("postgresql://postgres@127.0.0.1:5432/postgres", autocommit=True) as c:
        if not c.execute("SELECT 1 FROM pg_database WHERE datname='yiwen_bench'").fetchone():
            c.execute("CREATE DATABASE yiwen_bench")
    public = f"http://127.0.0.1:{args.port}"
    turns: list[Row] = []
    memory: list[tuple[int, str, str, float]] = []
    cpu: list[tuple[int, str, float]] = []
    rollouts: list[str] = []
    for n in args.replicas:
        log = data / f"up-{n}.log"
        print(f"==> {n} 个副本：启动中（日志 {log}）", flush=True)
        proc = _start(n, env, log)
        try:
            httpx.get(f"{public}/healthz", timeout=10).raise_for_status()
            for users, think in ((20, 0.0), (20, 3.0)):
                before = _cpu_by_process(_ps(env))
                row = asyncio.run(
                    bench_turns("knowledge", users, think, 10.0, args.window, base_url=public)
                )
                after = _cpu_by_process(_ps(env))
                row.what = f"{n} replica(s): {row.what}"
                turns.append(row)
                print(row.markdown(), flush=True)
                if think == 0.0:
                    # Warm-up turns are not in row.n: CPU per turn over every turn sent.
                    sent = row.n * (args.window + 10.0) / args.window
                    for name in after:
                        ms = 1000 * (after[name] - before.get(name, 0.0)) / max(1.0, sent)
                        cpu.append((n, name, ms))
            for r in _ps(env):
                if r["pid"]:
                    memory.append((n, r["name"], r["kind"], _rss_mb(int(r["pid"]))))
            if args.rollout and n == args.replicas[-1]:
                print(f"==> {n} 个副本：负载下滚动更新 {args.rollout}", flush=True)
                rollouts.append(_rollout_under_load(args.rollout, env, public))
                print(rollouts[-1], flush=True)
        finally:
            _stop(proc)
    print("\n| measurement (through nginx) | conversations | n | p50 ms | p95 ms | turns/s |")
    print("|---|---|---|---|---|---|")
    for row in turns:
        print(row.markdown())
    print("\n| replicas | process | CPU ms per turn at saturation (approx.) |")
    print("|---|---|---|")
    for n, name, ms in cpu:
        print(f"| {n} | {name} | {ms:.1f} |")
    print("\n| replicas | process | kind | RSS MB (with children) |")
    print("|---|---|---|---|")
    for n, name, kind, mb in memory:
        print(f"| {n} | {name} | {kind} | {mb:.0f} |")
    for n in args.replicas:
        total = sum(mb for m, _, kind, mb in memory if m == n and kind != "manager")
        print(f"| {n} | **total** | | {total:.0f} |")
    if rollouts:
        print("\n| rolling restart | seconds | turns | failed | p95 ms | max ms |")
        print("|---|---|---|---|---|---|")
        print("\n".join(rollouts))
    shutil.rmtree(data / "prod", ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
