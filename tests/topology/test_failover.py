"""The production topology under load and failure (issue 14, "Done when").

One topology for the module (``conftest.topology``), the tests in order: what runs and
what nginx lets through, then each failure. Every failure test ends with the killed
process restarted by supervisord and healthy again, so the next test starts whole.
"""

from __future__ import annotations

import asyncio
import json
import re
import signal
import threading
import time
from pathlib import Path
from typing import Any

import httpx
import pytest
import redis

from core.replies import strings
from tests.conftest import STACK_START_S
from tests.topology.conftest import YIWEN, Topology, Turn, load

pytestmark = [pytest.mark.rasa, pytest.mark.slow]

QUESTIONS = [
    "个转企有什么扶持政策",
    "家庭农场怎么登记",
    "营业执照丢了怎么补办",
    "农民专业合作社可以投资公司吗",
    "个体户转成公司可以保留字号吗",
]
#: A complaint up to the point where the form asks for the complainant's name.
FORM_OPENING = [
    "我在新会区的好又多超市买到过期牛奶，花了35元",
    "会城中心南路12号",
    "3月5号",
    "我要退款",
]
FORM_REST = ["陈大文", "13912345678", "蓬江区白沙大道西1号", "有小票和照片", "同意"]


def _failed_share(turns: list[Turn]) -> float:
    return sum(t.failed for t in turns) / max(1, len(turns))


def _senders_on(topo: Topology, replica: str, n: int, prefix: str) -> list[str]:
    found: list[str] = []
    i = 0
    while len(found) < n:
        sender = f"{prefix}-{i:04d}-web"
        if topo.replica_of(sender) == replica:
            found.append(sender)
        i += 1
        assert i < 200, "the hash sends nothing to " + replica
    return found


def _slots(topo: Topology, sender: str) -> dict:
    return topo.tracker(sender)["slots"]


def test_processes_ports_and_what_nginx_lets_through(topology: Topology) -> None:
    rows = topology.ps()
    kinds = sorted(r["kind"] for r in rows)
    assert kinds == ["actions", "actions", "app", "manager", "nginx", "rasa", "rasa"], rows
    assert all(r["healthy"] for r in rows), rows
    assert all(r["restarts"] == 0 for r in rows), rows
    for r in rows:  # the server itself, not a wrapper
        cmdline = Path(f"/proc/{r['pid']}/cmdline").read_bytes().replace(b"\0", b" ")
        marker = {
            "rasa": b"bot.rasa_server",
            "actions": b"rasa_sdk",
            "app": b"serve",
            "nginx": b"nginx",
            "manager": b"supervisord",
        }[r["kind"]]
        assert marker in cmdline, (r, cmdline)
    public = topology.public
    health = httpx.get(f"{public}/healthz", timeout=10).json()
    assert health["status"] == "ok" and all(health["replicas"].values()), health
    # Rasa's admin API, the app's API docs and metrics never leave the machine.
    for path in ("/status", "/conversations/x/tracker", "/model/parse", "/metrics", "/docs", "/"):
        assert httpx.get(public + path, timeout=10).status_code == 404, path
    assert httpx.get(f"{public}/widget/config.json", timeout=10).status_code == 200
    assert httpx.get(f"{public}/staff", timeout=10).status_code == 200
    # One sender, one replica; and both replicas take conversations.
    owners = {s: topology.replica_of(s) for s in (f"route-{i:03d}-web" for i in range(12))}
    assert set(owners.values()) == {"rasa-1", "rasa-2"}, owners
    for sender, owner in list(owners.items())[:4]:
        assert topology.replica_of(sender) == owner


def test_killing_a_rasa_replica_under_load_keeps_conversations(topology: Topology) -> None:
    victim = "rasa-1"
    forms = _senders_on(topology, victim, 3, "form-a")
    for sender in forms:  # half-filled complaints on the replica about to die
        for text in FORM_OPENING:
            assert not topology.say(sender, text).failed
    before = {s: _slots(topology, s) for s in forms}
    assert all(b["respondent_name"] for b in before.values()), before
    senders = [f"load-a-{i:03d}-web" for i in range(20)]
    old_pid = topology.row(victim)["pid"]
    timer = threading.Timer(4.0, topology.kill, args=(victim,))
    timer.start()
    # The failover lasts until the restarted replica has loaded its model (a minute or
    # more); the share is taken over 45 s of it. What can fail is the few turns in
    # flight on the victim: each waits out its lock ticket (5 s) on the other replica,
    # which on CI beside five other stacks took 2–5 s a turn, so one may pass 10 s.
    # Over a 20 s window one such turn was already 1.06 % of 94 (CI, 2026-12-07).
    turns = asyncio.run(load(topology, senders, 45.0, QUESTIONS, think=3.0))
    timer.join()
    assert _failed_share(turns) <= 0.01, [t for t in turns if t.failed]
    assert len(turns) >= 100, len(turns)  # 20 conversations, 3 s think, 45 s
    # Each half-filled complaint continues on the surviving replica, slots intact.
    for sender in forms:
        turn = topology.say(sender, FORM_REST[0])
        assert not turn.failed, turn
        slots = _slots(topology, sender)
        assert slots["respondent_name"] == before[sender]["respondent_name"], slots
        assert slots["complainant_name"] == "陈大文", slots
    # supervisord restarts the replica; once its model is loaded it takes traffic again.
    # The waits below are limits for a loaded slow machine, not costs (tests/conftest.py).
    topology.wait_healthy([victim], seconds=STACK_START_S)
    row = topology.row(victim)
    assert row["pid"] != old_pid and row["restarts"] >= 1, row
    assert topology.replica_of(forms[0]) == victim
    for sender in forms:  # and finishes the complaints: one ticket each
        for text in FORM_REST[1:]:
            assert not topology.say(sender, text).failed
        assert not topology.say(sender, "确认提交").failed
        assert topology.tickets_of(sender) == 1, sender


def test_killing_an_action_server_under_load(topology: Topology) -> None:
    victim = "actions-2"
    old_pid = topology.row(victim)["pid"]
    senders = [f"load-b-{i:03d}-web" for i in range(20)]
    timer = threading.Timer(3.0, topology.kill, args=(victim,))
    timer.start()
    turns = asyncio.run(load(topology, senders, 15.0, QUESTIONS, think=3.0))
    timer.join()
    assert _failed_share(turns) <= 0.01, [t for t in turns if t.failed]
    topology.wait_healthy([victim], seconds=STACK_START_S)
    assert topology.row(victim)["pid"] != old_pid


def test_rolling_restart_drops_no_turn(topology: Topology) -> None:
    """`yiwen rollout` restarts the replicas of a kind one at a time, the next only once
    the previous is ready again. Run here on the action servers (seconds each, so CI can
    afford it under load); a new Rasa model goes the same way (`--kind rasa`, the
    default), one model load per replica."""
    import subprocess

    names = ["actions-1", "actions-2"]
    old = {name: topology.row(name)["pid"] for name in names}
    done: dict[str, Any] = {}

    def roll() -> None:
        done["run"] = subprocess.run(
            [str(YIWEN), "rollout", "--kind", "actions"],
            env=topology.env,
            capture_output=True,
            text=True,
            timeout=STACK_START_S,
        )

    roller = threading.Timer(2.0, roll)
    roller.start()
    senders = [f"roll-{i:03d}-web" for i in range(20)]
    turns = asyncio.run(load(topology, senders, 25.0, QUESTIONS, think=3.0))
    roller.join()
    run = done["run"]
    assert run.returncode == 0, run.stdout + run.stderr
    assert _failed_share(turns) == 0, [t for t in turns if t.failed]
    topology.wait_healthy(names, seconds=STACK_START_S)
    for name in names:
        assert topology.row(name)["pid"] != old[name], name


NEW_AMOUNT = "3.7万元"  # in no other document
NEW_TITLE = "江门市个体工商户数字化转型奖励试行办法"


def _notice_docx() -> bytes:
    import io

    import docx

    doc = docx.Document()
    doc.add_heading(NEW_TITLE, level=1)
    doc.add_paragraph("江门市市场监督管理局 2026年11月20日")
    doc.add_paragraph("第一条 为支持个体工商户数字化转型，制定本办法。")
    doc.add_paragraph(
        f"第二条 个体工商户完成数字化收银和网店改造的，一次性给予数字化转型奖励{NEW_AMOUNT}。"
    )
    doc.add_paragraph("第三条 本办法自2026年12月1日起施行。")
    buf = io.BytesIO()
    doc.save(buf)
    return buf.getvalue()


def _metric(port: int, name: str) -> float | None:
    text = httpx.get(f"http://127.0.0.1:{port}/metrics", timeout=5).text
    for line in text.splitlines():
        if line.startswith(name + " ") or line.startswith(name + "{"):
            return float(line.rsplit(" ", 1)[1])
    return None


def test_an_uploaded_notice_reaches_every_replica_under_load(topology: Topology) -> None:
    """Staff console upload → index job → every action server swaps, no turn fails."""
    import subprocess

    token = subprocess.run(
        [str(YIWEN), "tokens", "create", "--role", "editor", "--name", "clerk"],
        env=topology.env, capture_output=True, text=True, check=True,
    ).stdout.strip()  # fmt: skip
    headers = {"Authorization": f"Bearer {token}"}
    question = "个体户数字化转型奖励多少钱"
    senders = {r: _senders_on(topology, r, 1, f"notice-{r}")[0] for r in ("rasa-1", "rasa-2")}
    before = [_metric(p["metrics_port"], "yiwen_index_version") for p in _actions(topology)]
    restarts = {r["name"]: r["restarts"] for r in topology.ps()}
    load_senders = [f"load-c-{i:03d}-web" for i in range(20)]
    result: dict[str, Any] = {}

    def upload_and_wait() -> None:
        time.sleep(2)
        r = httpx.post(
            f"{topology.public}/api/staff/documents",
            headers=headers,
            files={"file": ("notice.docx", _notice_docx())},
            timeout=60,
        )
        assert r.status_code == 202, r.text
        job, started, seen = r.json()["job_id"], time.time(), []
        while time.time() - started < 120:
            state = httpx.get(
                f"{topology.public}/api/staff/jobs/{job}", headers=headers, timeout=10
            ).json()
            seen.append(state["progress"])
            if state["state"] in ("done", "failed"):
                break
            time.sleep(0.5)
        result.update(state=state, progress=seen, done_at=time.time())

    t = threading.Thread(target=upload_and_wait)
    t.start()
    turns = asyncio.run(load(topology, load_senders, 25.0, QUESTIONS, think=3.0))
    t.join()
    assert result["state"]["state"] == "done", result
    assert max(result["progress"]) == 1.0 and len(set(result["progress"])) > 1, result
    assert _failed_share(turns) == 0, [t for t in turns if t.failed]
    # Within 60 s of the job, every replica answers with the notice and its citation.
    deadline = result["done_at"] + 60
    pending = dict(senders)
    while pending and time.time() < deadline:
        for replica, sender in list(pending.items()):
            text = "\n".join(topology.say(sender, question).texts)
            if NEW_AMOUNT in text and NEW_TITLE in text:
                del pending[replica]
        time.sleep(1)
    assert not pending, pending
    after = [_metric(p["metrics_port"], "yiwen_index_version") for p in _actions(topology)]
    assert all(a and b and a > b for a, b in zip(after, before)), (before, after)
    assert {r["name"]: r["restarts"] for r in topology.ps()} == restarts  # nothing restarted


def _actions(topology: Topology) -> list[dict[str, Any]]:
    plan = json.loads((topology.dir / "data" / "prod" / "topology.json").read_text())
    return [p for p in plan["procs"] if p["kind"] == "actions"]


def test_replica_dies_while_the_submit_action_is_in_flight(topology: Topology) -> None:
    sender = _senders_on(topology, "rasa-2", 1, "inflight")[0]
    for text in FORM_OPENING + FORM_REST:
        assert not topology.say(sender, text).failed, text
    sent_before = sum(e["event"] == "user" for e in topology.tracker(sender)["events"])
    # Hold the ticket API still so the submission is in flight when the replica dies.
    topology.signal_group("app", signal.SIGSTOP)
    result: list[Turn] = []
    t = threading.Thread(target=lambda: result.append(topology.say(sender, "确认提交")))
    t.start()
    time.sleep(1.0)
    topology.kill("rasa-2")
    time.sleep(0.5)
    topology.signal_group("app", signal.SIGCONT)
    t.join(timeout=30)
    # The reply may take longer than an ordinary turn (the ticket API was held, and the
    # retry waits for the dead replica's lock ticket to expire), but it comes: the ticket
    # number, or the LOCAL reference of a submission kept in the outbox.
    assert result and result[0].status == 200 and result[0].texts, result
    assert re.search(r"JM\d{4}-\d{6}|LOCAL-", "\n".join(result[0].texts)), result
    deadline = time.time() + 60  # an outbox item is retried within 20 s
    while topology.tickets_of(sender) == 0 and time.time() < deadline:
        time.sleep(1)
    time.sleep(3)
    assert topology.tickets_of(sender) == 1
    events = topology.tracker(sender)["events"]
    users = [e["text"] for e in events if e["event"] == "user"]
    assert len(users) == sent_before + 1 and users[-1] == "确认提交", users
    r = redis.Redis.from_url(topology.redis.url(1))
    deadline = time.time() + 15
    while r.keys("*lock*") and time.time() < deadline:
        time.sleep(0.5)
    assert r.keys("*lock*") == []
    # rasa-2 reloads its model in the background; the tests after this one need only
    # one replica (nginx hands rasa-2's conversations to rasa-1 meanwhile).


def _unavailable_reply(turn: Turn) -> None:
    """A store outage: 503 and an apology, never an empty reply: the replica's own (nothing
    was kept, send again), or nginx's when the last replica it tried was down."""
    unavailable = strings()["unavailable"]
    assert turn.status == 503, turn
    assert turn.texts in ([unavailable["stores"]], [unavailable["busy"]]), turn


@pytest.mark.parametrize(
    ("store", "field", "opening"),
    [("pg", "database", FORM_OPENING), ("redis", "redis", QUESTIONS)],
    ids=["postgres", "redis"],
)
def test_a_store_outage_is_said_and_recovers(
    topology: Topology, store: str, field: str, opening: list[str]
) -> None:
    """The tracker store (PostgreSQL) or the lock store (Redis) goes away: the citizen
    gets the polite apology and /healthz says which store, never a new conversation in
    memory; once it is back, the same conversation goes on (a form keeps its slots)."""
    sender = f"outage-{store}-0001-web"
    assert not topology.say(sender, opening[0]).failed
    server = getattr(topology, store)
    server.stop()
    try:
        _unavailable_reply(topology.say(sender, opening[1]))
        health = httpx.get(f"{topology.public}/healthz", timeout=15)
        assert health.status_code == 503 and health.json()[field] == "unavailable"
    finally:
        server.start()
    deadline = time.time() + 30
    turn = topology.say(sender, opening[1])
    while turn.status == 503 and time.time() < deadline:
        time.sleep(1)
        turn = topology.say(sender, opening[1])
    assert not turn.failed, turn
    assert httpx.get(f"{topology.public}/healthz", timeout=15).status_code == 200
    if opening is FORM_OPENING:
        slots = _slots(topology, sender)  # the form went on: no new conversation in memory
        assert slots["respondent_name"] and slots["respondent_address"], slots


def test_a_replica_with_a_broken_model_gets_no_traffic(topology: Topology) -> None:
    """Last: rasa-2 is replaced by a process with a broken model and not restored."""
    import subprocess
    import xmlrpc.client

    from supervisor.xmlrpc import SupervisorTransport

    # rasa-2 may still be reloading (killed above): its senders as first seen.
    senders = [s for s, owner in topology.owners.items() if owner == "rasa-2"][:4]
    assert len(senders) >= 2, topology.owners
    prod = topology.dir / "data" / "prod"
    sock = f"unix://{prod / 'supervisor.sock'}"
    server = xmlrpc.client.ServerProxy(
        "http://127.0.0.1", transport=SupervisorTransport(None, None, serverurl=sock)
    )
    port = topology.port_of("rasa-2")
    try:
        server.supervisor.stopProcess("rasa-2")
    except xmlrpc.client.Fault:  # already stopped or between restarts
        pass
    broken = topology.dir / "broken.tar.gz"
    broken.write_bytes(b"this is not a model")
    repo = Path(__file__).resolve().parents[2]
    log = (topology.dir / "broken-rasa.log").open("wb")
    proc = subprocess.Popen(
        [str(repo / ".venv/rasa/bin/python"), "-m", "bot.rasa_server", "run", "--enable-api",
         "--interface", "127.0.0.1", "--port", str(port), "--model", str(broken),
         "--endpoints", str(prod / "endpoints.yml"), "--credentials", "bot/credentials.yml"],
        cwd=repo, env=dict(topology.env, PYTHONPATH=str(repo)), stdout=log,
        stderr=subprocess.STDOUT,
    )  # fmt: skip
    try:
        deadline = time.time() + 180
        while time.time() < deadline and proc.poll() is None:
            try:
                httpx.get(f"http://127.0.0.1:{port}/", timeout=2)
                break
            except httpx.HTTPError:
                time.sleep(1)
        before = len(topology.access_log())
        turns = [topology.say(s, q) for s in senders for q in QUESTIONS[:3]]
        assert not [t for t in turns if t.failed], turns
        answered_by = [
            line.split("upstream=")[1].split()[-1]
            for line in topology.access_log()[before:]
            if "/webhooks/rest/webhook" in line
        ]
        assert answered_by and all(f":{port}" not in a for a in answered_by), answered_by
        health = httpx.get(f"{topology.public}/healthz", timeout=15).json()
        assert health["replicas"]["rasa-2"] is False and health["replicas"]["rasa-1"], health
    finally:
        proc.kill()
        proc.wait(timeout=30)
