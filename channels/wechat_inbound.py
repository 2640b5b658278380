"""What a decrypted WeChat message asks of the assistant.

Why a separate, pure step: the mapping from WeChat's message kinds to dialogue input
(voice → its recognised text, image → complaint evidence, menu click → intent) is the
channel's policy, and keeping it free of HTTP, crypto and Rasa lets it be tested alone.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from channels.wechat_settings import Texts

EVIDENCE_PREFIX = "wechat-media:"
#: Namespace of WeChat conversations among Rasa's sender ids. Web sender ids can never
#: contain ``:`` (``channels.webchat.senders``), so no web client can name one of these.
SENDER_PREFIX = "wx:"


def wechat_sender(openid: str) -> str:
    """Rasa's sender id for a WeChat user: ``wx:<openid>``.

    Only the conversation (the Rasa turn, and so the tracker, the ticket's provenance
    and the review log) is named this way; WeChat itself is always addressed with the
    bare openid (passive reply, customer-service messages), and the channel's own state
    keys (dedup, rate, service window) stay per openid in the channel's store.
    """
    return SENDER_PREFIX + openid


class MalformedMessage(ValueError):
    """The XML parsed but lacks what every WeChat message carries."""


@dataclass(frozen=True)
class Inbound:
    """One message from one user, reduced to what the channel acts on.

    ``text`` goes to Rasa as the user's turn; ``reply`` is answered by the channel
    itself without a turn (welcome, prompts). Both None: acknowledge silently.
    """

    openid: str
    account: str
    dedup_key: str
    msg_type: str
    text: str | None = None
    reply: str | None = None
    metadata: dict[str, Any] = field(default_factory=dict)
    opens_window: bool = True  # whether WeChat lets us send CS messages after it

    @property
    def sender_id(self) -> str:
        """The Rasa sender id of this user's conversation (:func:`wechat_sender`)."""
        return wechat_sender(self.openid)


def dedup_key(fields: Mapping[str, str]) -> str:
    """``MsgId`` for messages; ``FromUserName`` + ``CreateTime`` (+ event) for events.

    The event name is included so that a subscribe and a menu click in the same second
    are not mistaken for one retried message.
    """
    msg_id = (fields.get("MsgId") or "").strip()
    if msg_id:
        return f"msg:{msg_id}"
    event = (fields.get("Event") or "").strip().lower()
    return f"evt:{fields['FromUserName']}:{fields.get('CreateTime', '')}:{event}"


def evidence_payload(media_id: str) -> str:
    """The user turn for an image: an ``inform`` carrying the media id as evidence.

    Rasa ignores entities its domain does not declare, so the actions must read the
    media id from the message metadata (``metadata["wechat"]["media_id"]``); the text
    here is what the conversation history shows.
    """
    return "/inform" + json.dumps({"evidence": EVIDENCE_PREFIX + media_id}, ensure_ascii=False)


def classify(fields: Mapping[str, str], texts: Texts) -> Inbound:
    """Decide what to do with one message, given its top-level XML fields."""
    for required in ("FromUserName", "ToUserName", "MsgType"):
        if not (fields.get(required) or "").strip():
            raise MalformedMessage(f"missing {required}")
    openid = fields["FromUserName"].strip()
    account = fields["ToUserName"].strip()
    msg_type = fields["MsgType"].strip().lower()
    key = dedup_key(fields)
    meta: dict[str, Any] = {"msg_type": msg_type, "openid": openid}
    if fields.get("MsgId"):
        meta["msg_id"] = fields["MsgId"].strip()

    def make(**kwargs: Any) -> Inbound:
        return Inbound(
            openid=openid,
            account=account,
            dedup_key=key,
            msg_type=msg_type,
            metadata={"wechat": meta},
            **kwargs,
        )

    if msg_type == "text":
        content = (fields.get("Content") or "").strip()
        return make(text=content) if content else make()
    if msg_type == "voice":
        meta["media_id"] = (fields.get("MediaId") or "").strip()
        recognition = (fields.get("Recognition") or "").strip().rstrip("。")
        if recognition:
            meta["recognition"] = recognition
            return make(text=recognition)
        return make(reply=texts.voice_unrecognized)
    if msg_type == "image":
        media_id = (fields.get("MediaId") or "").strip()
        meta["media_id"] = media_id
        if fields.get("PicUrl"):
            meta["pic_url"] = fields["PicUrl"].strip()
        meta["evidence"] = EVIDENCE_PREFIX + media_id
        return make(text=evidence_payload(media_id)) if media_id else make(reply=texts.unsupported)
    if msg_type == "event":
        event = (fields.get("Event") or "").strip().lower()
        meta["event"] = event
        if event == "subscribe":
            return make(reply=texts.welcome)
        if event == "unsubscribe":
            return make(opens_window=False)
        if event == "click":
            event_key = (fields.get("EventKey") or "").strip()
            meta["event_key"] = event_key
            payload = texts.menu_payload(event_key)
            return make(text=payload) if payload else make(reply=texts.welcome)
        # VIEW (menu link), SCAN, LOCATION, TEMPLATESENDJOBFINISH …: nothing to say.
        return make(opens_window=event in {"scan", "view"})
    # video, shortvideo, location, link, file …
    return make(reply=texts.unsupported)
