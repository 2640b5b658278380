"""bot.container: what the Rasa image runs (endpoints from settings, Rasa's arguments) and
how Docker and Kubernetes probe it (/status with the token, off the command line)."""

from __future__ import annotations

import json
import stat
import sys
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
import yaml

from bot import container
from bot.rasa_server import rasa_argv
from core.settings import Settings, load_settings

TOKEN = "probe-token-for-tests"


def settings(tmp_path: Path, **extra: str) -> Settings:
    return load_settings(
        {"YIWEN_DATA_DIR": str(tmp_path), "YIWEN_RASA_AUTH_TOKEN": TOKEN, **extra}, env_file=None
    )


def test_production_endpoints_use_the_stores_and_the_actions_service(tmp_path: Path) -> None:
    s = settings(
        tmp_path,
        YIWEN_RASA_TRACKER_STORE_URL="postgresql://yiwen:pw@postgres:5432/yiwen_rasa",
        YIWEN_RASA_LOCK_STORE_URL="redis://redis:6379/1",
        YIWEN_ACTION_URL="http://actions:5055/webhook",
    )
    config = container.container_endpoints(s)
    assert config["action_endpoint"] == {"url": "http://actions:5055/webhook"}
    assert config["tracker_store"]["type"] == "SQL" and config["tracker_store"]["url"] == "postgres"
    assert config["lock_store"] == {
        "type": "redis",
        "url": "redis",
        "port": 6379,
        "db": 1,
        "key_prefix": "yiwen",
    }


def test_without_stores_one_replica_keeps_the_bounded_memory_store(tmp_path: Path) -> None:
    config = container.container_endpoints(settings(tmp_path, YIWEN_ACTION_PORT="5056"))
    assert config == {
        "action_endpoint": {"url": "http://127.0.0.1:5056/webhook"},
        "tracker_store": {"type": container.BOUNDED_TRACKER_STORE},
    }


def test_rasa_listens_on_the_pod_and_loads_the_baked_model(tmp_path: Path) -> None:
    s = settings(tmp_path, YIWEN_CORS_ORIGINS="https://a.example")
    args = container.rasa_args(s, tmp_path / "endpoints.yml")
    assert args[:2] == ["run", "--enable-api"]
    assert args[args.index("--interface") + 1] == "0.0.0.0"
    assert args[args.index("--model") + 1] == "bot/models"
    assert args[args.index("--credentials") + 1] == "bot/credentials.yml"
    assert args[args.index("--cors") + 1 :] == ["https://a.example"]
    assert "--auth-token" not in args and TOKEN not in args
    assert "--cors" not in container.rasa_args(settings(tmp_path), tmp_path / "e.yml")


def test_serve_writes_a_private_endpoints_file_and_hands_rasa_the_token(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    started: list[list[str]] = []

    def fake_rasa_main() -> None:  # bot.rasa_server.main, without starting Rasa
        started.append(rasa_argv(sys.argv[1:], TOKEN))

    monkeypatch.setattr("bot.rasa_server.main", fake_rasa_main)
    monkeypatch.setattr(sys, "argv", list(sys.argv))
    s = settings(tmp_path, YIWEN_RASA_LOCK_STORE_URL="redis://:secret@redis:6379/1")
    container.serve(s)
    endpoints = tmp_path / "rasa" / "endpoints.yml"
    assert stat.S_IMODE(endpoints.stat().st_mode) == 0o600, "it holds the store passwords"
    assert yaml.safe_load(endpoints.read_text())["lock_store"]["password"] == "secret"
    [argv] = started
    assert argv[0] == "rasa" and argv[argv.index("--endpoints") + 1] == str(endpoints)
    assert argv[-2:] == ["--auth-token", TOKEN]


class _Status(BaseHTTPRequestHandler):
    """Rasa's /status: 401 without the token, 409 before a model is loaded."""

    loaded = True

    def do_GET(self) -> None:
        query = parse_qs(urlsplit(self.path).query)
        if urlsplit(self.path).path != "/status" or query.get("token") != [TOKEN]:
            self.send_response(401)
            self.end_headers()
            return
        if not self.loaded:
            self.send_response(409)
            self.end_headers()
            return
        body = json.dumps({"model_file": "bot/models/abc.tar.gz", "model_id": "x"}).encode()
        self.send_response(200)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *_args: Any) -> None:
        pass


@pytest.fixture()
def rasa_status() -> Iterator[tuple[ThreadingHTTPServer, type[_Status]]]:
    handler = type("Status", (_Status,), {"loaded": True})
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield server, handler
    server.shutdown()
    server.server_close()


def test_probe_passes_only_with_a_loaded_model(
    tmp_path: Path, rasa_status: tuple[ThreadingHTTPServer, type[_Status]]
) -> None:
    server, handler = rasa_status
    port = str(server.server_address[1])
    assert container.probe(settings(tmp_path, YIWEN_RASA_PORT=port), timeout=2) is True
    handler.loaded = False
    assert container.probe(settings(tmp_path, YIWEN_RASA_PORT=port), timeout=2) is False
    handler.loaded = True
    wrong = load_settings(
        {
            "YIWEN_DATA_DIR": str(tmp_path),
            "YIWEN_RASA_AUTH_TOKEN": "other",
            "YIWEN_RASA_PORT": port,
        },
        env_file=None,
    )
    assert container.probe(wrong, timeout=2) is False
    server.shutdown()
    server.server_close()
    assert container.probe(settings(tmp_path, YIWEN_RASA_PORT=port), timeout=2) is False
