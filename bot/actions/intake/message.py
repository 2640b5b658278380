"""The latest user message, read from the tracker once per turn.

Why a value object: extraction and every slot's answer reader look at the same few
things (normalised words, words as typed, intent, entities, a channel's evidence id).
Reading them here, at the one place that touches the tracker, lets everything after it
be a pure function that tests can call with a hand-made :class:`Message`.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from rasa_sdk import Tracker

from bot.actions.common import entity_values, latest_intent, latest_text, raw_text

#: Entities the NLU may tag in an intake message.
ENTITY_NAMES = ("merchant", "phone", "address", "district", "amount", "date", "product", "demand")


@dataclass
class Message:
    """The latest user message, pre-digested once per validation call."""

    text: str
    raw: str
    intent: str | None
    confidence: float
    entities: dict[str, list[str]] = field(default_factory=dict)
    # Evidence a channel attached to the message, e.g. a WeChat image's media id
    # ("wechat-media:<id>"), carried in the message metadata rather than its text.
    evidence_ref: str | None = None

    @classmethod
    def from_tracker(cls, tracker: Tracker) -> Message:
        intent, confidence = latest_intent(tracker)
        metadata = (tracker.latest_message or {}).get("metadata") or {}
        wechat = metadata.get("wechat") if isinstance(metadata, dict) else None
        ref = wechat.get("evidence") if isinstance(wechat, dict) else None
        return cls(
            text=latest_text(tracker),
            raw=raw_text(tracker),
            intent=intent,
            confidence=confidence,
            entities={n: entity_values(tracker, n) for n in ENTITY_NAMES},
            evidence_ref=str(ref) if ref else None,
        )

    def first(self, entity: str) -> str | None:
        values = self.entities.get(entity) or []
        return values[0] if values else None
