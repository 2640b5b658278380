"""The cached action-reply check (bot.rasa_patches) accepts and refuses exactly what
Rasa's own ``RemoteAction._validate_action_result`` does, with the same message.

Runs the real Rasa class in the Rasa environment (Python 3.10), in a subprocess.
"""

from __future__ import annotations

from tests.rasa_env import run_in_rasa

SCRIPT = r"""
import json
from jsonschema import ValidationError
from rasa.core.actions.action import RemoteAction
from bot import rasa_patches

REPLIES = [
    {"events": [{"event": "slot", "name": "x", "value": 1}], "responses": [{"text": "好"}]},
    {"events": [], "responses": []},
    {},
    {"events": "not a list"},
    {"events": [{"no_event_key": 1}]},
    {"responses": [{"text": 5}]},
]

def outcome(fn):
    out = []
    for reply in REPLIES:
        try:
            out.append(["ok", fn(RemoteAction("x", None), reply)])
        except ValidationError as exc:
            out.append(["error", exc.message])
    return out

original = outcome(RemoteAction._validate_action_result)
rasa_patches.install()
patched = outcome(RemoteAction._validate_action_result)
print(json.dumps({"original": original, "patched": patched,
                  "installed": RemoteAction._validate_action_result
                  is rasa_patches._validate_action_result}, ensure_ascii=False))
"""


def test_cached_reply_check_matches_rasas_own() -> None:
    seen = run_in_rasa(SCRIPT)
    assert seen["installed"] is True
    assert seen["patched"] == seen["original"]
    kinds = [k for k, _ in seen["original"]]
    assert kinds[:3] == ["ok", "ok", "ok"] and "error" in kinds[3:]


KEEPALIVE_SCRIPT = r"""
import asyncio, json
from aiohttp import web
from rasa.utils.endpoints import EndpointConfig, ClientResponseError
from bot import rasa_patches

async def main():
    peers = []

    async def hook(request):
        peers.append(request.transport.get_extra_info("peername")[1])
        body = await request.json()
        if body.get("fail"):
            return web.json_response({"error": "no"}, status=500)
        return web.json_response({"echo": body, "auth": request.headers.get("X-Key")})

    app = web.Application()
    app.router.add_post("/webhook", hook)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]
    endpoint = EndpointConfig(f"http://127.0.0.1:{port}/webhook", headers={"X-Key": "k"})

    async def three():
        out = [await endpoint.request(json={"n": i}, method="post") for i in range(2)]
        try:
            await endpoint.request(json={"fail": 1}, method="post")
        except ClientResponseError as exc:
            out.append(["error", exc.status])
        return out

    before = await three()
    ports_before = list(peers)
    del peers[:]
    rasa_patches.install()
    after = await three()
    await runner.cleanup()
    return {"before": before, "after": after, "ports_before": ports_before,
            "ports_after": list(peers)}

print(json.dumps(asyncio.run(main())))
"""


def test_action_calls_reuse_one_connection_with_the_same_results() -> None:
    seen = run_in_rasa(KEEPALIVE_SCRIPT)
    assert seen["after"] == seen["before"]
    assert seen["before"][0] == {"echo": {"n": 0}, "auth": "k"}
    assert seen["before"][2] == ["error", 500]
    assert len(set(seen["ports_before"])) == 3  # Rasa's own: a new connection per call
    assert len(set(seen["ports_after"])) == 1, seen["ports_after"]


IDLE_SCRIPT = r"""
import asyncio, json
from rasa.utils.endpoints import EndpointConfig
from bot import rasa_patches

async def main():
    rasa_patches.install()
    endpoint = EndpointConfig("http://127.0.0.1:9/webhook")
    async with endpoint.session() as session:
        return session.connector._keepalive_timeout

print(json.dumps(asyncio.run(main())))
"""


def test_the_action_server_keeps_idle_connections_longer_than_rasa_does() -> None:
    """A kept connection must never be one the action server is closing (CI, 2026-12-07:
    Sanic's 5 s default against aiohttp's 15 s lost a turn's action after a pause)."""
    from bot import processes

    client_idle = run_in_rasa(IDLE_SCRIPT)
    actions, _ = processes.rasa_services({})
    server_idle = float(actions["env"]["SANIC_KEEP_ALIVE_TIMEOUT"])
    assert server_idle > client_idle + 5, (server_idle, client_idle)
