"""Start the real services the widget talks to: the app, the action server and Rasa.

Each runs in its own process group on a free loopback port, with its output in
``artifacts/browser-logs/`` so a failing browser test can be read afterwards.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import httpx

REPO = Path(__file__).resolve().parents[2]
APP_PY = REPO / ".venv" / "app" / "bin" / "python"
RASA_BIN = REPO / ".venv" / "rasa" / "bin" / "rasa"
MODELS = REPO / "bot" / "models"
LOG_DIR = REPO / "artifacts" / "browser-logs"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def newest_model() -> Path | None:
    models = sorted(MODELS.glob("*.tar.gz"), key=lambda p: p.stat().st_mtime)
    return models[-1] if models else None


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
            service.stop()


def start_stack(
    workdir: Path,
    model: Path,
    prepare: Callable[[], object] | None = None,
    timeout: float = 600,
) -> Stack:
    """Rasa, then ``prepare()`` (while Rasa loads), then the app and the action server.

    The app serves the knowledge and ticket APIs, the widget and the demo page.
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
        "YIWEN_DATABASE_URL": f"sqlite:///{database}",
        "YIWEN_TICKET_API_URL": app_url,
        "YIWEN_RASA_URL": rasa_url,
        "RASA_TELEMETRY_ENABLED": "false",
        "TF_CPP_MIN_LOG_LEVEL": "2",
        "SANIC_HOST": "127.0.0.1",  # the action server listens on loopback only
    }
    credentials = workdir / "credentials.yml"
    credentials.write_text(
        "rest:\n"
        "channels.webchat.rasa_socketio.PersistentSocketIOInput:\n"
        "  user_message_evt: user_uttered\n"
        "  bot_message_evt: bot_uttered\n"
        "  session_persistence: true\n",
        encoding="utf-8",
    )
    endpoints = workdir / "endpoints.yml"
    endpoints.write_text(
        f'action_endpoint:\n  url: "http://127.0.0.1:{action_port}/webhook"\n', encoding="utf-8"
    )
    rasa_cmd = [
        *(str(RASA_BIN), "run", "--enable-api", "--cors", "*", "--interface", "127.0.0.1"),
        *("--port", str(rasa_port), "--model", str(model)),
        *("--credentials", str(credentials), "--endpoints", str(endpoints)),
    ]
    action_cmd = [str(APP_PY), "-m", "rasa_sdk", "--actions", "bot.actions"]
    action_cmd += ["--port", str(action_port)]
    app_cmd = [str(APP_PY), "-m", "yiwen.cli", "serve", "--port", str(app_port)]
    services: list[Service] = []
    try:
        # Rasa first: loading its model is the slow part and needs nothing else.
        rasa_ready = http_ready(f"{rasa_url}/status", lambda r: bool(r.json().get("model_file")))
        services.append(start("rasa", rasa_cmd, env, rasa_ready))
        if prepare is not None:
            prepare()
        services.append(start("app", app_cmd, env, http_ready(f"{app_url}/healthz")))
        action_ready = http_ready(f"http://127.0.0.1:{action_port}/health")
        services.append(start("actions", action_cmd, env, action_ready))
        wait_all(services, timeout)
    except BaseException:
        for service in reversed(services):
            service.stop()
        raise
    return Stack(app_url, rasa_url, database, services)
