"""A stand-in for WeChat's servers, written from the protocol, not from wechatpy.

Why independent: the channel uses wechatpy for signatures and AES; if the simulator
used it too, a shared misunderstanding would pass unnoticed. Here signing and the
AES-256-CBC envelope (random 16 bytes | length | message | AppID, PKCS#7 to 32-byte
blocks, IV = first 16 key bytes) are implemented directly with ``cryptography``.

Like WeChat, ``deliver`` waits ``timeout`` (5 s) for each attempt and retries the
same message three more times when the attempt times out or fails.
"""

from __future__ import annotations

import base64
import hashlib
import os
import secrets
import struct
import time
import xml.etree.ElementTree as ET
from collections.abc import Mapping
from dataclasses import dataclass, field
from itertools import count

import httpx
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes

_msg_ids = count(int(time.time() * 1000) * 1000 + os.getpid() % 1000)


def sha1_signature(*parts: str) -> str:
    """WeChat's signature: SHA-1 of the sorted parts, concatenated."""
    return hashlib.sha1("".join(sorted(parts)).encode("utf-8")).hexdigest()


def new_aes_key() -> str:
    """A 43-character EncodingAESKey, as the official-account console generates."""
    return base64.b64encode(secrets.token_bytes(32)).decode("ascii").rstrip("=")


def next_msg_id() -> str:
    return str(next(_msg_ids))


def new_openid() -> str:
    return "o" + secrets.token_urlsafe(20)[:27]


class AESEnvelope:
    """WeChat's message encryption for one EncodingAESKey and AppID."""

    def __init__(self, aes_key: str, app_id: str) -> None:
        self.key = base64.b64decode(aes_key + "=")
        assert len(self.key) == 32
        self.app_id = app_id

    def _cipher(self) -> Cipher[modes.CBC]:
        return Cipher(algorithms.AES(self.key), modes.CBC(self.key[:16]))

    def encrypt(self, xml: str) -> str:
        body = xml.encode("utf-8")
        plain = secrets.token_bytes(16) + struct.pack(">I", len(body)) + body
        plain += self.app_id.encode("utf-8")
        pad = 32 - len(plain) % 32
        plain += bytes([pad]) * pad
        encryptor = self._cipher().encryptor()
        return base64.b64encode(encryptor.update(plain) + encryptor.finalize()).decode("ascii")

    def decrypt(self, encrypted: str) -> str:
        decryptor = self._cipher().decryptor()
        plain = decryptor.update(base64.b64decode(encrypted)) + decryptor.finalize()
        pad = plain[-1]
        assert 1 <= pad <= 32, "bad PKCS#7 padding"
        plain = plain[:-pad]
        (length,) = struct.unpack(">I", plain[16:20])
        body, app_id = plain[20 : 20 + length], plain[20 + length :]
        assert app_id.decode("utf-8") == self.app_id, "reply encrypted for another AppID"
        return body.decode("utf-8")


def message_xml(fields: Mapping[str, str | int]) -> str:
    """WeChat-style XML: strings in CDATA, numbers bare."""
    nodes = []
    for name, value in fields.items():
        if isinstance(value, int):
            nodes.append(f"<{name}>{value}</{name}>")
        else:
            nodes.append(f"<{name}><![CDATA[{value}]]></{name}>")
    return "<xml>" + "".join(nodes) + "</xml>"


def parse_reply(xml: str) -> dict[str, str]:
    root = ET.fromstring(xml)
    assert root.tag == "xml", xml
    return {child.tag: child.text or "" for child in root}


@dataclass
class Attempt:
    status: int | None  # None: WeChat gave up waiting (timeout) or could not connect
    body: str = ""
    seconds: float = 0.0


@dataclass
class Delivery:
    """What WeChat saw for one message: every attempt and the reply it accepted."""

    attempts: list[Attempt] = field(default_factory=list)
    reply: dict[str, str] | None = None  # the accepted passive reply; None if empty

    @property
    def content(self) -> str | None:
        return self.reply.get("Content") if self.reply else None


class WeChatSimulator:
    """Signs (and in safe mode encrypts) messages and posts them like WeChat does."""

    def __init__(
        self,
        webhook_url: str,
        token: str,
        account: str = "gh_yiwen_test",
        aes_key: str = "",
        app_id: str = "",
        timeout: float = 5.0,
        retries: int = 3,
    ) -> None:
        self.url = webhook_url
        self.token = token
        self.account = account
        self.envelope = AESEnvelope(aes_key, app_id) if aes_key else None
        self.timeout = timeout
        self.retries = retries

    # ------------------------------------------------------------------ verification
    def verify(self, echostr: str, token: str | None = None) -> httpx.Response:
        timestamp, nonce = str(int(time.time())), secrets.token_hex(5)
        signature = sha1_signature(token or self.token, timestamp, nonce)
        params = {"signature": signature, "timestamp": timestamp, "nonce": nonce}
        return httpx.get(self.url, params={**params, "echostr": echostr}, timeout=self.timeout)

    # ------------------------------------------------------------------ messages
    def text(self, openid: str, content: str, msg_id: str | None = None) -> dict[str, str | int]:
        return self._message(openid, "text", msg_id, Content=content)

    def voice(self, openid: str, recognition: str | None, media_id: str = "") -> dict:
        extra: dict[str, str | int] = {"MediaId": media_id or "voice-" + next_msg_id()}
        extra["Format"] = "amr"
        if recognition is not None:
            extra["Recognition"] = recognition
        return self._message(openid, "voice", None, **extra)

    def image(self, openid: str, media_id: str) -> dict[str, str | int]:
        pic = f"http://mmbiz.qpic.cn/fake/{media_id}/0"
        return self._message(openid, "image", None, PicUrl=pic, MediaId=media_id)

    def event(self, openid: str, event: str, key: str = "", create_time: int | None = None) -> dict:
        fields: dict[str, str | int] = {
            "ToUserName": self.account,
            "FromUserName": openid,
            "CreateTime": create_time or int(time.time()),
            "MsgType": "event",
            "Event": event,
        }
        if key:
            fields["EventKey"] = key
        return fields

    def _message(
        self, openid: str, msg_type: str, msg_id: str | None, **extra: str | int
    ) -> dict[str, str | int]:
        return {
            "ToUserName": self.account,
            "FromUserName": openid,
            "CreateTime": int(time.time()),
            "MsgType": msg_type,
            **extra,
            "MsgId": int(msg_id or next_msg_id()),
        }

    def signed_request(
        self, fields: Mapping[str, str | int] | str, token: str | None = None
    ) -> tuple[dict[str, str], str]:
        """Query parameters and body for one attempt (fresh timestamp and nonce)."""
        xml = fields if isinstance(fields, str) else message_xml(fields)
        token = token or self.token
        timestamp, nonce = str(int(time.time())), secrets.token_hex(5)
        params = {
            "signature": sha1_signature(token, timestamp, nonce),
            "timestamp": timestamp,
            "nonce": nonce,
        }
        if not isinstance(fields, str):
            params["openid"] = str(fields["FromUserName"])
        if self.envelope is None:
            return params, xml
        encrypt = self.envelope.encrypt(xml)
        params["encrypt_type"] = "aes"
        params["msg_signature"] = sha1_signature(token, timestamp, nonce, encrypt)
        body = message_xml({"ToUserName": self.account, "Encrypt": encrypt})
        return params, body

    def post(
        self, fields: Mapping[str, str | int] | str, timeout: float | None = None, **kw: str
    ) -> Attempt:
        """One attempt, as WeChat makes it; ``kw`` can forge query parameters."""
        params, body = self.signed_request(fields, token=kw.pop("token", None))
        params.update(kw)
        started = time.monotonic()
        try:
            r = httpx.post(
                self.url,
                params=params,
                content=body.encode("utf-8"),
                headers={"Content-Type": "text/xml"},
                timeout=timeout or self.timeout,
            )
        except httpx.HTTPError:
            return Attempt(None, "", time.monotonic() - started)
        return Attempt(r.status_code, r.text, time.monotonic() - started)

    def deliver(self, fields: Mapping[str, str | int], timeout: float | None = None) -> Delivery:
        """Post with WeChat's retry policy and return the reply WeChat would show."""
        delivery = Delivery()
        for _ in range(1 + self.retries):
            attempt = self.post(fields, timeout=timeout)
            delivery.attempts.append(attempt)
            if attempt.status == 200:
                delivery.reply = self.read_reply(attempt.body)
                return delivery
        return delivery

    def read_reply(self, body: str) -> dict[str, str] | None:
        """The passive reply in a 200 body; None for the empty answers ("", "success")."""
        if body.strip() in {"", "success"}:
            return None
        reply = parse_reply(body)
        if self.envelope is not None:
            assert "Encrypt" in reply, f"safe mode must answer encrypted, got {body!r}"
            expected = sha1_signature(
                self.token, reply["TimeStamp"], reply["Nonce"], reply["Encrypt"]
            )
            assert reply["MsgSignature"] == expected, "reply signature does not match"
            reply = parse_reply(self.envelope.decrypt(reply["Encrypt"]))
        return reply
