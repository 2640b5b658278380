"""The production topology, started for real: ``yiwen up --prod`` under supervisord.

Two Rasa replicas, two action servers, the app and nginx, on stores the test owns
(:mod:`tests.topology.stores`), so the failure tests may stop them. One topology per
module: starting it loads two Rasa models (about a minute).
"""

from __future__ import annotations

import asyncio
import json
import os
import random
import re
import signal
import subprocess
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.conftest import STACK_START_S, use_test_index
from tests.netutil import stable_ports
from tests.topology.stores import OwnPostgres, OwnRedis, available
from yiwen.topology import is_ready

REPO = Path(__file__).resolve().parents[2]
YIWEN = REPO / ".venv" / "app" / "bin" / "yiwen"
#: A turn that takes longer than this counts as failed (issue 14).
TURN_LIMIT_S = 10.0

# (conftest.py's own pytestmark would mark nothing: test_failover.py carries the marks.)


@dataclass
class Turn:
    status: int
    texts: list[str]
    seconds: float
    error: str = ""

    @property
    def failed(self) -> bool:
        empty = not any(t.strip() for t in self.texts)
        return bool(self.error) or self.status != 200 or empty or self.seconds > TURN_LIMIT_S


@dataclass
class Topology:
    env: dict[str, str]
    dir: Path
    public: str
    pg: OwnPostgres
    redis: OwnRedis
    proc: subprocess.Popen[bytes]
    log: Path
    turns: list[Turn] = field(default_factory=list)
    #: sender → the replica that answered it at the first try (from the access log).
    owners: dict[str, str] = field(default_factory=dict)

    # ------------------------------------------------------------------ operations
    def ps(self) -> list[dict[str, Any]]:
        out = subprocess.run(
            [str(YIWEN), "ps", "--json"], env=self.env, capture_output=True, text=True, timeout=60
        )
        assert out.returncode == 0, out.stderr
        return json.loads(out.stdout)

    def row(self, name: str) -> dict[str, Any]:
        return next(r for r in self.ps() if r["name"] == name)

    def ready(self, proc: dict[str, Any]) -> bool:
        """One process's own readiness check (what ``yiwen ps`` asks, without its start-up
        cost: a ``yiwen`` process per poll would take a core from the replicas loading)."""
        token = (self.dir / "data" / "secrets" / "rasa_auth_token").read_text().strip()
        return is_ready(proc, token, timeout=3)

    def wait_healthy(self, names: list[str] | None = None, seconds: float = 420) -> None:
        deadline = time.time() + seconds
        waiting: list[str] = []
        while time.time() < deadline:
            assert self.proc.poll() is None, self.log.read_text("utf-8", errors="replace")[-3000:]
            try:
                procs = self.plan()["procs"]
            except (OSError, ValueError):
                procs = []
            waiting = [
                p["name"]
                for p in procs
                if (names is None or p["name"] in names) and not self.ready(p)
            ]
            if procs and not waiting:
                rows = self.ps()  # and supervisord agrees: every program is running
                if all(r["healthy"] for r in rows if names is None or r["name"] in names):
                    return
            time.sleep(3)
        raise AssertionError(f"not healthy after {seconds} s: {waiting}\n{self.logs()}")

    def logs(self) -> str:
        parts = []
        for path in sorted((self.dir / "data" / "prod" / "logs").glob("*.log")):
            parts.append(f"--- {path.name}\n" + path.read_text("utf-8", errors="replace")[-1500:])
        return "\n".join(parts)

    def access_log(self) -> list[str]:
        path = self.dir / "data" / "prod" / "nginx" / "logs" / "access.log"
        return path.read_text("utf-8", errors="replace").splitlines()

    def kill(self, name: str, sig: int = signal.SIGKILL) -> int:
        pid = self.row(name)["pid"]
        assert pid, name
        os.kill(pid, sig)
        return pid

    def signal_group(self, name: str, sig: int) -> None:
        os.killpg(os.getpgid(self.row(name)["pid"]), sig)

    def port_of(self, name: str) -> int:
        return int(self.row(name)["port"])

    # ------------------------------------------------------------------ chat
    def say(self, sender: str, text: str, **metadata: str) -> Turn:
        return asyncio.run(self.asay(None, sender, text, metadata or None))

    async def asay(
        self,
        client: httpx.AsyncClient | None,
        sender: str,
        text: str,
        metadata: dict[str, str] | None = None,
    ) -> Turn:
        body: dict[str, Any] = {"sender": sender, "message": text}
        if metadata:
            body["metadata"] = metadata
        own = client is None
        client = client or httpx.AsyncClient(timeout=TURN_LIMIT_S + 5)
        started = time.perf_counter()
        try:
            r = await client.post(f"{self.public}/webhooks/rest/webhook", json=body)
            texts = [m.get("text", "") for m in r.json()] if r.content else []
            turn = Turn(r.status_code, texts, time.perf_counter() - started)
        except Exception as exc:  # a failed turn, counted by the tests
            turn = Turn(0, [], time.perf_counter() - started, repr(exc))
        finally:
            if own:
                await client.aclose()
        self.turns.append(turn)
        return turn

    def tracker(self, sender: str) -> dict[str, Any]:
        """The conversation as stored (admin API on loopback, any ready replica)."""
        token = (self.dir / "data" / "secrets" / "rasa_auth_token").read_text().strip()
        for proc in self.plan()["procs"]:
            if proc["kind"] != "rasa":
                continue
            try:
                r = httpx.get(
                    f"http://127.0.0.1:{proc['port']}/conversations/{sender}/tracker",
                    params={"token": token},
                    timeout=10,
                )
            except httpx.HTTPError:
                continue  # this replica is down or restarting
            if r.status_code == 200:
                return r.json()
        raise AssertionError("no Rasa replica is ready")

    def tickets_of(self, sender: str) -> int:
        import psycopg

        with psycopg.connect(self.pg.url("yiwen")) as conn:
            row = conn.execute("SELECT count(*) FROM tickets WHERE sender_id = %s", (sender,))
            return int(row.fetchone()[0])

    def replica_of(self, sender: str) -> str:
        """The Rasa replica nginx sends ``sender`` to (read back from the access log)."""
        before = len(self.access_log())
        turn = self.say(sender, "你好")
        assert not turn.failed, turn
        deadline = time.time() + 5  # nginx logs the request just after it answered
        while True:
            lines = [x for x in self.access_log()[before:] if "/webhooks/rest/webhook" in x]
            if lines or time.time() > deadline:
                break
            time.sleep(0.05)
        tried = re.findall(r"127\.0\.0\.1:(\d+)", lines[-1].split("upstream=")[1])
        name = next(p["name"] for p in self.plan()["procs"] if p["port"] == int(tried[-1]))
        if len(tried) == 1:
            self.owners[sender] = name
        return name

    def plan(self) -> dict[str, Any]:
        """``topology.json``: names, kinds and ports (they never change while it runs)."""
        return json.loads((self.dir / "data" / "prod" / "topology.json").read_text("utf-8"))


async def load(
    topo: Topology,
    senders: list[str],
    seconds: float,
    questions: list[str],
    think: float = 1.0,
) -> list[Turn]:
    """``len(senders)`` conversations asking ``questions`` in turn for ``seconds``."""
    stop_at = time.monotonic() + seconds
    done: list[Turn] = []

    async def citizen(sender: str, client: httpx.AsyncClient) -> None:
        i = random.randrange(len(questions))
        while time.monotonic() < stop_at:
            done.append(await topo.asay(client, sender, questions[i % len(questions)]))
            i += 1
            await asyncio.sleep(think * random.uniform(0.5, 1.5))

    async with httpx.AsyncClient(
        timeout=TURN_LIMIT_S + 5, limits=httpx.Limits(max_connections=100)
    ) as client:
        await asyncio.gather(*(citizen(s, client) for s in senders))
    return done


@pytest.fixture(scope="module")
def topology(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Topology]:
    why = available()
    if why:
        pytest.skip(why)
    if not (REPO / ".venv" / "rasa" / "bin" / "python").exists():
        pytest.skip("the Rasa environment (.venv/rasa) is missing")
    tmp = tmp_path_factory.mktemp("prod")
    tmp.chmod(0o755)
    data = tmp / "data"
    index_env = use_test_index(data)
    if index_env is None:
        pytest.skip("the test index (var/test-data, built by scripts/test.sh) is missing")
    pg, redis = OwnPostgres(tmp), OwnRedis(tmp)
    pg.init()
    pg.create_database("yiwen")
    redis.start()
    base = stable_ports(33)  # up to the metrics ports (yiwen.topology.plan)
    env = {k: v for k, v in os.environ.items() if not k.startswith(("YIWEN_", "SANIC_"))}
    env.update(
        YIWEN_DATA_DIR=str(data),
        **index_env,
        YIWEN_DATABASE_URL=pg.url("yiwen", "postgresql+psycopg"),
        YIWEN_RASA_TRACKER_STORE_URL=pg.url("yiwen_rasa"),
        YIWEN_RASA_LOCK_STORE_URL=redis.url(1),
        YIWEN_REDIS_URL=redis.url(0),
        YIWEN_PUBLIC_PORT=str(base),
        YIWEN_PORT=str(base + 1),
        YIWEN_RASA_PORT=str(base + 2),
        YIWEN_ACTION_PORT=str(base + 5),
        YIWEN_REPLICAS="2",
        YIWEN_APP_WORKERS="1",
        YIWEN_INDEX_POLL_SECONDS="2",
    )
    log = tmp / "up.log"
    proc = subprocess.Popen(
        [str(YIWEN), "up", "--prod"],
        cwd=REPO,
        env=env,
        stdout=log.open("wb"),
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    topo = Topology(env, tmp, f"http://127.0.0.1:{base}", pg, redis, proc, log)
    try:
        topo.wait_healthy(seconds=STACK_START_S)  # two model loads beside five other streams
        yield topo
    finally:
        if proc.poll() is None:
            proc.send_signal(signal.SIGTERM)
            try:
                proc.wait(timeout=60)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)
        redis.stop()
        pg.remove()
