"""Money amounts as people type them: 35块, 三百五, 1.2万, 十八块五, 3块5毛, 35蚊.

cn2an only converts clean numerals (十八块五 and 1.2万 raise), so units are
split off first: a *major* part (number × 万/千) in 元/块/蚊, then an optional
*minor* part in 角/毛 and 分.
"""

from __future__ import annotations

import re
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation

import cn2an

from bot.actions.parsing.text import CN_NUMERAL_CHARS, normalise

_NUMBER = rf"(?:\d+(?:\.\d+)?|[{CN_NUMERAL_CHARS}]+(?:点[{CN_NUMERAL_CHARS}]+)?)"
_MULTIPLIER = {"万": Decimal(10000), "千": Decimal(1000), "k": Decimal(1000), "w": Decimal(10000)}
_YUAN = r"(?:元|块|蚊|圆|rmb|RMB)"

# 1.2万元, 35块5毛, 十八块五, 三百五十元, 5毛, ¥35
_AMOUNT = re.compile(
    rf"(?P<sym>[¥￥])?\s*(?P<major>{_NUMBER})\s*(?P<mult>[万千kw](?![{CN_NUMERAL_CHARS}\d]))?\s*"
    rf"(?P<unit>{_YUAN})?(?:钱)?"
    rf"(?:\s*(?P<jiao>\d|[一二两三四五六七八九])\s*(?P<junit>[角毛])?"
    rf"(?:\s*(?P<fen>\d|[一二两三四五六七八九])\s*分)?)?"
)
_MINOR_ONLY = re.compile(
    r"(?P<jiao>\d|[一二两三四五六七八九])\s*[角毛](?:\s*(?P<fen>\d|[一二两三四五六七八九])分?)?"
)
# Phrases that make a bare number an amount of money.
_MONEY_CUES = re.compile(
    r"花了|花费|付了|付款|支付|给了|交了|充值|充了|价格|价钱|金额|售价|收了|收我|卖|共计|一共|总共|标价|多收|损失"
)
_MAX = Decimal("100000000")
# A number without a unit counts only when it is the whole answer (三百五, 大概300).
_BARE_ANSWER = re.compile(
    r"\s*(?:大概|大约|约|差不多|好像|应该是?|是)?\s*#\s*(?:左右|吧|啊|呀|的样子)?[。.!！]?\s*"
)


def _to_decimal(token: str) -> Decimal | None:
    token = token.strip()
    if not token:
        return None
    try:
        if re.fullmatch(r"\d+(?:\.\d+)?", token):
            return Decimal(token)
        return Decimal(str(cn2an.cn2an(token, "smart")))
    except (ValueError, InvalidOperation, KeyError, TypeError):
        return None


def _digit(token: str | None) -> Decimal:
    if not token:
        return Decimal(0)
    value = _to_decimal(token)
    return value if value is not None else Decimal(0)


def _clean(text: str) -> str:
    t = normalise(text)
    t = re.sub(r"(?<=\d),(?=\d{3})", "", t)  # 1,200
    t = t.replace("人民币", "").replace("块钱", "块").replace("元钱", "元")
    # approximations keep the stated figure: 两百多 → 两百, 大概三百 → 三百
    t = re.sub(r"(?<=[百千万十\d])多", "", t)
    return t


def _match_value(m: re.Match[str]) -> Decimal | None:
    major = _to_decimal(m.group("major"))
    if major is None:
        return None
    if m.group("mult"):
        major *= _MULTIPLIER[m.group("mult")]
    minor = Decimal(0)
    if m.group("jiao") and (m.group("unit") or m.group("junit")):
        minor = _digit(m.group("jiao")) / 10 + _digit(m.group("fen")) / 100
    return major + minor


def _quantise(value: Decimal) -> Decimal:
    return value.quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)


def parse_amount(text: str | None) -> Decimal | None:
    """Parse an answer to "how much did you pay"; bare numbers count (三百五 → 350)."""
    t = _clean(text or "")
    if not t:
        return None
    best: Decimal | None = None
    if not re.search(_YUAN + r"|[万千kw¥￥]", t) and re.search(r"[角毛]", t):
        minor = _MINOR_ONLY.search(t)  # 5毛, 八毛五: under one yuan
        if minor:
            value = _digit(minor.group("jiao")) / 10 + _digit(minor.group("fen")) / 100
            return _quantise(value) if value > 0 else None
    for m in _AMOUNT.finditer(t):
        if not m.group("major"):
            continue
        value = _match_value(m)
        if value is not None and value > 0:
            if m.group("unit") or m.group("sym") or m.group("mult"):
                best = value
                break
            if best is None and _BARE_ANSWER.fullmatch(t.replace(m.group(0).strip(), "#", 1)):
                best = value
    if best is None or best <= 0 or best > _MAX:
        return None
    return _quantise(best)


def find_amount(text: str | None) -> Decimal | None:
    """Find an amount inside a longer sentence.

    Unlike :func:`parse_amount` a bare number only counts after a money cue
    (花了, 付了, 价格 …), so 买了3瓶 or 5号 are not mistaken for money.
    """
    t = _clean(text or "")
    for m in _AMOUNT.finditer(t):
        if not m.group("major"):
            continue
        if m.group("unit") or m.group("sym") or (m.group("mult") and _MONEY_CUES.search(t)):
            value = _match_value(m)
            if value is not None and 0 < value <= _MAX:
                return _quantise(value)
    cue = _MONEY_CUES.search(t)
    if cue:
        tail = t[cue.end() : cue.end() + 12]
        m = re.match(rf"\s*(?:了|我|约|大概|差不多)?\s*({_NUMBER})", tail)
        if m:
            value = _to_decimal(m.group(1))
            if value is not None and 0 < value <= _MAX:
                return _quantise(value)
    return None


def format_amount(value: Decimal | None) -> str | None:
    """The ticket API's string form: ``"35.00"``."""
    return None if value is None else f"{_quantise(value):.2f}"
