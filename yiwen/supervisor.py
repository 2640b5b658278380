"""``yiwen up``: start every service, wait until all are healthy, stop them all on exit.

Why a small supervisor instead of a process manager: `make run` must work on a
fresh clone with nothing but the two environments, and Ctrl-C / SIGTERM must
take every child down with it (each child gets its own process group).

Once the stack is up, a child that dies is restarted with backoff (1 s, 2 s, 4 s … at
most 30 s; back to 1 s after a minute of running) while the others keep serving, and
the supervisor says so in its log. Stopping everything on one crash took the ticket API
and the outbox retry worker down with, say, a crashed action server.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

import httpx

from bot.processes import rasa_services
from core.settings import REPO_ROOT, child_environment, get_settings


@dataclass
class Service:
    name: str
    cmd: list[str]
    health_url: str
    cwd: Path = REPO_ROOT
    env: dict[str, str] = field(default_factory=dict)
    proc: subprocess.Popen | None = None
    #: What readiness is checked on; may carry a server-side token, so it is never shown.
    ready_url: str = ""
    restarts: int = 0
    started_at: float = 0.0
    restart_at: float | None = None

    @property
    def readiness_url(self) -> str:
        return self.ready_url or self.health_url


def app_service() -> Service:
    s = get_settings().server
    return Service(
        name="app（知识问答 + 工单 API）",
        cmd=[sys.executable, "-m", "yiwen.cli", "serve", "--host", s.host, "--port", str(s.port)],
        health_url=f"http://{s.host}:{s.port}/healthz",
    )


def ensure_service_secrets() -> None:
    """Generate the stack's shared secrets (mode 600, in the data dir) unless configured.

    Done once here, before any child starts, so the app and the action server read the
    same ticket-API token and Rasa the same admin token (see ``core.service_secrets``).
    """
    settings = get_settings()
    settings.ticket_api_token()
    settings.rasa_auth_token()


def all_services() -> list[Service]:
    ensure_service_secrets()
    services = [app_service()]
    for spec in rasa_services(get_settings(), child_environment()):
        services.append(
            Service(
                name=spec["name"],
                cmd=list(spec["cmd"]),
                health_url=spec["health_url"],
                ready_url=spec.get("ready_url", ""),
                cwd=Path(spec.get("cwd", REPO_ROOT)),
                env=dict(spec.get("env", {})),
            )
        )
    return services


def _healthy(url: str, strict: bool = False) -> bool:
    """Any answer below 500 counts, or only 200 when ``strict`` (Rasa's ``/status``)."""
    try:
        code = httpx.get(url, timeout=2).status_code
    except httpx.HTTPError:
        return False
    return code == 200 if strict else code < 500


def stop(services: list[Service], grace: float = 15.0) -> None:
    for svc in reversed(services):
        if svc.proc and svc.proc.poll() is None:
            os.killpg(svc.proc.pid, signal.SIGTERM)
    deadline = time.time() + grace
    for svc in services:
        if svc.proc is None:
            continue
        try:
            svc.proc.wait(timeout=max(0.1, deadline - time.time()))
        except subprocess.TimeoutExpired:
            os.killpg(svc.proc.pid, signal.SIGKILL)


#: Seconds before the n-th consecutive restart of a crashed child.
RESTART_BACKOFF_S = (1.0, 2.0, 4.0, 8.0, 15.0, 30.0)
#: A child that ran this long before dying starts its backoff afresh.
STABLE_AFTER_S = 60.0


def spawn(svc: Service) -> None:
    svc.proc = subprocess.Popen(
        svc.cmd, cwd=svc.cwd, env={**os.environ, **svc.env}, start_new_session=True
    )
    svc.started_at = time.time()
    svc.restart_at = None


def supervise(svc: Service, now: float) -> None:
    """Restart ``svc`` with backoff if it died; called about once a second."""
    if svc.restart_at is not None:
        if now >= svc.restart_at:
            print(f"==> 重启 {svc.name}（第 {svc.restarts} 次）", flush=True)
            spawn(svc)
        return
    if svc.proc is None or svc.proc.poll() is None:
        return
    code = svc.proc.returncode
    try:  # leftovers of the dead child's process group would hold its port
        os.killpg(svc.proc.pid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        pass
    if now - svc.started_at > STABLE_AFTER_S:
        svc.restarts = 0
    delay = RESTART_BACKOFF_S[min(svc.restarts, len(RESTART_BACKOFF_S) - 1)]
    svc.restarts += 1
    svc.restart_at = now + delay
    print(
        f"警告：{svc.name} 意外退出（退出码 {code}），{delay:.0f} 秒后重启；其他服务照常运行。",
        flush=True,
    )


def run_all(startup_timeout: float = 600.0) -> int:
    try:
        services = all_services()
    except ValueError as exc:  # a store URL Rasa cannot use (bot.endpoints_profile)
        print(f"错误：{exc}", file=sys.stderr)
        return 2
    stopping = False

    def on_signal(signum: int, _frame: object) -> None:
        nonlocal stopping
        stopping = True

    signal.signal(signal.SIGINT, on_signal)
    signal.signal(signal.SIGTERM, on_signal)
    try:
        for svc in services:
            print(f"==> 启动 {svc.name}：{' '.join(svc.cmd[-4:])}", flush=True)
            spawn(svc)
        pending = list(services)
        started = time.time()
        while pending and not stopping:
            for svc in list(pending):
                if svc.proc is not None and svc.proc.poll() is not None:
                    print(
                        f"错误：{svc.name} 启动失败（退出码 {svc.proc.returncode}），见上方日志。"
                    )
                    return 1
                if _healthy(svc.readiness_url, strict=bool(svc.ready_url)):
                    print(
                        f"==> {svc.name} 就绪（{time.time() - started:.0f} 秒）：{svc.health_url}"
                    )
                    pending.remove(svc)
            if time.time() - started > startup_timeout:
                print(f"错误：等待服务就绪超时：{', '.join(s.name for s in pending)}")
                return 1
            time.sleep(1)
        if not stopping:
            s = get_settings().server
            print("\n邑问已启动：")
            print(f"  网页对话（演示页）：http://{s.host}:{s.port}/demo")
            print(f"  知识问答 / 工单 API 文档：http://{s.host}:{s.port}/docs")
            print(f"  工作人员控制台：http://{s.host}:{s.port}/staff")
            print("    创建令牌：.venv/app/bin/yiwen tokens create --role editor --name 姓名")
            print(
                f"  提问示例：curl -s -X POST http://{s.host}:{s.port}/api/ask "
                "-H 'Content-Type: application/json' -d '{\"question\": \"个转企有什么补贴？\"}'"
            )
            for svc in services[1:]:
                print(f"  {svc.name}：{svc.health_url}")
            if len(services) > 1:
                print("  终端对话：.venv/app/bin/yiwen shell")
            print("按 Ctrl-C 停止全部服务。", flush=True)
        while not stopping:
            for svc in services:
                supervise(svc, time.time())
            time.sleep(0.5)
        return 0
    finally:
        print("==> 正在停止全部服务…", flush=True)
        stop(services)
        print("==> 已停止。", flush=True)
