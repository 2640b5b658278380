"""Start the real services the WeChat end-to-end tests talk to.

Rasa (``.venv/rasa``) with the WeChat channel, the action server and the ticket
service (``.venv/app``), and the fake WeChat API. Between Rasa and the action server
sits a small forwarding proxy that can add delay: that is how a test makes a real
turn slower than the five-second rule without changing the bot.
"""

from __future__ import annotations

import os
import signal
import subprocess
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import IO, Any

REPO = Path(__file__).resolve().parents[2]
RASA_BIN = REPO / ".venv" / "rasa" / "bin" / "rasa"
APP_PY = REPO / ".venv" / "app" / "bin" / "python"


def find_model() -> Path | None:
    """``YIWEN_TEST_RASA_MODEL``, else the model for the current bot inputs, else the newest."""
    override = os.environ.get("YIWEN_TEST_RASA_MODEL")
    if override:
        return Path(override)
    try:
        from bot.train import model_path

        current = model_path(REPO)
        if current.is_file():
            return current
    except Exception:  # bot.train missing or broken: fall back to the newest file
        pass
    models = sorted((REPO / "bot" / "models").glob("*.tar.gz"), key=lambda p: p.stat().st_mtime)
    return models[-1] if models else None


class DelayProxy:
    """Forwards Rasa's action calls; ``delay`` seconds are added while set."""

    def __init__(self, target: str) -> None:
        self.target = target.rstrip("/")
        self.delay = 0.0
        self.calls = 0
        proxy = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: Any) -> None:
                pass

            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                proxy.calls += 1
                if proxy.delay:
                    time.sleep(proxy.delay)
                request = urllib.request.Request(
                    proxy.target + self.path,
                    data=body,
                    headers={"Content-Type": self.headers.get("Content-Type", "application/json")},
                )
                try:
                    with urllib.request.urlopen(request, timeout=120) as response:
                        status, payload = response.status, response.read()
                        kind = response.headers.get("Content-Type", "application/json")
                except urllib.error.HTTPError as exc:
                    status, payload, kind = exc.code, exc.read(), "application/json"
                self.send_response(status)
                self.send_header("Content-Type", kind)
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )
        self._thread.start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self._server.server_address[1]}"

    def close(self) -> None:
        self._server.shutdown()
        self._server.server_close()


@dataclass
class Service:
    name: str
    proc: subprocess.Popen[bytes]
    log_path: Path
    log: IO[bytes] = field(repr=False)

    def tail(self, chars: int = 3000) -> str:
        self.log.flush()
        return self.log_path.read_text(encoding="utf-8", errors="replace")[-chars:]

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(15)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(5)
        self.log.close()


def start_service(
    name: str, cmd: list[str], env: dict[str, str], log_dir: Path, cwd: Path = REPO
) -> Service:
    """Start ``cmd`` (in the repo root by default), logging to ``<log_dir>/<name>.log``."""
    log_path = log_dir / f"{name}.log"
    log = log_path.open("wb")
    proc = subprocess.Popen(cmd, cwd=cwd, env=env, stdout=log, stderr=subprocess.STDOUT)
    return Service(name, proc, log_path, log)


def wait_ready(service: Service, ready: Callable[[], bool], timeout: float) -> None:
    """Poll ``ready`` until it answers; a dead or slow service raises with its log tail."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if service.proc.poll() is not None:
            raise RuntimeError(
                f"{service.name} exited with {service.proc.returncode}:\n{service.tail()}"
            )
        if ready():
            return
        time.sleep(0.5)
    raise TimeoutError(f"{service.name} not ready after {timeout:.0f} s:\n{service.tail()}")


def http_ok(url: str) -> Callable[[], bool]:
    def check() -> bool:
        try:
            with urllib.request.urlopen(url, timeout=2) as response:
                return bool(response.status == 200)
        except (OSError, ValueError):
            return False

    return check
