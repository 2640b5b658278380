"""Rasa's socket.io channel, fixed for the python-socketio that Rasa 3.6.21 resolves to.

Why this exists (checked with rasa 3.6.21 + python-socketio 5.18):

* ``AsyncServer.enter_room`` became a coroutine, and Rasa's ``session_request``
  handler calls it without ``await``. With ``session_persistence: true`` the socket
  never joins its session room, so every bot reply is emitted to an empty room and
  lost. Without persistence the sender id is the socket id, so a page reload or a
  reconnect starts a new conversation (and abandons a half-filled complaint form).
* ``send_custom_json`` passes the custom dict as keyword arguments to ``emit``, so a
  custom payload that is not shaped ``{"data": ...}`` raises ``TypeError`` and the
  reply is lost.

``PersistentSocketIOInput`` re-registers those two handlers; ``credentials.yml``
names it instead of ``socketio``. The message handler also applies the public chat
limits (``channels.webchat.limits``): a message that is too long, or from a session or
address that sends too fast, gets a polite Chinese reply instead of a turn.

Sessions cannot be taken over (Rasa trusts whatever ``session_id`` the client names):

* ``session_request`` without an id gets a server-issued one (``uuid4().hex``); one
  outside the web format (``channels.webchat.senders``, e.g. ``wx:<openid>``) is
  refused: no ``session_confirm``, no room joined (so none of that conversation's
  replies), just a Chinese notice;
* a ``user_uttered`` runs a turn only for a well-formed session this socket opened with
  ``session_request``; otherwise the socket gets the same notice and no turn runs.

It runs inside the Rasa server (Python 3.10).
"""

from __future__ import annotations

import json
import logging
import uuid
from collections.abc import Awaitable, Callable
from typing import Any

from rasa.core.channels.channel import UserMessage
from rasa.core.channels.socketio import SocketIOInput, SocketIOOutput
from sanic import Blueprint

from channels.pairing import take_reply
from channels.webchat.limits import ChatGuard
from channels.webchat.senders import BAD_SENDER, is_web_sender
from core import pii

logger = logging.getLogger(__name__)
pii.install()  # Rasa's process: mask personal data in every log record from here on


class CustomJsonSocketIOOutput(SocketIOOutput):
    """Emits a custom payload as the event's data, with or without a ``data`` wrapper.

    A structured reply (``core.replies``) is one event, ``{"text", "quick_replies",
    "custom"}``, not Rasa's two (``channels.pairing``).
    """

    async def send_response(self, recipient_id: str, message: dict[str, Any]) -> None:
        reply = take_reply(message)
        if reply is not None:
            quick_replies = [
                {"content_type": "text", "title": b["title"], "payload": b["payload"]}
                for b in reply["buttons"]
            ]
            await self._send_message(
                recipient_id,
                {"text": reply["text"], "quick_replies": quick_replies, "custom": reply["custom"]},
            )
        await super().send_response(recipient_id, message)

    async def send_custom_json(
        self, recipient_id: str, json_message: dict[str, Any], **kwargs: Any
    ) -> None:
        message = dict(json_message)
        room = message.pop("room", recipient_id)
        payload = message["data"] if set(message) == {"data"} else message
        await self.sio.emit(self.bot_message_evt, payload, room=room)


class PersistentSocketIOInput(SocketIOInput):
    """socket.io input whose sessions survive reconnects (see the module docstring)."""

    @classmethod
    def name(cls) -> str:
        return "socketio"

    def get_output_channel(self) -> SocketIOOutput | None:
        if self.sio is None:
            return super().get_output_channel()
        return CustomJsonSocketIOOutput(self.sio, self.bot_message_evt)

    def blueprint(self, on_new_message: Callable[[UserMessage], Awaitable[Any]]) -> Blueprint:
        socketio_webhook = super().blueprint(on_new_message)
        sio = self.sio
        assert sio is not None  # set by the parent's blueprint()
        namespace = self.namespace
        guard = ChatGuard()

        def client_ip(sid: str) -> str:
            try:
                environ = sio.get_environ(sid, namespace=namespace) or {}
            except Exception:
                return ""
            request = environ.get("sanic.request")
            if request is not None:
                return str(request.remote_addr or request.ip or "")
            return str(environ.get("REMOTE_ADDR") or "")

        async def refuse(sid: str, why: str) -> None:
            logger.warning("socket.io：%s，拒绝", why)
            await sio.emit(
                self.bot_message_evt, {"text": BAD_SENDER}, room=sid, namespace=namespace
            )

        async def session_request(sid: str, data: dict[str, Any] | None) -> None:
            data = data if isinstance(data, dict) else {}
            session_id = data.get("session_id")
            if session_id is None or session_id == "":
                session_id = uuid.uuid4().hex
            elif not is_web_sender(session_id):
                await refuse(sid, "会话请求的编号无效")
                return
            if self.session_persistence:
                await sio.enter_room(sid, session_id, namespace=namespace)
            await sio.emit("session_confirm", session_id, room=sid, namespace=namespace)

        async def handle_message(sid: str, data: dict[str, Any] | None) -> None:
            data = data if isinstance(data, dict) else {}
            if self.session_persistence:
                sender_id = data.get("session_id")
                if not is_web_sender(sender_id):
                    await refuse(sid, "消息的会话编号无效")
                    return
                if sender_id not in (sio.rooms(sid, namespace=namespace) or ()):
                    await refuse(sid, "消息的会话不是本连接请求的会话")
                    return
            else:
                sender_id = sid
            metadata = data.get(self.metadata_key) or {}
            if isinstance(metadata, str):
                try:
                    metadata = json.loads(metadata)
                except ValueError:
                    metadata = {}
            text = data.get("message", "")
            text = text if isinstance(text, str) else ""
            refusal = await guard.refusal(sender_id, client_ip(sid), text)
            if refusal is not None:
                await sio.emit(
                    self.bot_message_evt, {"text": refusal[1]}, room=sid, namespace=namespace
                )
                return
            message = UserMessage(
                text,
                CustomJsonSocketIOOutput(sio, self.bot_message_evt),
                sender_id,
                input_channel=self.name(),
                metadata=metadata if isinstance(metadata, dict) else {},
            )
            await on_new_message(message)

        sio.on("session_request", session_request, namespace=namespace)
        sio.on(self.user_message_evt, handle_message, namespace=namespace)
        return socketio_webhook
