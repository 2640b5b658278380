"""The text every parser reads: the project's one normaliser, applied once per message.

Citizens write full-width digits, traditional characters (Jiangmen has many overseas
Chinese) and Cantonese. Parsers see the canonical form of ``knowledge.normalize``
(NFKC, traditional → simplified only where a clause holds traditional characters, so
simplified text such as 破坏土地 is never rewritten, spaces collapsed).

Why a marker type: an action normalises the message once (``common.latest_text``) and
hands the result to several parsers; each parser still calls :func:`normalise` on its
input, so it works on raw text too (unit tests, slot values), but text that is already
:class:`Normalised` passes straight through instead of being converted again.
"""

from __future__ import annotations

import re
from functools import lru_cache

from knowledge.normalize import normalize_text

CN_DIGITS = {
    "零": 0,
    "〇": 0,
    "○": 0,
    "一": 1,
    "幺": 1,
    "二": 2,
    "两": 2,
    "三": 3,
    "四": 4,
    "五": 5,
    "六": 6,
    "七": 7,
    "八": 8,
    "九": 9,
}

CN_NUMERAL_CHARS = "零〇○一二两三四五六七八九十百千万亿壹贰叁肆伍陆柒捌玖拾佰仟"

# Words that signal the user is correcting something already given.
CORRECTION_CUES = re.compile(
    r"写错|错了|打错|弄错|搞错|不对|更正|更改|修改|改成|改为|改一下|应该是|其实是|不是"
)


class Normalised(str):
    """Text that has been through :func:`normalise`; normalising it again returns it as is."""

    __slots__ = ()


def normalise(text: str | None) -> Normalised:
    """``knowledge.normalize.normalize_text``, at most once per text; ``None`` becomes ``""``.

    A form action reads the same message several times in one turn (extraction, then the
    slot's validation); the cache makes each a lookup after the first.
    """
    if isinstance(text, Normalised):
        return text
    return _normalised(text or "")


@lru_cache(maxsize=256)
def _normalised(text: str) -> Normalised:
    return Normalised(normalize_text(text))


def small_cn_int(token: str) -> int | None:
    """Convert a small Chinese or Arabic number (0–9999) such as 十二, 二十五, 03.

    Date parts need only this range; digit-by-digit strings (二〇二四) are read
    positionally.
    """
    token = token.strip()
    if not token:
        return None
    if token.isdigit():
        return int(token)
    if all(ch in CN_DIGITS for ch in token):
        value = 0
        for ch in token:
            value = value * 10 + CN_DIGITS[ch]
        return value
    total = 0
    current = 0
    units = {"十": 10, "百": 100, "千": 1000}
    for ch in token:
        if ch in CN_DIGITS:
            current = CN_DIGITS[ch]
        elif ch in units:
            total += (current or 1) * units[ch]
            current = 0
        else:
            return None
    return total + current


def has_correction_cue(text: str) -> bool:
    """True when the message says an earlier answer was wrong (电话写错了, 应该是…)."""
    return bool(CORRECTION_CUES.search(normalise(text)))
