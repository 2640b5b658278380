"""Start the real services the widget talks to with ``yiwen up`` (what ``make run`` runs).

The supervisor and its children (app, action server, Rasa) run in one process
group on free loopback ports, with their output in ``artifacts/browser-logs/``
so a failing browser test can be read afterwards.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import httpx

from tests.conftest import STACK_START_S
from tests.netutil import free_port

REPO = Path(__file__).resolve().parents[2]
APP_PY = REPO / ".venv" / "app" / "bin" / "python"
RASA_BIN = REPO / ".venv" / "rasa" / "bin" / "rasa"
LOG_DIR = REPO / "artifacts" / "browser-logs"


@dataclass
class Service:
    name: str
    proc: subprocess.Popen
    log: Path
    ready: Callable[[], bool] = field(repr=False)

    def tail(self, chars: int = 3000) -> str:
        try:
            return self.log.read_text(encoding="utf-8", errors="replace")[-chars:]
        except OSError:
            return ""

    def stop(self, grace: float = 15.0) -> None:
        if self.proc.poll() is not None:
            return
        os.killpg(self.proc.pid, signal.SIGTERM)
        try:
            self.proc.wait(timeout=grace)
        except subprocess.TimeoutExpired:
            os.killpg(self.proc.pid, signal.SIGKILL)
            self.proc.wait(timeout=grace)


def start(name: str, cmd: list[str], env: dict[str, str], ready: Callable[[], bool]) -> Service:
    LOG_DIR.mkdir(parents=True, exist_ok=True)
    log = LOG_DIR / f"{name}.log"
    with log.open("wb") as out:
        proc = subprocess.Popen(
            cmd, cwd=REPO, env=env, stdout=out, stderr=subprocess.STDOUT, start_new_session=True
        )
    return Service(name, proc, log, ready)


def http_ready(
    url: str, check: Callable[[httpx.Response], bool] | None = None
) -> Callable[[], bool]:
    def ready() -> bool:
        try:
            response = httpx.get(url, timeout=2)
        except httpx.HTTPError:
            return False
        return response.status_code == 200 and (check is None or check(response))

    return ready


def wait_all(services: list[Service], timeout: float) -> None:
    """Wait until every service answers; a service that exits fails with its log."""
    deadline = time.monotonic() + timeout
    pending = list(services)
    while pending:
        for service in list(pending):
            if service.proc.poll() is not None:
                raise RuntimeError(
                    f"{service.name} 启动失败（退出码 {service.proc.returncode}），"
                    f"日志 {service.log}：\n{service.tail()}"
                )
            if service.ready():
                pending.remove(service)
        if not pending:
            return
        if time.monotonic() > deadline:
            names = ", ".join(s.name for s in pending)
            raise TimeoutError(f"{names} 在 {timeout:.0f} 秒内没有就绪：\n{pending[0].tail()}")
        time.sleep(1)


@dataclass
class Stack:
    app_url: str
    rasa_url: str
    database: Path
    services: list[Service]

    def stop(self) -> None:
        for service in reversed(self.services):
            service.stop(grace=60)  # the supervisor waits up to 15 s per child itself


READY_LINE = "邑问已启动"


def start_stack(
    workdir: Path,
    prepare: Callable[[], object] | None = None,
    timeout: float = STACK_START_S,
) -> Stack:
    """``yiwen up`` — what ``make run`` starts — on free loopback ports.

    It runs the app (knowledge + ticket APIs, widget, demo page), the action server
    and Rasa with ``bot/credentials.yml``; the stack is ready when it prints its
    ready banner. ``prepare()`` runs first (the shared test index), so the app and
    the action server find the index current instead of rebuilding it side by side.
    """
    app_port, action_port, rasa_port = free_port(), free_port(), free_port()
    app_url = f"http://127.0.0.1:{app_port}"
    rasa_url = f"http://127.0.0.1:{rasa_port}"
    database = workdir / "yiwen.db"
    pythonpath = os.pathsep.join(p for p in (str(REPO), os.environ.get("PYTHONPATH")) if p)
    env = {
        **os.environ,
        "PYTHONPATH": pythonpath,
        "PYTHONUNBUFFERED": "1",
        "YIWEN_PORT": str(app_port),
        "YIWEN_ACTION_PORT": str(action_port),
        "YIWEN_RASA_PORT": str(rasa_port),
        "YIWEN_DATABASE_URL": f"sqlite:///{database}",
        "YIWEN_RASA_URL": rasa_url,
        "YIWEN_CORS_ORIGINS": json.dumps([app_url]),
        "RASA_TELEMETRY_ENABLED": "false",
    }
    if prepare is not None:
        prepare()
    up = start(
        "yiwen-up",
        [str(APP_PY), "-m", "yiwen.cli", "up"],
        env,
        lambda: READY_LINE in up.tail(100_000),
    )
    try:
        wait_all([up], timeout)
    except BaseException:
        up.stop()
        raise
    return Stack(app_url, rasa_url, database, [up])


def ports_closed(*urls: str) -> bool:
    """True when nothing listens at any of ``urls`` any more (every child has exited)."""
    for url in urls:
        try:
            httpx.get(url, timeout=2)
        except httpx.HTTPError:
            continue
        return False
    return True
