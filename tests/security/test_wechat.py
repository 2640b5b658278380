"""WeChat webhook: replayed (stale or future) requests and unsigned safe-mode claims (#12).

Before the fix a signed request from 2001 was accepted, and a POST without
``signature`` that claimed ``encrypt_type=aes`` went straight to the XML parser (400).
"""

from __future__ import annotations

import hashlib
import secrets
import time

import httpx
import pytest

from tests.security.stack import Stack

pytestmark = [pytest.mark.rasa, pytest.mark.slow]


def _signed(stack: Stack, timestamp: int) -> dict[str, str]:
    ts, nonce = str(timestamp), secrets.token_hex(4)
    signature = hashlib.sha1("".join(sorted([stack.wechat_token, ts, nonce])).encode())
    return {"signature": signature.hexdigest(), "timestamp": ts, "nonce": nonce}


def _text(openid: str, content: str) -> bytes:
    return (
        f"<xml><ToUserName><![CDATA[gh_test]]></ToUserName>"
        f"<FromUserName><![CDATA[{openid}]]></FromUserName>"
        f"<CreateTime>{int(time.time())}</CreateTime><MsgType><![CDATA[text]]></MsgType>"
        f"<Content><![CDATA[{content}]]></Content><MsgId>{secrets.randbits(48)}</MsgId></xml>"
    ).encode()


@pytest.mark.parametrize("age", [600, 86400 * 365 * 25, -600], ids=["10-min", "2001", "future"])
def test_stale_or_future_timestamp_is_403(stack: Stack, age: int) -> None:
    url = f"{stack.rasa_url}/webhooks/wechat/webhook"
    params = _signed(stack, int(time.time()) - age)
    post = httpx.post(url, params=params, content=_text("oStale", "转人工"), timeout=60)
    verify = httpx.get(url, params={**params, "echostr": "x"}, timeout=60)
    assert (post.status_code, verify.status_code) == (403, 403)


def test_fresh_signed_message_is_answered(stack: Stack) -> None:
    url = f"{stack.rasa_url}/webhooks/wechat/webhook"
    params = _signed(stack, int(time.time()))
    response = httpx.post(url, params=params, content=_text("oFresh", "转人工"), timeout=60)
    assert response.status_code == 200


@pytest.mark.parametrize("body", [b"not xml at all", b"<xml><Encrypt>x</Encrypt></xml>"])
def test_unsigned_aes_claim_never_reaches_the_parser(stack: Stack, body: bytes) -> None:
    response = httpx.post(
        f"{stack.rasa_url}/webhooks/wechat/webhook",
        params={"encrypt_type": "aes", "msg_signature": "0" * 40, "timestamp": "1", "nonce": "n"},
        content=body,
        timeout=60,
    )
    assert response.status_code == 403  # was 400: parsed before any check
