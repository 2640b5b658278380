"""A local fake of WeChat's ``/cgi-bin/token`` and customer-service message API.

It records every request so tests can assert what the channel sent, and it can be
told to fail the way WeChat fails (expired token, busy, window closed).
"""

from __future__ import annotations

import json
import secrets
import threading
import time
import urllib.parse
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


@dataclass(frozen=True)
class SentMessage:
    openid: str
    content: str
    access_token: str


class FakeWeChatAPI:
    """Start with ``with FakeWeChatAPI(app_id, secret) as api: …``; ``api.base`` is the URL."""

    def __init__(self, app_id: str, app_secret: str, expires_in: int = 7200) -> None:
        self.app_id = app_id
        self.app_secret = app_secret
        self.expires_in = expires_in
        self.token_requests = 0
        self.valid_tokens: set[str] = set()
        self.sent: list[SentMessage] = []
        self.raw_bodies: list[bytes] = []
        self.menus: list[dict[str, Any]] = []
        self.failures: list[int] = []  # errcodes to answer the next sends with, in order
        self._cond = threading.Condition()
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self._server.server_address[1]}"

    def __enter__(self) -> FakeWeChatAPI:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._server.shutdown()
        self._server.server_close()

    # ------------------------------------------------------------------ test helpers
    def expire_tokens(self) -> None:
        """Every issued token becomes invalid (as after another client refreshed)."""
        with self._cond:
            self.valid_tokens.clear()

    def fail_next(self, *errcodes: int) -> None:
        with self._cond:
            self.failures.extend(errcodes)

    def messages_to(self, openid: str) -> list[str]:
        with self._cond:
            return [m.content for m in self.sent if m.openid == openid]

    def wait_for(self, openid: str, n: int = 1, timeout: float = 30.0) -> list[str]:
        """Block until ``n`` messages reached ``openid`` (or the timeout passes)."""
        deadline = time.monotonic() + timeout
        with self._cond:
            while True:
                got = [m.content for m in self.sent if m.openid == openid]
                left = deadline - time.monotonic()
                if len(got) >= n or left <= 0:
                    return got
                self._cond.wait(left)

    # ------------------------------------------------------------------ HTTP
    def _handler(self) -> type[BaseHTTPRequestHandler]:
        api = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: Any) -> None:  # keep test output quiet
                pass

            def _answer(self, payload: dict[str, Any]) -> None:
                body = json.dumps(payload, ensure_ascii=False).encode("utf-8")
                self.send_response(200)
                self.send_header("Content-Type", "application/json; charset=utf-8")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def do_GET(self) -> None:
                url = urllib.parse.urlsplit(self.path)
                query = dict(urllib.parse.parse_qsl(url.query))
                if url.path != "/cgi-bin/token":
                    self.send_error(404)
                    return
                if query.get("grant_type") != "client_credential":
                    self._answer({"errcode": 40002, "errmsg": "invalid grant_type"})
                    return
                if query.get("appid") != api.app_id or query.get("secret") != api.app_secret:
                    self._answer({"errcode": 40001, "errmsg": "invalid credential"})
                    return
                token = "TOKEN_" + secrets.token_hex(8)
                with api._cond:
                    api.token_requests += 1
                    api.valid_tokens.add(token)
                self._answer({"access_token": token, "expires_in": api.expires_in})

            def do_POST(self) -> None:
                url = urllib.parse.urlsplit(self.path)
                query = dict(urllib.parse.parse_qsl(url.query))
                if url.path not in ("/cgi-bin/message/custom/send", "/cgi-bin/menu/create"):
                    self.send_error(404)
                    return
                length = int(self.headers.get("Content-Length") or 0)
                raw = self.rfile.read(length)
                token = query.get("access_token", "")
                with api._cond:
                    api.raw_bodies.append(raw)
                    if token not in api.valid_tokens:
                        self._answer({"errcode": 40001, "errmsg": "invalid credential"})
                        return
                    if api.failures:
                        code = api.failures.pop(0)
                        self._answer({"errcode": code, "errmsg": "fake failure"})
                        return
                if url.path == "/cgi-bin/menu/create":
                    with api._cond:
                        api.menus.append(json.loads(raw.decode("utf-8")))
                    self._answer({"errcode": 0, "errmsg": "ok"})
                    return
                try:
                    payload = json.loads(raw.decode("utf-8"))
                    openid = payload["touser"]
                    assert payload["msgtype"] == "text"
                    content = payload["text"]["content"]
                except (ValueError, KeyError, AssertionError):
                    self._answer({"errcode": 40008, "errmsg": "invalid message"})
                    return
                with api._cond:
                    api.sent.append(SentMessage(openid, content, token))
                    api._cond.notify_all()
                self._answer({"errcode": 0, "errmsg": "ok"})

        return Handler
