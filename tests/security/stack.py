"""The whole stack as ``make run`` starts it (``yiwen up``), for the security probes.

Every probe talks to the real processes over loopback: the app (knowledge + ticket API),
the action server and Rasa with the shipped ``bot/credentials.yml``. The stack gets a
private data dir, so the secrets ``yiwen up`` generates there (mode 600) belong to it;
the knowledge index is a copy of the shared test index (4 MB; nothing is rebuilt while
its manifest matches, and a rebuild could never touch the shared one).

``YIWEN_HOST`` is ``127.0.0.2`` (still loopback, but not the address Rasa and the action
server must bind): the probes check that only the app follows it.
"""

from __future__ import annotations

import os
import re
import secrets
import signal
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx

from tests.conftest import STACK_START_S, use_test_index
from tests.netutil import free_port

REPO = Path(__file__).resolve().parents[2]
APP_PY = REPO / ".venv" / "app" / "bin" / "python"
RASA_BIN = REPO / ".venv" / "rasa" / "bin" / "rasa"
READY_LINE = "邑问已启动"
APP_HOST = "127.0.0.2"

#: An 11-digit mobile number anywhere in a text (what must never reach a log).
PHONE_RE = re.compile(r"(?<![0-9])1[3-9][0-9]{9}(?![0-9])")
LAST4_RE = re.compile(r"phone_last4=[0-9]{4}")


@dataclass
class Stack:
    proc: subprocess.Popen[bytes]
    log: Path
    data: Path
    database: Path
    app_url: str
    rasa_url: str
    action_url: str
    wechat_token: str
    ports: dict[str, int]

    # -------------------------------------------------------------- secrets the stack made
    def secret(self, name: str) -> str:
        return (self.data / "secrets" / name).read_text(encoding="utf-8").strip()

    @property
    def rasa_token(self) -> str:
        return self.secret("rasa_auth_token")

    @property
    def service_headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.secret('ticket_api_token')}"}

    # -------------------------------------------------------------- talking to it
    def say(self, sender: str, text: str) -> list[str]:
        response = httpx.post(
            f"{self.rasa_url}/webhooks/rest/webhook",
            json={"sender": sender, "message": text},
            timeout=120,
        )
        response.raise_for_status()
        return [m.get("text", "") for m in response.json()]

    def run_action(
        self, action: str, sender: str, slots: dict[str, Any], channel: str = "rest"
    ) -> dict[str, Any]:
        """Call the action server the way Rasa does (its /webhook is loopback-only)."""
        tracker = {
            "sender_id": sender,
            "slots": slots,
            "latest_message": {"text": "", "intent": {}, "entities": []},
            "events": [{"event": "user", "text": "", "input_channel": channel}],
            "paused": False,
            "followup_action": None,
            "active_loop": {},
            "latest_action_name": None,
        }
        body = {"next_action": action, "sender_id": sender, "tracker": tracker, "domain": {}}
        response = httpx.post(f"{self.action_url}/webhook", json=body, timeout=60)
        response.raise_for_status()
        return dict(response.json())

    def file_ticket(self, phone: str, **extra: Any) -> dict[str, Any]:
        """A complaint filed as the action server files it (service token)."""
        body: dict[str, Any] = {
            "kind": "complaint",
            "complainant": {"name": "李四", "phone": phone, "address": "江门市蓬江区港口路8号"},
            "respondent": {"name": "某超市", "address": "江门市新会区会城街道今洲路12号"},
            "demand": "退款",
            "facts": "买到过期牛奶，商家拒绝退款。",
            **extra,
        }
        response = httpx.post(
            f"{self.app_url}/api/tickets",
            json=body,
            headers={**self.service_headers, "Idempotency-Key": secrets.token_hex(16)},
            timeout=60,
        )
        assert response.status_code == 201, response.text
        return dict(response.json())

    def tickets_of(self, sender: str) -> int:
        """How many tickets the stack's database holds for ``sender``."""
        import sqlite3

        conn = sqlite3.connect(self.database, timeout=30)
        try:
            row = conn.execute("SELECT count(*) FROM tickets WHERE sender_id = ?", (sender,))
            return int(row.fetchone()[0])
        finally:
            conn.close()

    def log_text(self) -> str:
        return self.log.read_text(encoding="utf-8", errors="replace")

    def pids(self, needle: str) -> list[int]:
        """Processes of this stack whose command line contains ``needle``."""
        found = []
        for entry in Path("/proc").iterdir():
            if not entry.name.isdigit():
                continue
            try:
                cmdline = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode()
                environ = (entry / "environ").read_bytes()
            except OSError:
                continue
            port = str(self.ports["rasa"]).encode()
            if needle in cmdline and port in environ:
                found.append(int(entry.name))
        return found

    def stop(self) -> None:
        if self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGTERM)
            try:
                self.proc.wait(timeout=60)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait(timeout=30)


def start_stack(workdir: Path, extra_env: dict[str, str] | None = None) -> Stack:
    data = workdir / "data"
    index_env = use_test_index(data, copy=True)
    assert index_env is not None, "the test index (var/test-data) is missing"
    database = workdir / "yiwen.db"
    ports = {"app": free_port(), "actions": free_port(), "rasa": free_port()}
    wechat_token = secrets.token_hex(8)
    env = {k: v for k, v in os.environ.items() if not k.startswith(("YIWEN_", "SANIC_"))}
    env.update(
        {
            "PYTHONPATH": str(REPO),
            "PYTHONUNBUFFERED": "1",
            "RASA_TELEMETRY_ENABLED": "false",
            "YIWEN_DATA_DIR": str(data),
            **index_env,
            "YIWEN_HOST": APP_HOST,
            "YIWEN_PORT": str(ports["app"]),
            "YIWEN_ACTION_PORT": str(ports["actions"]),
            "YIWEN_RASA_PORT": str(ports["rasa"]),
            "YIWEN_DATABASE_URL": f"sqlite:///{database}",
            "YIWEN_WECHAT_TOKEN": wechat_token,
            "YIWEN_CHAT_RATE_LIMIT": "30/60",
            "YIWEN_ASK_RATE_LIMIT": "10",
            "YIWEN_RASA_MAX_CONVERSATIONS": "40",
            **(extra_env or {}),
        }
    )
    log = workdir / "yiwen-up.log"
    with log.open("wb") as out:
        proc = subprocess.Popen(
            [str(APP_PY), "-m", "yiwen.cli", "up"],
            cwd=REPO,
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    stack = Stack(
        proc=proc,
        log=log,
        data=data,
        database=database,
        app_url=f"http://{APP_HOST}:{ports['app']}",
        rasa_url=f"http://127.0.0.1:{ports['rasa']}",
        action_url=f"http://127.0.0.1:{ports['actions']}",
        wechat_token=wechat_token,
        ports=ports,
    )
    deadline = time.monotonic() + STACK_START_S
    while READY_LINE not in stack.log_text():
        if proc.poll() is not None or time.monotonic() > deadline:
            stack.stop()
            raise RuntimeError(f"yiwen up did not start:\n{stack.log_text()[-4000:]}")
        time.sleep(1)
    return stack
