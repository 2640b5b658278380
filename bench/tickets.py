"""Ticket service benchmark: POST /api/tickets throughput and latency under concurrency.

Starts a real uvicorn server (one worker, ``--ws none``) per database, warms it up, then
runs a closed loop: N clients, each submitting a new complaint as soon as its previous one
is answered, for a fixed time. Prints a markdown table.

    .venv/app/bin/python -m bench.tickets                     # SQLite and PostgreSQL
    .venv/app/bin/python -m bench.tickets --clients 50 --seconds 20 --databases sqlite

PostgreSQL comes from ``YIWEN_TEST_POSTGRES_URL`` (default: the local test server); a
throw-away database ``yiwen_b_<random>`` is created and dropped.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import secrets
import subprocess
import sys
import tempfile
import time
import uuid
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from bench.common import free_port, machine, pct

REPO = Path(__file__).resolve().parents[1]
DEFAULT_PG = "postgresql+psycopg://postgres@127.0.0.1:5432/test"


def _body(n: int) -> dict[str, Any]:
    return {
        "kind": "complaint",
        "complainant": {
            "name": "测试用户",
            "phone": "13912345678",
            "address": "江门市蓬江区某路1号",
        },
        "respondent": {"name": f"某超市{n}", "address": "江门市新会区会城街道今洲路12号"},
        "demand": "退款",
        "facts": "购买的牛奶已过保质期，商家拒绝退款。" * 3,
        "amount": "35.00",
        "product": "牛奶",
        "incident_date": "2026-11-01",
        "evidence": ["wx-media-1"],
        "channel": "bench",
        "sender_id": f"bench-{n % 97}",
    }


@contextmanager
def _postgres_database(admin_url: str) -> Any:
    admin = create_engine(admin_url, isolation_level="AUTOCOMMIT")
    name = f"yiwen_b_{secrets.token_hex(4)}"
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield make_url(admin_url).set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


@contextmanager
def _server(database_url: str, log: Path) -> Any:
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("YIWEN_")}
    env.update({"YIWEN_DATABASE_URL": database_url, "PYTHONPATH": str(REPO)})
    with log.open("wb") as out:
        proc = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "uvicorn",
                "tickets.main:create_app",
                "--factory",
                "--port",
                str(port),
                "--ws",
                "none",
                "--no-access-log",
                "--log-level",
                "warning",
            ],
            cwd=REPO,
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 180
        while True:
            if proc.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"server did not start:\n{log.read_text()[-2000:]}")
            try:
                if httpx.get(f"{base}/healthz", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            time.sleep(0.2)
        yield base, proc.pid
    finally:
        proc.terminate()
        proc.wait(timeout=30)


def _cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    ticks = os.sysconf("SC_CLK_TCK")
    return (int(fields[11]) + int(fields[12])) / ticks


@dataclass
class Result:
    database: str
    clients: int
    seconds: float
    ok: int
    errors: int
    latencies_ms: list[float]
    server_cpu_s: float

    @property
    def throughput(self) -> float:
        return self.ok / self.seconds


async def _load(base: str, clients: int, seconds: float) -> tuple[int, int, list[float], float]:
    latencies: list[float] = []
    errors = 0
    ok = 0
    counter = 0
    stop_at = time.monotonic() + seconds
    limits = httpx.Limits(max_connections=clients, max_keepalive_connections=clients)
    async with httpx.AsyncClient(base_url=base, limits=limits, timeout=60) as client:

        async def worker() -> None:
            nonlocal errors, ok, counter
            while time.monotonic() < stop_at:
                counter += 1
                body = _body(counter)
                started = time.perf_counter()
                try:
                    response = await client.post(
                        "/api/tickets", json=body, headers={"Idempotency-Key": uuid.uuid4().hex}
                    )
                    good = response.status_code == 201
                except httpx.HTTPError:
                    good = False
                elapsed = (time.perf_counter() - started) * 1000
                if good:
                    ok += 1
                    latencies.append(elapsed)
                else:
                    errors += 1

        began = time.monotonic()
        await asyncio.gather(*(worker() for _ in range(clients)))
        return ok, errors, latencies, time.monotonic() - began


def run(database: str, url: str, clients: int, seconds: float, workdir: Path) -> Result:
    with _server(url, workdir / f"{database}.log") as (base, pid):
        asyncio.run(_load(base, min(clients, 10), 3))  # warm-up
        cpu_before = _cpu_seconds(pid)
        ok, errors, latencies, elapsed = asyncio.run(_load(base, clients, seconds))
        cpu = _cpu_seconds(pid) - cpu_before
    return Result(database, clients, elapsed, ok, errors, latencies, cpu)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--clients", type=int, default=50)
    parser.add_argument("--seconds", type=float, default=20)
    parser.add_argument("--databases", default="sqlite,postgres")
    parser.add_argument(
        "--postgres-url", default=os.environ.get("YIWEN_TEST_POSTGRES_URL", DEFAULT_PG)
    )
    args = parser.parse_args(argv)
    results: list[Result] = []
    with tempfile.TemporaryDirectory(prefix="yiwen-bench-") as tmp, ExitStack() as stack:
        workdir = Path(tmp)
        for database in args.databases.split(","):
            if database == "sqlite":
                url = f"sqlite:///{workdir / 'bench.db'}"
            elif database == "postgres":
                url = stack.enter_context(_postgres_database(args.postgres_url))
            else:
                parser.error(f"unknown database {database!r}")
            print(f"running {database} …", file=sys.stderr)
            results.append(run(database, url, args.clients, args.seconds, workdir))
    load = os.getloadavg()[0]
    print(
        f"\nPOST /api/tickets, {args.clients} concurrent clients, closed loop, "
        f"{args.seconds:.0f} s per database, one uvicorn worker."
    )
    print(f"Machine: {machine()}; 1-min load average at the end: {load:.1f}.\n")
    print(
        "| database | clients | tickets | errors | throughput (req/s) | p50 (ms) | p95 (ms) "
        "| p99 (ms) | server CPU per request (ms) |"
    )
    print("|---|---:|---:|---:|---:|---:|---:|---:|---:|")
    for r in results:
        per_request = r.server_cpu_s / max(r.ok, 1) * 1000
        print(
            f"| {r.database} | {r.clients} | {r.ok} | {r.errors} | {r.throughput:.0f} "
            f"| {pct(r.latencies_ms, 50):.0f} | {pct(r.latencies_ms, 95):.0f} "
            f"| {pct(r.latencies_ms, 99):.0f} | {per_request:.1f} |"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
