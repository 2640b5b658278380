"""WeChat official-account (公众号) channel for Rasa, served at ``/webhooks/wechat/webhook``.

Configure it in credentials.yml as ``channels.wechat.WeChatInput:``; the secrets come
from ``YIWEN_WECHAT_*`` environment variables (see channels/wechat_settings.py).

Request handling, in order, and why:

1. Signature first, in every mode (403 when wrong or missing): nothing from a forged
   request reaches XML parsing. A safe-mode request carries the URL ``signature`` as
   well as ``msg_signature``, so an unsigned POST that merely claims
   ``encrypt_type=aes`` is refused before its body is read.
   Then freshness (403): a ``timestamp`` more than 5 minutes old or in the future is a
   replay (a signed request stays valid forever otherwise).
2. defusedxml with DTDs forbidden (400): WeChat never sends a DTD, so any DOCTYPE,
   entity or external reference is hostile (billion laughs, XXE).
3. Safe mode: ``msg_signature`` + AES via wechatpy; the decrypted XML goes through the
   same hardened parser. Replies are encrypted in the mode the request came in.
4. ``Dispatcher`` applies dedup, rate limit and the five-second rule.

Anything unexpected past the signature check is answered, never raised into Sanic:
WeChat retries on errors, and a crashing webhook would drop the message anyway.
"""

from __future__ import annotations

import inspect
import logging
import time
from collections.abc import Awaitable, Callable
from typing import Any

from rasa.core.channels.channel import InputChannel, UserMessage
from sanic import Blueprint, response
from sanic.request import Request
from sanic.response import HTTPResponse
from wechatpy.crypto import WeChatCrypto
from wechatpy.exceptions import InvalidSignatureException
from wechatpy.replies import TextReply
from wechatpy.utils import check_signature

from channels.metrics import serve as serve_metrics
from channels.metrics import timed_turn
from channels.webchat.readiness import refusal as replica_refusal
from channels.webchat.rest import PairedCollectingOutputChannel
from channels.wechat_api import (
    AccessTokenProvider,
    CustomerService,
    ServiceWindow,
    make_token_cache,
)
from channels.wechat_delivery import Dispatcher
from channels.wechat_inbound import Inbound, MalformedMessage, classify
from channels.wechat_settings import Texts, WeChatSettings, load_texts
from channels.wechat_state import make_store
from channels.wechat_text import cdata_safe
from channels.wechat_xml import BadRequest, parse_xml
from core import pii

logger = logging.getLogger(__name__)
pii.install()  # Rasa's process: mask personal data in every log record from here on

MAX_BODY_BYTES = 64 * 1024  # real messages are a few hundred bytes
#: How old a signed request may be, and how far ahead of our clock (NTP skew).
MAX_AGE_S = 300
MAX_FUTURE_S = 30


class StaleRequest(Exception):
    """A correctly signed request whose timestamp is too old or in the future (replay)."""


def check_fresh(timestamp: str, now: float | None = None) -> None:
    """Raise :class:`StaleRequest` unless ``timestamp`` is within the last 5 minutes."""
    try:
        sent = int(timestamp)
    except (TypeError, ValueError):
        raise StaleRequest(f"timestamp {timestamp!r} is not a number") from None
    age = (time.time() if now is None else now) - sent
    if age > MAX_AGE_S or age < -MAX_FUTURE_S:
        raise StaleRequest(f"timestamp {sent} is {age:.0f} s old")


class WeChatInput(InputChannel):
    """Rasa input channel for a WeChat official account (plaintext or safe mode)."""

    @classmethod
    def name(cls) -> str:
        return "wechat"

    @classmethod
    def from_credentials(cls, credentials: dict[str, Any] | None) -> WeChatInput:
        return cls(WeChatSettings.from_sources(credentials))

    def __init__(self, settings: WeChatSettings | None = None, texts: Texts | None = None) -> None:
        self.settings = settings or WeChatSettings.from_sources()
        self.texts = texts or load_texts()
        s = self.settings
        self.crypto = WeChatCrypto(s.token, s.aes_key, s.app_id) if s.safe_mode else None
        self.store = make_store(s.redis_url, s.redis_prefix)
        self.service: CustomerService | None = None
        if s.can_push:
            tokens = AccessTokenProvider(
                s.api_base,
                s.app_id,
                s.app_secret,
                make_token_cache(s.redis_url, s.data_dir, s.app_id, s.redis_prefix),
            )
            self.service = CustomerService(s.api_base, tokens, ServiceWindow(self.store))
        if not s.configured:
            logger.warning("微信渠道未配置：设置 YIWEN_WECHAT_TOKEN 后才能接收公众号消息")
        elif not s.can_push:
            logger.warning(
                "微信渠道未设置 YIWEN_WECHAT_APP_ID / YIWEN_WECHAT_APP_SECRET："
                "超过 %.1f 秒的答复将无法通过客服消息送达",
                s.passive_timeout,
            )
        self.dispatcher: Dispatcher | None = None

    # ------------------------------------------------------------------ Rasa hooks
    def blueprint(self, on_new_message: Callable[[UserMessage], Awaitable[Any]]) -> Blueprint:
        module = inspect.getmodule(self)
        webhook = Blueprint("wechat_webhook", module.__name__ if module else None)

        async def run_turn(inbound: Inbound, text: str) -> list[dict[str, Any]]:
            collector = PairedCollectingOutputChannel()  # a structured reply is one message
            message = UserMessage(
                text,
                collector,
                inbound.sender_id,  # wx:<openid>, a namespace no web client can name
                input_channel=self.name(),
                message_id=inbound.metadata["wechat"].get("msg_id"),
                metadata=inbound.metadata,
            )
            await timed_turn(
                self.name(), lambda: on_new_message(message), lambda: collector.messages
            )
            return collector.messages

        serve_metrics()  # YIWEN_RASA_METRICS_PORT; once per process
        self.dispatcher = Dispatcher(self.settings, self.texts, self.store, run_turn, self.service)

        @webhook.route("/", methods=["GET"])
        async def health(request: Request) -> HTTPResponse:
            return response.json(
                {
                    "status": "ok" if self.settings.configured else "not configured",
                    "safe_mode": self.settings.safe_mode,
                    "customer_service": self.settings.can_push,
                }
            )

        @webhook.route("/webhook", methods=["GET", "POST"])
        async def receive(request: Request) -> HTTPResponse:
            if not self.settings.configured:
                return response.text("WeChat channel not configured: set YIWEN_WECHAT_TOKEN", 503)
            if request.method == "GET":
                return self._verify(request)
            # No model or a store down (channels/webchat/readiness.py): 503 lets nginx
            # hand the push to another replica; WeChat itself retries a 5xx.
            refusal = await replica_refusal(request.app)
            if refusal is not None:
                return response.text(refusal[1], refusal[0])
            try:
                return await self._receive(request)
            except BadRequest as exc:
                logger.warning("拒绝微信请求：%s", exc)
                return response.text("bad request", 400)
            except InvalidSignatureException:
                logger.warning("微信请求签名错误（来自 %s）", request.ip)
                return response.text("invalid signature", 403)
            except StaleRequest as exc:
                logger.warning("微信请求已过期或时间戳异常（来自 %s）：%s", request.ip, exc)
                return response.text("stale request", 403)
            except Exception:
                logger.exception("微信请求处理异常")
                return response.text("success")

        return webhook

    # ------------------------------------------------------------------ handlers
    def _verify(self, request: Request) -> HTTPResponse:
        """Server verification: echo ``echostr`` when the signature matches."""
        arg = request.args.get
        try:
            check_signature(
                self.settings.token, arg("signature", ""), arg("timestamp", ""), arg("nonce", "")
            )
            check_fresh(arg("timestamp", ""))
        except InvalidSignatureException:
            logger.warning("微信服务器验证签名错误：请核对公众号后台的 Token 与 YIWEN_WECHAT_TOKEN")
            return response.text("invalid signature", 403)
        except StaleRequest as exc:
            logger.warning("微信服务器验证请求已过期：%s（请核对服务器时钟）", exc)
            return response.text("stale request", 403)
        return response.text(arg("echostr", ""))

    async def _receive(self, request: Request) -> HTTPResponse:
        arg = request.args.get
        signature, timestamp, nonce = arg("signature", ""), arg("timestamp", ""), arg("nonce", "")
        encrypted = arg("encrypt_type", "").lower() == "aes"
        # Always, whatever the request claims: the body is untouched until this passes.
        check_signature(self.settings.token, signature, timestamp, nonce)
        check_fresh(timestamp)
        body = request.body or b""
        if len(body) > MAX_BODY_BYTES:
            raise BadRequest(f"body of {len(body)} bytes is too large")
        fields = parse_xml(body)
        if encrypted:
            fields = parse_xml(self._decrypt(fields, arg("msg_signature", ""), timestamp, nonce))
        try:
            inbound = classify(fields, self.texts)
        except MalformedMessage as exc:
            raise BadRequest(str(exc)) from None
        assert self.dispatcher is not None
        reply = await self.dispatcher.handle(inbound)
        if not reply:
            return response.text("success")
        xml = TextReply(
            source=inbound.account, target=inbound.openid, content=cdata_safe(reply)
        ).render()
        if encrypted and self.crypto is not None:
            xml = self.crypto.encrypt_message(xml, nonce or "yiwen", str(int(time.time())))
        return response.text(xml, content_type="application/xml; charset=utf-8")

    def _decrypt(
        self, fields: dict[str, str], msg_signature: str, timestamp: str, nonce: str
    ) -> str:
        if self.crypto is None:
            raise BadRequest(
                "encrypted message but no YIWEN_WECHAT_AES_KEY: set the EncodingAESKey "
                "from the official account's settings"
            )
        if not fields.get("Encrypt"):
            raise BadRequest("encrypted message without <Encrypt>")
        try:
            return str(
                self.crypto.decrypt_message(
                    {"Encrypt": fields["Encrypt"]}, msg_signature, timestamp, nonce
                )
            )
        except InvalidSignatureException:
            raise
        except Exception as exc:  # wrong AppID, bad padding, bad base64 …
            raise BadRequest(f"cannot decrypt ({type(exc).__name__})") from None
