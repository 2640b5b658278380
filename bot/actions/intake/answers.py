"""Readers: what the user's message says as an answer to the slot the form asked for.

A reader turns the message into the *raw* answer (before parsing): the words with the
slot's prefix stripped (我的名字是张三 → 张三), a yes/no from a button or the words, the
evidence id a channel attached. Each takes the message and the slot's prefix pattern
(``SlotSpec.prefix``) so the words that introduce an answer live in the slot's row.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

from bot.actions.common import AMOUNT_NONE, is_none_answer
from bot.actions.intake.message import Message
from bot.actions.parsing.complaint_text import clean_product, mentions_defect

#: (message, the slot's prefix) → the raw answer, or ``None`` when the message gives none.
Reader = Callable[[Message, "re.Pattern[str] | None"], Any]

_YES_WORDS = re.compile(r"^(?:同意|可以|好|行|愿意|没问题|是|对|ok|OK|得|係|系)")
_NO_WORDS = re.compile(r"^(?:不同意|不可以|不行|不愿意|不要|不用|否|唔|不)")


def strip_prefix(prefix: re.Pattern[str] | None, text: str) -> str:
    """``text`` without the words that introduce the answer, and without edge punctuation."""
    if prefix is None:
        return text
    return prefix.sub("", text.strip()).strip("，,。.：: ")


def yes_no(message: Message) -> bool | None:
    """Yes/no from a button intent or the words (同意 / 不同意)."""
    if message.intent == "affirm" and message.confidence >= 0.5:
        return True
    if message.intent == "deny" and message.confidence >= 0.5:
        return False
    text = message.text.strip("。.!！ ")
    if not text:
        return None
    if _NO_WORDS.match(text):
        return False
    if _YES_WORDS.match(text):
        return True
    return None


def words(message: Message, prefix: re.Pattern[str] | None = None) -> str | None:
    """The words as typed, prefix stripped: names, addresses, the facts."""
    return strip_prefix(prefix, message.raw) or None


def merchant(message: Message, prefix: re.Pattern[str] | None = None) -> str | None:
    """The tagged merchant when it is (nearly) the whole answer, else the stripped words."""
    entity = message.first("merchant")
    if entity and len(entity) >= len(message.text) - 4:
        return entity
    return words(message, prefix)


def product(message: Message, prefix: re.Pattern[str] | None = None) -> str | None:
    """发霉的月饼 answers with 月饼 (the defect belongs to the facts); 两台电饭煲 stays."""
    answer = strip_prefix(prefix, message.raw)
    if not answer:
        return None
    return clean_product(answer) if mentions_defect(answer) else answer


def amount(message: Message, prefix: re.Pattern[str] | None = None) -> str | None:
    """没有 / 免费 / a deny button means "no amount", a value of its own."""
    if is_none_answer(message.text) or message.intent == "deny":
        return AMOUNT_NONE
    return words(message, prefix)


def evidence(message: Message, prefix: re.Pattern[str] | None = None) -> list[str] | None:
    """A channel's attachment id, ``[]`` for 没有, else the description as typed."""
    if message.evidence_ref:
        return [message.evidence_ref]
    if message.intent == "deny" or is_none_answer(message.text):
        return []
    return [message.raw] if message.raw else None


def agreement(message: Message, prefix: re.Pattern[str] | None = None) -> bool | str | None:
    """Yes/no; anything else is kept as words so validation can ask for a yes or no."""
    value = yes_no(message)
    return value if value is not None else (message.text or None)


def anonymity(message: Message, prefix: re.Pattern[str] | None = None) -> bool | str | None:
    """匿名 / 实名 answer "do you want to stay anonymous?" as directly as yes / no."""
    text = message.text
    if "匿名" in text and not text.startswith(("不", "唔")):
        return True
    if "实名" in text:
        return False
    return agreement(message, prefix)


def confirmation(message: Message, prefix: re.Pattern[str] | None = None) -> bool | None:
    """Only a confident affirm/deny confirms the review; words there are corrections."""
    if message.intent in ("affirm", "deny") and message.confidence >= 0.5:
        return message.intent == "affirm"
    return None
