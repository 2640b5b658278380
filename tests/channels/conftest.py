"""Fixtures for the WeChat channel tests.

The unit tests run in the app environment (no Rasa, no wechatpy needed). The
end-to-end tests start the real Rasa server from ``.venv/rasa`` with a trained model
(``bot/models/*.tar.gz``) plus the action server, and skip with a reason when either
is missing. Redis-backed variants use ``YIWEN_TEST_REDIS_URL`` (default
``redis://127.0.0.1:6379/15``) and skip when no Redis answers there.
"""

from __future__ import annotations

import hashlib
import json
import os
import secrets
import socket
import urllib.parse
import urllib.request
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import pytest

from channels.wechat_inbound import wechat_sender
from tests.channels.fake_wechat_api import FakeWeChatAPI
from tests.channels.rasa_stack import (
    APP_PY,
    RASA_BIN,
    REPO,
    DelayProxy,
    Service,
    find_model,
    http_ok,
    start_service,
    wait_ready,
)
from tests.channels.wechat_simulator import WeChatSimulator, new_aes_key
from tests.conftest import STACK_START_S
from tests.netutil import free_port

REDIS_URL = os.environ.get("YIWEN_TEST_REDIS_URL", "redis://127.0.0.1:6379/15")


def redis_available(url: str = REDIS_URL) -> bool:
    parts = urllib.parse.urlsplit(url)
    try:
        with socket.create_connection((parts.hostname or "127.0.0.1", parts.port or 6379), 0.5):
            return True
    except OSError:
        return False


@pytest.fixture
def redis_url() -> str:
    if not redis_available():
        pytest.skip(f"Redis 不可用（{REDIS_URL}）：启动 redis-server 或设置 YIWEN_TEST_REDIS_URL")
    return REDIS_URL


def delete_keys(url: str, prefix: str) -> None:
    import redis

    client = redis.Redis.from_url(url)
    keys = list(client.scan_iter(prefix + "*"))
    if keys:
        client.delete(*keys)
    client.close()


@pytest.fixture
def redis_prefix(redis_url: str) -> Iterator[str]:
    """A key prefix private to one test; its keys are deleted afterwards."""
    prefix = f"yiwen-test:{secrets.token_hex(6)}:"
    yield prefix
    delete_keys(redis_url, prefix)


# ---------------------------------------------------------------------- end-to-end stack
@dataclass
class WeChatStack:
    """The running services plus what a test needs to talk to them like WeChat does."""

    rasa_url: str
    api: FakeWeChatAPI
    proxy: DelayProxy | None
    token: str
    aes_key: str
    app_id: str
    account: str
    tickets_url: str | None = None
    staff_token: str = ""

    @property
    def webhook(self) -> str:
        return f"{self.rasa_url}/webhooks/wechat/webhook"

    def simulator(self, encrypted: bool = True, **kwargs: Any) -> WeChatSimulator:
        return WeChatSimulator(
            self.webhook,
            self.token,
            account=self.account,
            aes_key=self.aes_key if encrypted else "",
            app_id=self.app_id,
            **kwargs,
        )

    def tracker(self, sender: str) -> dict[str, Any]:
        """Rasa's tracker of the conversation ``sender`` (through its HTTP API)."""
        # ":" stays as is: the tracker API takes the path as sent, and %3A names no conversation
        url = f"{self.rasa_url}/conversations/{urllib.parse.quote(sender, safe=':')}/tracker"
        with urllib.request.urlopen(url, timeout=30) as response:
            return dict(json.loads(response.read()))

    def user_events(self, openid: str) -> list[dict[str, Any]]:
        """The user turns Rasa recorded for this WeChat user (conversation ``wx:<openid>``)."""
        events = self.tracker(wechat_sender(openid)).get("events", [])
        return [e for e in events if e.get("event") == "user"]

    def staff_ticket(self, ticket_no: str) -> dict[str, Any]:
        """The ticket as bureau staff see it (with evidence), via the ticket API."""
        assert self.tickets_url, "ticket service not running"
        request = urllib.request.Request(
            f"{self.tickets_url}/api/staff/tickets/{urllib.parse.quote(ticket_no)}",
            headers={"Authorization": f"Bearer {self.staff_token}"},
        )
        with urllib.request.urlopen(request, timeout=30) as response:
            return dict(json.loads(response.read()))


@pytest.fixture(scope="session")
def wechat_stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[WeChatStack]:
    if not RASA_BIN.exists():
        pytest.skip(f"没有 Rasa 环境（{RASA_BIN}）：先运行 make env")
    model = find_model()
    if model is None or not model.is_file():
        pytest.skip(
            "还没有训练好的 Rasa 模型：先运行 make model（.venv/rasa/bin/python -m bot.train）"
        )
    base = tmp_path_factory.mktemp("wechat-stack")
    token, app_id, secret = secrets.token_hex(8), "wx" + secrets.token_hex(8), secrets.token_hex(16)
    aes_key = new_aes_key()
    # Like a multi-process deployment, share state through Redis when there is one.
    redis_url = REDIS_URL if redis_available() else ""
    redis_prefix = f"yiwen-test:{secrets.token_hex(6)}:"
    services: list[Service] = []
    proxy: DelayProxy | None = None
    api = FakeWeChatAPI(app_id, secret).__enter__()
    try:
        pythonpath = os.pathsep.join(p for p in (str(REPO), os.environ.get("PYTHONPATH")) if p)
        env = {**os.environ, "PYTHONPATH": pythonpath, "PYTHONUNBUFFERED": "1"}
        env["YIWEN_DATABASE_URL"] = f"sqlite:///{base / 'tickets.db'}"
        # The actions get a private data dir (outbox, review log) and an empty corpus:
        # these tests exercise the channel, not retrieval, and must never trigger a
        # multi-minute index build on a shared machine if a turn reaches knowledge search.
        data, corpus = base / "data", base / "corpus"
        data.mkdir()
        corpus.mkdir()
        env["YIWEN_DATA_DIR"] = str(data)
        env["YIWEN_CORPUS_DIRS"] = json.dumps([str(corpus)])
        env["YIWEN_USE_FAQ"] = "false"
        env["YIWEN_ACTIONS_PRELOAD"] = "0"
        ready: list[tuple[Service, Callable[[], bool]]] = []
        tickets_url, staff_token = None, "yw_" + secrets.token_urlsafe(24)
        if (REPO / "tickets" / "main.py").is_file():
            port = free_port()
            tickets_url = env["YIWEN_TICKET_API_URL"] = f"http://127.0.0.1:{port}"
            digest = hashlib.sha256(staff_token.encode()).hexdigest()
            env["YIWEN_STAFF_TOKENS"] = json.dumps([{"sha256": digest, "role": "admin"}])
            cmd = [str(APP_PY), "-m", "uvicorn", "tickets.main:create_app", "--factory"]
            cmd += ["--ws", "none", "--host", "127.0.0.1", "--port", str(port)]
            services.append(start_service("tickets", cmd, env, base))
            ready.append((services[-1], http_ok(f"{env['YIWEN_TICKET_API_URL']}/healthz")))
        actions = os.environ.get("YIWEN_TEST_ACTIONS_MODULE", "bot.actions")
        endpoints = base / "endpoints.yml"
        endpoints.write_text("", encoding="utf-8")
        if actions != "none":
            port = free_port()
            cmd = [str(APP_PY), "-m", "rasa_sdk", "--actions", actions, "--port", str(port)]
            services.append(start_service("actions", cmd, env, base))
            ready.append((services[-1], http_ok(f"http://127.0.0.1:{port}/health")))
            proxy = DelayProxy(f"http://127.0.0.1:{port}")
            endpoints.write_text(
                f'action_endpoint:\n  url: "{proxy.url}/webhook"\n', encoding="utf-8"
            )
        # The shipped credentials file, so the test also proves it starts the channel.
        credentials = REPO / "bot" / "credentials.yml"
        shipped = credentials.read_text(encoding="utf-8") if credentials.is_file() else ""
        if "channels.wechat.WeChatInput" not in shipped:
            credentials = base / "credentials.yml"
            credentials.write_text("rest:\nchannels.wechat.WeChatInput:\n", encoding="utf-8")
        rasa_port = free_port()
        rasa_env = {
            **env,
            "YIWEN_WECHAT_TOKEN": token,
            "YIWEN_WECHAT_AES_KEY": aes_key,
            "YIWEN_WECHAT_APP_ID": app_id,
            "YIWEN_WECHAT_APP_SECRET": secret,
            "YIWEN_WECHAT_API_BASE": api.base,
            "YIWEN_DATA_DIR": str(base),  # the access-token file cache when Redis is off
            "YIWEN_REDIS_URL": redis_url,
            "YIWEN_WECHAT_REDIS_PREFIX": redis_prefix,
            "TF_CPP_MIN_LOG_LEVEL": "2",
        }
        cmd = [str(RASA_BIN), "run", "--enable-api", "--interface", "127.0.0.1"]
        cmd += ["--port", str(rasa_port), "--model", str(model)]
        cmd += ["--credentials", str(credentials), "--endpoints", str(endpoints)]
        # cwd outside the checkout: `rasa run` writes a .rasa/ cache into its cwd
        services.append(start_service("rasa", cmd, rasa_env, base, cwd=base))
        rasa_url = f"http://127.0.0.1:{rasa_port}"
        ready.append((services[-1], http_ok(f"{rasa_url}/status")))
        for service, check in ready:
            wait_ready(service, check, timeout=STACK_START_S)
        account = "gh_" + secrets.token_hex(6)
        yield WeChatStack(
            rasa_url,
            api,
            proxy,
            token,
            aes_key,
            app_id,
            account,
            tickets_url,
            staff_token,
        )
    finally:
        for service in reversed(services):
            service.stop()
        if proxy is not None:
            proxy.close()
        api.__exit__(None, None, None)
        if redis_url:
            delete_keys(redis_url, redis_prefix)
