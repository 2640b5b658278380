"""``make run-prod`` and ``yiwen ps``: run the production topology under supervisord.

:mod:`yiwen.topology` plans the processes and writes the configuration; this module
checks what the profile needs (nginx, the stores, a trained model), starts supervisord
in the foreground, waits until the public port answers, prints where everything is, and
stops the whole tree on Ctrl-C or SIGTERM. ``yiwen ps`` reads supervisord's XML-RPC
socket and each process's own readiness check.
"""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import time
import xmlrpc.client
from pathlib import Path
from typing import Any

from core.settings import REPO_ROOT, child_environment, get_settings
from yiwen import topology
from yiwen.supervisor import ensure_service_secrets

SETUP_NGINX = REPO_ROOT / "scripts" / "setup-nginx.sh"


def _problems() -> list[str]:
    """What the profile lacks, each with its fix (Chinese, shown to the operator)."""
    s = get_settings()
    found = []
    if not s.rasa.tracker_store_url.strip():
        found.append(
            "未设置 YIWEN_RASA_TRACKER_STORE_URL：多个 Rasa 副本必须共用 SQL 对话存储，"
            "例如 postgresql://postgres@127.0.0.1:5432/yiwen_rasa"
        )
    if not s.rasa.lock_store_url.strip().startswith(("redis://", "rediss://")):
        found.append(
            "未设置 YIWEN_RASA_LOCK_STORE_URL：多个 Rasa 副本必须共用 Redis 锁，"
            "例如 redis://127.0.0.1:6379/1"
        )
    from bot.train import model_path

    try:
        model_path(REPO_ROOT)
    except Exception as exc:  # no trained model yet
        found.append(f"没有训练好的 Rasa 模型（{exc}）：先运行 make model")
    return found


def _supervisor(p: dict[str, Any]) -> Any:
    from supervisor.xmlrpc import SupervisorTransport

    transport = SupervisorTransport(None, None, serverurl="unix://" + p["supervisor_socket"])
    return xmlrpc.client.ServerProxy("http://127.0.0.1", transport=transport)


def _spawn_counts(log: Path) -> dict[str, int]:
    """Spawns per program since supervisord last started (its log is the only record)."""
    counts: dict[str, int] = {}
    try:
        text = log.read_text("utf-8", errors="replace")
    except OSError:
        return counts
    start = text.rfind("supervisord started with pid")
    for name in re.findall(r"spawned: '([^']+)' with pid", text[max(start, 0) :]):
        counts[name] = counts.get(name, 0) + 1
    return counts


def process_table() -> list[dict[str, Any]] | None:
    """One row per process of the running topology, or None when it is not running."""
    p = topology.load_public()
    if p is None or not Path(p["supervisor_socket"]).exists():
        return None
    server = _supervisor(p)
    try:
        infos = {i["name"]: i for i in server.supervisor.getAllProcessInfo()}
        manager_pid = server.supervisor.getPID()
    except (OSError, xmlrpc.client.Error):
        return None
    token = get_settings().rasa_auth_token()
    spawns = _spawn_counts(Path(p["supervisor_log"]))
    rows: list[dict[str, Any]] = []
    for proc in p["procs"]:
        info = infos.get(proc["name"], {})
        running = info.get("statename") == "RUNNING"
        rows.append(
            {
                "name": proc["name"],
                "kind": proc["kind"],
                "pid": info.get("pid") if running else None,
                "port": proc["port"],
                "healthy": running and topology.is_ready(proc, token),
                "restarts": max(0, spawns.get(proc["name"], 0) - 1),
            }
        )
    rows.append(
        {
            "name": "supervisord",
            "kind": "manager",
            "pid": manager_pid,
            "port": None,
            "healthy": True,
            "restarts": 0,
        }
    )
    return rows


def _ensure_nginx() -> bool:
    if topology.nginx_binary():
        return True
    print("==> 安装 nginx（scripts/setup-nginx.sh）", flush=True)
    return subprocess.run(["bash", str(SETUP_NGINX)]).returncode == 0 and bool(
        topology.nginx_binary()
    )


def run_prod(print_only: bool = False, startup_timeout: float = 600.0) -> int:
    problems = _problems()
    if problems:
        for line in problems:
            print(f"错误：{line}", file=sys.stderr)
        print("在仓库根目录的 .env 中设置后重试（见 README「生产配置」）。", file=sys.stderr)
        return 2
    if not _ensure_nginx():
        print("错误：找不到 nginx，请以 root 运行 scripts/setup-nginx.sh。", file=sys.stderr)
        return 2
    ensure_service_secrets()
    plan = topology.plan()
    topology.write(plan)
    print(f"==> 配置已写入 {plan.dir}（supervisord.conf、nginx/nginx.conf）", flush=True)
    if print_only:
        return 0
    nginx = topology.nginx_binary() or "nginx"
    check = subprocess.run(
        [nginx, "-t", "-p", str(plan.nginx_conf.parent), "-c", str(plan.nginx_conf)],
        capture_output=True,
        text=True,
    )
    if check.returncode != 0:
        print(f"错误：nginx 配置无效：\n{check.stderr}", file=sys.stderr)
        return 2
    supervisord = Path(sys.executable).with_name("supervisord")
    env = {**os.environ, **child_environment()}
    child = subprocess.Popen(
        [str(supervisord), "-c", str(plan.supervisor_conf)], env=env, start_new_session=True
    )
    stopping = False

    def on_signal(_signum: int, _frame: object) -> None:
        nonlocal stopping
        stopping = True

    signal.signal(signal.SIGINT, on_signal)
    signal.signal(signal.SIGTERM, on_signal)
    try:
        started = time.time()
        announced = False
        token = get_settings().rasa_auth_token()
        # Only the processes not yet ready are probed again: a Rasa replica loading its
        # model needs the cores more than a poll of the ones already serving.
        waiting = list(plan.public()["procs"])
        while not stopping and child.poll() is None:
            if not announced:
                waiting = [p for p in waiting if not topology.is_ready(p, token)]
                if not waiting:
                    _announce(plan, time.time() - started)
                    announced = True
                elif time.time() - started > startup_timeout:
                    print("警告：部分进程仍未就绪，见 yiwen ps 和 var/…/prod/logs。", flush=True)
                    announced = True
            time.sleep(3)
        return 0 if stopping else (child.returncode or 1)
    finally:
        if child.poll() is None:
            print("==> 正在停止全部服务…", flush=True)
            child.send_signal(signal.SIGTERM)
            try:
                child.wait(timeout=40)
            except subprocess.TimeoutExpired:
                os.killpg(child.pid, signal.SIGKILL)
        # Without the profile running, /healthz must not report its replicas.
        plan.plan_file.unlink(missing_ok=True)
        print("==> 已停止。", flush=True)


def _announce(plan: topology.Plan, seconds: float) -> None:
    port = plan.public_port
    print(f"\n邑问（生产配置）已启动，用时 {seconds:.0f} 秒：", flush=True)
    print(f"  唯一入口（nginx）：http://127.0.0.1:{port}/demo")
    print(f"  对话接口：http://127.0.0.1:{port}/webhooks/rest/webhook")
    print(f"  工作人员控制台：http://127.0.0.1:{port}/staff")
    print(f"  健康检查：http://127.0.0.1:{port}/healthz")
    print("  进程：.venv/app/bin/yiwen ps")
    print(f"  日志：{plan.supervisor_log.parent}")
    print("按 Ctrl-C 停止全部服务。", flush=True)


def rollout(kind: str = "rasa", timeout_s: float = 600.0, log: Any = print) -> int:
    """Restart the replicas of ``kind`` one at a time, each on the current configuration.

    Why one at a time: while a replica reloads (a new Rasa model takes about a minute),
    nginx's next-upstream rule sends its conversations to the others; the next replica
    goes only once this one answers ``/status`` again, so a turn is never dropped.
    ``make model`` then ``yiwen rollout`` takes up a new model; the supervisord
    configuration is rewritten first, so each replica starts with the new model path.
    """
    public = topology.load_public()
    if public is None or not Path(public["supervisor_socket"]).exists():
        log("生产配置未运行：先运行 make run-prod。")
        return 1
    ensure_service_secrets()
    plan = topology.plan()
    topology.write(plan)
    server = _supervisor(public)
    server.supervisor.reloadConfig()
    token = get_settings().rasa_auth_token()
    for proc in topology.load_public()["procs"]:
        if proc["kind"] != kind:
            continue
        name = proc["name"]
        log(f"==> 滚动更新 {name}")
        server.supervisor.stopProcess(name)
        server.supervisor.removeProcessGroup(name)
        server.supervisor.addProcessGroup(name)  # autostart: starts with the new command
        deadline = time.time() + timeout_s
        while not topology.is_ready(proc, token):
            if time.time() > deadline:
                log(f"错误：{name} 在 {timeout_s:.0f} 秒内未就绪，已停止滚动更新。")
                return 1
            time.sleep(2)
        log(f"==> {name} 已就绪")
    return 0
