"""Helpers for the ticket service tests: servers on loopback, throw-away PostgreSQL
databases, and complete submissions to vary per test.

PostgreSQL comes from ``YIWEN_TEST_POSTGRES_URL`` (default: the project machines' local
server). Each session creates its own ``yiwen_t_<random>`` database and drops it at the
end. If the server is unreachable the PostgreSQL half is skipped with the reason, unless
``CI`` is set: there it fails.
"""

from __future__ import annotations

import datetime as dt
import os
import secrets
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from tests.netutil import free_port
from tickets.db import Database

REPO = Path(__file__).resolve().parents[2]
#: The action server's credential the test servers are started with (YIWEN_TICKET_API_TOKEN).
SERVICE_TOKEN = "svc_" + secrets.token_urlsafe(24)
SERVICE_HEADERS = {"Authorization": f"Bearer {SERVICE_TOKEN}"}
DEFAULT_PG = "postgresql+psycopg://postgres@127.0.0.1:5432/test"


def postgres_admin_url() -> str:
    return os.environ.get("YIWEN_TEST_POSTGRES_URL", DEFAULT_PG)


@contextmanager
def fresh_postgres_database() -> Iterator[str]:
    """Create ``yiwen_t_<random>`` on the test server, yield its URL, drop it afterwards.

    Raises ``PostgresUnavailable`` when the server cannot be reached.
    """
    admin_url = postgres_admin_url()
    admin = create_engine(
        admin_url, isolation_level="AUTOCOMMIT", connect_args={"connect_timeout": 3}
    )
    name = f"yiwen_t_{secrets.token_hex(4)}"
    try:
        with admin.connect() as conn:
            conn.execute(text(f'CREATE DATABASE "{name}"'))
    except Exception as exc:  # unreachable server, bad credentials
        admin.dispose()
        shown = make_url(admin_url).render_as_string(hide_password=True)
        raise PostgresUnavailable(f"{shown}: {exc}") from exc
    try:
        yield make_url(admin_url).set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


class PostgresUnavailable(RuntimeError):
    pass


def require_postgres(reason: str) -> None:
    """Skip (or, in CI, fail) because PostgreSQL is unreachable."""
    if os.environ.get("CI"):
        pytest.fail(f"PostgreSQL is required in CI: {reason}")
    pytest.skip(f"PostgreSQL unreachable ({reason}); set YIWEN_TEST_POSTGRES_URL")


@dataclass
class Server:
    """A running ticket service and what tests need to talk to it."""

    base_url: str
    database_url: str
    log_path: Path
    db: Database
    proc: subprocess.Popen[bytes] | None = None
    tokens: dict[str, str] = field(default_factory=dict)

    def client(
        self, token: str | None = None, *, service: bool = False, **kwargs: Any
    ) -> httpx.Client:
        """A client as staff (``token``), as the action server (``service``) or anonymous."""
        headers = {"Authorization": f"Bearer {self.tokens[token]}"} if token else {}
        if service:
            headers = dict(SERVICE_HEADERS)
        return httpx.Client(base_url=self.base_url, headers=headers, timeout=60, **kwargs)

    def log_text(self) -> str:
        return self.log_path.read_text(encoding="utf-8", errors="replace")


def launch_server(
    database_url: str, log_path: Path, extra_env: dict[str, str] | None = None
) -> tuple[subprocess.Popen[bytes], str]:
    """Start ``uvicorn tickets.main:create_app --factory`` without waiting for it."""
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("YIWEN_")}
    env.update(
        {
            "YIWEN_DATABASE_URL": database_url,
            "YIWEN_CORS_ORIGINS": '["https://allowed.example"]',
            "YIWEN_DB_POOL_SIZE": "10",
            "YIWEN_DB_MAX_OVERFLOW": "10",
            "YIWEN_TICKET_API_TOKEN": SERVICE_TOKEN,
            "PYTHONPATH": str(REPO),
        }
    )
    env.update(extra_env or {})
    with log_path.open("wb") as log:
        proc = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "uvicorn",
                "tickets.main:create_app",
                "--factory",
                "--host",
                "127.0.0.1",
                "--port",
                str(port),
                "--ws",
                "none",
                # Tests give each simulated citizen its own address through this header.
                "--proxy-headers",
                "--forwarded-allow-ips",
                "127.0.0.1",
            ],
            cwd=REPO,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
    return proc, f"http://127.0.0.1:{port}"


def wait_healthy(proc: subprocess.Popen[bytes], base_url: str, log_path: Path) -> None:
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"server exited:\n{log_path.read_text()[-3000:]}")
        try:
            if httpx.get(f"{base_url}/healthz", timeout=1).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.2)
    proc.kill()
    raise TimeoutError(f"server did not start:\n{log_path.read_text()[-3000:]}")


def stop_server(proc: subprocess.Popen[bytes]) -> None:
    proc.terminate()
    try:
        proc.wait(timeout=20)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()


def new_key() -> str:
    return uuid.uuid4().hex


def fake_ip() -> str:
    """A distinct client address per call, so throttling in one test never hits another."""
    raw = secrets.randbits(24)
    return f"10.{raw >> 16 & 255}.{raw >> 8 & 255}.{raw & 255}"


def complaint(**overrides: Any) -> dict[str, Any]:
    """A complete complaint (every Art. 9 field present); override parts per test."""
    body: dict[str, Any] = {
        "kind": "complaint",
        "complainant": {
            "name": "陈小明",
            "phone": "139-1234-5678",
            "address": "江门市蓬江区白沙大道西1号",
        },
        "anonymous": False,
        "respondent": {
            "name": "会城某某超市",
            "address": "江门市新会区会城街道今洲路12号",
            "is_platform": False,
        },
        "county": None,
        "incident_date": (dt.date.today() - dt.timedelta(days=10)).isoformat(),
        "amount": "35.00",
        "product": "牛奶",
        "demand": "退款",
        "demand_detail": None,
        "facts": "购买的牛奶已过保质期，商家拒绝退款。",
        "evidence": ["wx-media-123", "https://example.com/receipt.jpg"],
        "consent_share_contact": True,
        "channel": "wechat",
        "sender_id": "oABC123",
        "local_ref": None,
    }
    for key, value in overrides.items():
        body[key] = value
    return body


def post_ticket(
    client: httpx.Client, body: dict[str, Any], key: str | None = None
) -> httpx.Response:
    """Submit as the action server does (with the service token)."""
    headers = {**SERVICE_HEADERS, "Idempotency-Key": key or new_key()}
    return client.post("/api/tickets", json=body, headers=headers)
