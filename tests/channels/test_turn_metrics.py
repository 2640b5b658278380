"""Turn metrics of a Rasa replica (channels.metrics), in the Rasa environment.

A subprocess of the Rasa environment (Python 3.10, Rasa's own prometheus-client) builds
the REST and WeChat channels' routes, as Rasa does at start-up, which starts the
metrics server on ``YIWEN_RASA_METRICS_PORT`` once; then turns are timed around a fake
``on_new_message`` and the port is scraped over HTTP.
"""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest

from tests.netutil import free_port

REPO = Path(__file__).resolve().parents[2]
RASA_PY = REPO / ".venv" / "rasa" / "bin" / "python"

SCRIPT = r"""
import asyncio, os, re, urllib.request
from channels.metrics import serve, timed_turn
from channels.webchat.rest import LimitedRestInput
from channels.wechat import WeChatInput

async def on_new_message(message):
    return None

port = int(os.environ["YIWEN_RASA_METRICS_PORT"])
LimitedRestInput().blueprint(on_new_message)
WeChatInput.from_credentials(None).blueprint(on_new_message)
# Building the routes started the server (nothing else has been called yet) ...
urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=10).read()
assert serve() == port  # ... once, by the first channel

async def turns():
    await timed_turn("rest", on_new_message_ok, lambda: [{"text": "您好"}])
    await timed_turn("rest", on_new_message_ok, lambda: [])
    try:
        await timed_turn("wechat", broken)
    except RuntimeError:
        pass

async def on_new_message_ok():
    return None

async def broken():
    raise RuntimeError("policy crashed")

asyncio.run(turns())
text = urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=10).read().decode()
def sample(name, **labels):
    want = ",".join(f'{k}="{v}"' for k, v in sorted(labels.items()))
    m = re.search(re.escape(f"{name}{{{want}}}") + r" ([0-9.e+-]+)", text)
    return float(m.group(1)) if m else 0.0
assert sample("yiwen_turns_total", channel="rest", outcome="ok") == 1, text
assert sample("yiwen_turns_total", channel="rest", outcome="empty") == 1
assert sample("yiwen_turns_total", channel="wechat", outcome="error") == 1
assert sample("yiwen_turn_seconds_count", channel="rest") == 2
print("ok")
"""


def test_rasa_turns_are_counted_and_served_on_loopback(tmp_path: Path) -> None:
    if not RASA_PY.is_file():
        pytest.skip("需要 Rasa 环境 .venv/rasa")
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("YIWEN_")}
    env |= {"YIWEN_RASA_METRICS_PORT": str(port), "YIWEN_DATA_DIR": str(tmp_path)}
    done = subprocess.run(
        [str(RASA_PY), "-c", SCRIPT],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0 and done.stdout.strip().endswith("ok"), done.stderr[-3000:]
