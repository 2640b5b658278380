"""Rasa's REST channel with the public-endpoint limits (``channels.webchat.limits``).

``credentials.yml`` names ``channels.webchat.rest.LimitedRestInput`` instead of
``rest``; the URL (``/webhooks/rest/webhook``) and the channel name stay ``rest``.

Three changes to Rasa's ``RestInput``, all because the endpoint is public:

* a sender id outside the web format (``channels.webchat.senders``: no ``wx:…``, no
  missing id that Rasa would turn into the shared ``default``) is answered 400, a
  message over the length limit 413, and a sender id or client address that sends too
  fast 429, each with a polite Chinese reply in the channel's own shape
  (``[{"recipient_id", "text"}]``), before Rasa runs a turn;
* the client can no longer name the input channel (``"input_channel": "wechat"`` in
  the body): tickets record the channel as provenance, so it is always ``rest``.

And one for structured replies (``core.replies``): a reply's text, buttons and payload
come back as one message (``{"recipient_id", "text", "buttons", "custom"}``) instead of
Rasa's two (:class:`PairedCollectingOutputChannel`, ``channels.pairing``).

Each turn is counted and timed (``channels.metrics``: ``yiwen_turns_total``,
``yiwen_turn_seconds``), served on ``127.0.0.1:$YIWEN_RASA_METRICS_PORT``.

Runs inside the Rasa server (Python 3.10).
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from typing import Any

from rasa.core.channels.channel import CollectingOutputChannel, UserMessage
from rasa.core.channels.rest import RestInput
from sanic import Blueprint, response
from sanic.request import Request
from sanic.response import HTTPResponse

from channels.metrics import serve as serve_metrics
from channels.metrics import timed_turn
from channels.pairing import take_reply
from channels.webchat.limits import ChatGuard
from channels.webchat.readiness import failed_turn
from channels.webchat.readiness import refusal as replica_refusal
from core import pii

logger = logging.getLogger(__name__)
pii.install()  # Rasa's process: mask personal data in every log record from here on


def client_ip(request: Request) -> str:
    """The client address (the proxy's forwarded one when ``SANIC_PROXIES_COUNT`` is set)."""
    return str(request.remote_addr or request.ip or "")


class PairedCollectingOutputChannel(CollectingOutputChannel):
    """Rasa's collector, except that a structured reply is one message, not two.

    ``messages`` may be another collector's list, so the REST route, which returns the
    list of the collector it made, returns what this one collected.
    """

    def __init__(self, messages: list[dict[str, Any]] | None = None) -> None:
        super().__init__()
        if messages is not None:
            self.messages = messages

    async def send_response(self, recipient_id: str, message: dict[str, Any]) -> None:
        reply = take_reply(message)
        if reply is not None:
            await self._persist_message(
                self._message(
                    recipient_id,
                    text=reply["text"],
                    buttons=reply["buttons"] or None,
                    custom=reply["custom"],
                )
            )
        await super().send_response(recipient_id, message)


class LimitedRestInput(RestInput):
    """REST input with size and rate limits (see the module docstring)."""

    @classmethod
    def name(cls) -> str:
        return "rest"

    def __init__(self, guard: ChatGuard | None = None) -> None:
        self.guard = guard or ChatGuard()

    @classmethod
    def from_credentials(cls, credentials: dict[str, Any] | None) -> LimitedRestInput:
        return cls()

    def _extract_input_channel(self, req: Request) -> str:
        return self.name()

    def blueprint(self, on_new_message: Callable[[UserMessage], Awaitable[Any]]) -> Blueprint:
        async def paired(message: UserMessage) -> Any:
            # Rasa's route makes a plain collector and answers with its list; collect
            # into that same list, pairing structured replies (not the stream's queue).
            collected: list[dict[str, Any]] | None = None
            if type(message.output_channel) is CollectingOutputChannel:
                collected = message.output_channel.messages
                message.output_channel = PairedCollectingOutputChannel(collected)
            return await timed_turn(self.name(), lambda: on_new_message(message), lambda: collected)

        serve_metrics()  # YIWEN_RASA_METRICS_PORT; once per process
        webhook = super().blueprint(paired)

        @webhook.middleware("request")
        async def limit(request: Request) -> HTTPResponse | None:
            if request.method != "POST" or not request.path.endswith("/webhook"):
                return None
            try:
                body = request.json
            except Exception:  # Sanic raises on malformed JSON
                body = None
            if not isinstance(body, dict):
                return response.json({"error": "请求内容应为 JSON 对象"}, status=400)
            sender = body.get("sender")
            sender = sender if isinstance(sender, str) else ""
            text = body.get("message")
            refusal = await self.guard.refusal(
                sender, client_ip(request), text if isinstance(text, str) else ""
            )
            if refusal is None:
                refusal = await replica_refusal(request.app)
            if refusal is None:
                return None
            status, message = refusal
            return response.json(
                [{"recipient_id": sender, "text": message}],
                status=status,
                headers={"Retry-After": "60"} if status == 429 else None,
            )

        @webhook.middleware("response")
        async def never_empty(request: Request, reply: HTTPResponse) -> HTTPResponse | None:
            # Rasa's route logs a turn that raised (a store gone mid-turn, a bug) and
            # answers 200 with an empty list: the citizen would see nothing at all.
            if request.method != "POST" or not request.path.endswith("/webhook"):
                return None
            if reply.status != 200 or (reply.body or b"").strip() != b"[]":
                return None
            status, message = await failed_turn(request.app)
            sender = (request.json or {}).get("sender")
            return response.json([{"recipient_id": sender, "text": message}], status=status)

        return webhook
