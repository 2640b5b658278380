"""Rasa's HTTP API is locked, the public surface is only what citizens need (issue 12, #1).

Before the fix ``yiwen up`` ran ``rasa run --enable-api`` without a token: anyone who
could reach Rasa read every conversation (names, phones), injected events, loaded a
model from any path or stopped the bot; and ``YIWEN_HOST`` moved Rasa and the action
server (whose ``/webhook`` has no auth) off loopback.
"""

from __future__ import annotations

import hashlib
import os
import secrets
import stat
import time
from pathlib import Path

import httpx
import pytest

from tests.security.stack import APP_HOST, Stack

pytestmark = [pytest.mark.rasa, pytest.mark.slow]


def test_tracker_read_and_write_are_refused(stack: Stack) -> None:
    sender = f"victim-{secrets.token_hex(4)}"
    stack.say(sender, "你好")
    tracker = f"{stack.rasa_url}/conversations/{sender}/tracker"
    event = [{"event": "slot", "name": "complainant_phone", "value": "13900000000"}]
    probes = [
        httpx.get(tracker, timeout=30),
        httpx.get(tracker, params={"token": "guess"}, timeout=30),
        httpx.put(f"{tracker}/events", json=event, timeout=30),
        httpx.post(f"{tracker}/events", json=event, timeout=30),
        httpx.get(f"{stack.rasa_url}/conversations/{sender}/story", timeout=30),
        httpx.post(
            f"{stack.rasa_url}/conversations/{sender}/execute", json={"name": "x"}, timeout=30
        ),
        httpx.post(f"{stack.rasa_url}/model/parse", json={"text": "你好"}, timeout=30),
        httpx.get(f"{stack.rasa_url}/domain", timeout=30),
    ]
    assert [p.status_code for p in probes] == [401] * len(probes), [p.text for p in probes]
    # The server side, with the token, still can (tests, bench, operators).
    ok = httpx.get(tracker, params={"token": stack.rasa_token}, timeout=30)
    assert ok.status_code == 200 and ok.json()["sender_id"] == sender


def test_model_cannot_be_replaced_or_unloaded(stack: Stack) -> None:
    replace = httpx.put(
        f"{stack.rasa_url}/model", json={"model_file": "/tmp/evil.tar.gz"}, timeout=30
    )
    unload = httpx.delete(f"{stack.rasa_url}/model", timeout=30)
    train = httpx.post(f"{stack.rasa_url}/model/train", content=b"{}", timeout=30)
    assert (replace.status_code, unload.status_code, train.status_code) == (401, 401, 401)
    # The bot still answers: the DELETE did nothing.
    assert stack.say(f"after-{secrets.token_hex(3)}", "转人工")
    status = httpx.get(f"{stack.rasa_url}/status", params={"token": stack.rasa_token}, timeout=30)
    assert status.status_code == 200 and status.json()["model_file"]


def test_public_chat_channels_still_work(stack: Stack) -> None:
    assert httpx.get(f"{stack.rasa_url}/status", timeout=30).status_code == 401
    assert any("12315" in r for r in stack.say(f"pub-{secrets.token_hex(3)}", "转人工"))
    handshake = httpx.get(
        f"{stack.rasa_url}/socket.io/", params={"EIO": "4", "transport": "polling"}, timeout=30
    )
    assert handshake.status_code == 200 and '"sid"' in handshake.text
    timestamp, nonce = str(int(time.time())), secrets.token_hex(4)
    signature = hashlib.sha1(
        "".join(sorted([stack.wechat_token, timestamp, nonce])).encode()
    ).hexdigest()
    verify = httpx.get(
        f"{stack.rasa_url}/webhooks/wechat/webhook",
        params={"signature": signature, "timestamp": timestamp, "nonce": nonce, "echostr": "ok1"},
        timeout=30,
    )
    assert verify.status_code == 200 and verify.text == "ok1"


def test_token_is_private_and_not_on_any_command_line(stack: Stack) -> None:
    path = stack.data / "secrets" / "rasa_auth_token"
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
    assert stat.S_IMODE(os.stat(path.parent).st_mode) == 0o700
    token = stack.rasa_token.encode()
    rasa = stack.pids("bot.rasa_server")
    assert rasa, "Rasa runs through bot.rasa_server"
    for pid in rasa:
        assert token not in Path(f"/proc/{pid}/cmdline").read_bytes()
    assert stack.rasa_token not in stack.log_text()  # nor printed by the supervisor


def _listeners() -> dict[int, set[str]]:
    """Listening TCP sockets: port → local addresses (from /proc/net/tcp and tcp6)."""
    found: dict[int, set[str]] = {}
    for table, width in (("/proc/net/tcp", 8), ("/proc/net/tcp6", 32)):
        try:
            lines = Path(table).read_text().splitlines()[1:]
        except OSError:
            continue
        for line in lines:
            local, state = line.split()[1], line.split()[3]
            if state != "0A":
                continue
            addr_hex, port_hex = local.split(":")
            if width == 8:
                raw = bytes.fromhex(addr_hex)[::-1]
                addr = ".".join(str(b) for b in raw)
            else:
                addr = "v6:" + addr_hex
            found.setdefault(int(port_hex, 16), set()).add(addr)
    return found


def test_rasa_and_actions_bind_loopback_whatever_yiwen_host_says(stack: Stack) -> None:
    listening = _listeners()
    assert listening.get(stack.ports["rasa"]) == {"127.0.0.1"}, listening.get(stack.ports["rasa"])
    assert listening.get(stack.ports["actions"]) == {"127.0.0.1"}
    assert listening.get(stack.ports["app"]) == {APP_HOST}  # only the app follows YIWEN_HOST
    # And the action server, reached from Rasa's side, still files tickets with the app.
    assert httpx.get(f"{stack.app_url}/healthz", timeout=30).status_code == 200
