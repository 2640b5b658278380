"""Conversations cannot be taken over through the web channels (issue 12, "Sessions").

Before the fix Rasa's REST and socket.io channels ran a turn for whatever sender id the
client named, and the WeChat channel named its conversations by the bare openid: a web
client that sent ``sender: "<someone's openid>"`` continued that citizen's conversation
and read the replies (a half-filled complaint form with name and phone). Now WeChat
conversations are ``wx:<openid>`` and a web sender id must match one format without
``:`` (``channels.webchat.senders``).
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import secrets
import time
from typing import Any

import httpx
import pytest
import websockets

from channels.webchat.senders import BAD_SENDER
from channels.wechat_inbound import wechat_sender
from tests.security.stack import Stack

pytestmark = [pytest.mark.rasa, pytest.mark.slow]

JUNK = ["wx:oVictim0123456789abcdefgh", "../x", "a" * 200, "", "default", "abcdefgh\n"]
JUNK_IDS = ["wechat", "path", "200-chars", "empty", "rasa-default", "newline"]


def _user_turns(stack: Stack, sender: str) -> list[dict[str, Any]]:
    tracker = httpx.get(
        f"{stack.rasa_url}/conversations/{sender}/tracker",
        params={"token": stack.rasa_token},
        timeout=30,
    )
    tracker.raise_for_status()
    return [e for e in tracker.json()["events"] if e.get("event") == "user"]


def _post(stack: Stack, body: dict[str, Any]) -> httpx.Response:
    return httpx.post(f"{stack.rasa_url}/webhooks/rest/webhook", json=body, timeout=120)


def _wechat_says(stack: Stack, openid: str, content: str) -> None:
    """A signed plaintext WeChat message, as WeChat's servers send it."""
    ts, nonce = str(int(time.time())), secrets.token_hex(4)
    signature = hashlib.sha1("".join(sorted([stack.wechat_token, ts, nonce])).encode())
    xml = (
        f"<xml><ToUserName><![CDATA[gh_test]]></ToUserName>"
        f"<FromUserName><![CDATA[{openid}]]></FromUserName>"
        f"<CreateTime>{ts}</CreateTime><MsgType><![CDATA[text]]></MsgType>"
        f"<Content><![CDATA[{content}]]></Content><MsgId>{secrets.randbits(48)}</MsgId></xml>"
    )
    response = httpx.post(
        f"{stack.rasa_url}/webhooks/wechat/webhook",
        params={"signature": signature.hexdigest(), "timestamp": ts, "nonce": nonce},
        content=xml.encode(),
        timeout=60,
    )
    assert response.status_code == 200, response.text


# ---------------------------------------------------------------------------- REST
@pytest.mark.parametrize("sender", JUNK, ids=JUNK_IDS)
def test_rest_refuses_a_sender_outside_the_web_format(stack: Stack, sender: str) -> None:
    response = _post(stack, {"sender": sender, "message": "你好"})
    assert response.status_code == 400, response.text
    assert response.json() == [{"recipient_id": sender, "text": BAD_SENDER}]
    if sender and "/" not in sender and "\n" not in sender:
        assert _user_turns(stack, sender) == []  # no turn ran


def test_rest_without_a_sender_no_longer_shares_rasas_default_conversation(stack: Stack) -> None:
    for body in ({"message": "你好"}, {"sender": None, "message": "你好"}, {"sender": 12345678}):
        response = _post(stack, body)
        assert response.status_code == 400 and response.json()[0]["text"] == BAD_SENDER
    assert _user_turns(stack, "default") == []


def test_rest_with_a_widget_sender_still_gets_an_answer(stack: Stack) -> None:
    sender = secrets.token_hex(16)  # what the widget makes
    response = _post(stack, {"sender": sender, "message": "你好"})
    assert response.status_code == 200
    assert response.json() and all(m["recipient_id"] == sender for m in response.json())
    assert [e["text"] for e in _user_turns(stack, sender)] == ["你好"]


def test_web_client_cannot_reach_a_wechat_conversation(stack: Stack) -> None:
    """The attack itself: a citizen talks on WeChat; a web client names their openid."""
    openid = "o" + secrets.token_urlsafe(20)[:27]
    _wechat_says(stack, openid, "我要投诉")
    victim = wechat_sender(openid)
    deadline = time.monotonic() + 90  # a turn slower than 4 s finishes after the reply
    while not _user_turns(stack, victim) and time.monotonic() < deadline:
        time.sleep(0.5)
    assert [e["text"] for e in _user_turns(stack, victim)] == ["我要投诉"]
    assert _user_turns(stack, openid) == []  # the bare openid names no conversation

    refused = _post(stack, {"sender": victim, "message": "取消"})
    assert refused.status_code == 400
    bare = _post(stack, {"sender": openid, "message": "你好"})  # well-formed: its own chat
    assert bare.status_code == 200
    assert [e["text"] for e in _user_turns(stack, victim)] == ["我要投诉"]
    assert [e.get("input_channel") for e in _user_turns(stack, openid)] == ["rest"]


# ---------------------------------------------------------------------------- socket.io
class SocketIO:
    """Just enough of the socket.io protocol (Engine.IO 4 over a websocket) to probe."""

    def __init__(self, ws: Any) -> None:
        self.ws = ws

    @classmethod
    async def open(cls, rasa_url: str) -> SocketIO:
        url = rasa_url.replace("http://", "ws://") + "/socket.io/?EIO=4&transport=websocket"
        ws = await websockets.connect(url, open_timeout=30)
        client = cls(ws)
        assert (await ws.recv()).startswith("0")  # engine.io open
        await ws.send("40")  # connect the default namespace
        assert (await client._next())[0] == "connect"
        return client

    async def _next(self) -> tuple[str, Any]:
        while True:
            packet = await self.ws.recv()
            if packet == "2":  # engine.io ping
                await self.ws.send("3")
            elif packet.startswith("40"):
                return "connect", None
            elif packet.startswith("42"):
                event, *args = json.loads(packet[2:])
                return event, args[0] if args else None

    async def emit(self, event: str, data: Any) -> None:
        await self.ws.send("42" + json.dumps([event, data], ensure_ascii=False))

    async def events(self, seconds: float, settle: float | None = None) -> list[tuple[str, Any]]:
        """What the server emits within ``seconds`` (or ``settle`` s after the first)."""
        got: list[tuple[str, Any]] = []
        deadline = time.monotonic() + seconds
        while (left := deadline - time.monotonic()) > 0:
            try:
                got.append(await asyncio.wait_for(self._next(), left))
            except asyncio.TimeoutError:
                break
            if settle is not None:
                deadline = min(deadline, time.monotonic() + settle)
        return got

    async def close(self) -> None:
        await self.ws.close()


@pytest.mark.parametrize(
    "session_id", [*JUNK[:3], "default", 12345678], ids=[*JUNK_IDS[:3], "rasa-default", "number"]
)
def test_socketio_refuses_a_session_outside_the_web_format(stack: Stack, session_id: Any) -> None:
    async def probe() -> list[tuple[str, Any]]:
        sio = await SocketIO.open(stack.rasa_url)
        try:
            await sio.emit("session_request", {"session_id": session_id})
            refused = await sio.events(2)
            await sio.emit("user_uttered", {"message": "你好", "session_id": session_id})
            return refused + await sio.events(3)
        finally:
            await sio.close()

    got = asyncio.run(probe())
    assert got == [("bot_uttered", {"text": BAD_SENDER})] * 2, got
    if isinstance(session_id, str) and "/" not in session_id:
        assert _user_turns(stack, session_id) == []


def test_socketio_message_must_name_the_session_this_socket_opened(stack: Stack) -> None:
    mine, theirs = secrets.token_hex(16), secrets.token_hex(16)

    async def probe() -> tuple[list[tuple[str, Any]], ...]:
        sio = await SocketIO.open(stack.rasa_url)
        try:
            await sio.emit("session_request", {"session_id": mine})
            confirmed = await sio.events(2)
            await sio.emit("user_uttered", {"message": "你好", "session_id": theirs})
            foreign = await sio.events(3)
            await sio.emit("user_uttered", {"message": "你好", "session_id": mine})
            own = await sio.events(90, settle=2)
            return confirmed, foreign, own
        finally:
            await sio.close()

    confirmed, foreign, own = asyncio.run(probe())
    assert confirmed == [("session_confirm", mine)]
    assert foreign == [("bot_uttered", {"text": BAD_SENDER})]
    assert _user_turns(stack, theirs) == []
    assert own and all(event == "bot_uttered" for event, _ in own), own
    assert BAD_SENDER not in json.dumps(own, ensure_ascii=False)
    assert [e["text"] for e in _user_turns(stack, mine)] == ["你好"]


def test_socketio_without_a_session_id_gets_a_server_issued_one(stack: Stack) -> None:
    async def probe() -> list[tuple[str, Any]]:
        sio = await SocketIO.open(stack.rasa_url)
        try:
            await sio.emit("session_request", {})
            return await sio.events(2)
        finally:
            await sio.close()

    [(event, session_id)] = asyncio.run(probe())
    assert event == "session_confirm"
    assert isinstance(session_id, str) and len(session_id) == 32
    int(session_id, 16)
