"""Chinese phone numbers: the one mobile and landline pattern, and the one masker.

Why one module: the bot's parser, the ticket API's validation and the log filter each
had their own mobile regex and their own masking, and they had drifted apart (the log
filter showed a landline as ``0750-****3456``, the API as ``0750-***3456``; the API took
``0086`` prefixes, the bot did not). A number is now recognised, written and masked the
same way wherever it appears.

Two canonical forms: ``13912345678`` (mobile, 1[3-9] and 9 more digits) and
``0750-3123456`` (landline: a 3-digit area code for 010 and 02x, 4 digits otherwise,
then 7 or 8 digits). In free text citizens group the digits with spaces, dashes or dots,
type full-width digits (１３９…) and put ``+86`` in front; all of that is accepted.
Chinese numerals (一三九…) are the bot's business (``bot.actions.parsing.phone``).

Only the standard library is used: the Rasa environment imports this through
``core.pii``.
"""

from __future__ import annotations

import re
from typing import Literal

PhoneKind = Literal["mobile", "landline"]

# What people put between digit groups: spaces, dashes (ASCII, full-width, em), dots.
_SEP = r"[\s\-.·－—．]"
# Full-width digits and signs become ASCII one for one, so match offsets stay valid.
_FOLD = str.maketrans("０１２３４５６７８９＋（）", "0123456789+()")

#: A mobile number in canonical form (use with ``fullmatch``).
MOBILE = re.compile(r"1[3-9][0-9]{9}")
_AREA_CODE = r"0(?:10|2[0-9])|0[3-9][0-9]{2}"
_MOBILE_IN_TEXT = re.compile(
    rf"(?<![0-9])(?:(?:\+|00)?86{_SEP}?)?(1[3-9][0-9](?:{_SEP}?[0-9]){{8}})(?![0-9])"
)
_LANDLINE_IN_TEXT = re.compile(
    rf"(?<![0-9])[(（]?({_AREA_CODE})[)）]?{_SEP}?([1-9][0-9]{{2,3}}{_SEP}?[0-9]{{4}})(?![0-9])"
)
# 7–8 digits on their own: a local number someone forgot the area code of.
_LOCAL_ONLY = re.compile(r"(?<![0-9])[0-9]{7,8}(?![0-9])")
_NOT_DIGIT = re.compile(r"[^0-9]")


def _digits(text: str) -> str:
    return _NOT_DIGIT.sub("", text)


def fold_digits(text: str) -> str:
    """Full-width digits, ``＋`` and brackets as ASCII; same length as ``text``."""
    return text.translate(_FOLD)


def _found(match: re.Match[str]) -> tuple[str, PhoneKind]:
    if match.re is _MOBILE_IN_TEXT:
        return _digits(match.group(1)), "mobile"
    return f"{match.group(1)}-{_digits(match.group(2))}", "landline"


def _matches(folded: str) -> list[re.Match[str]]:
    """Mobiles and landlines in ``folded`` text, in order, without overlaps."""
    found: list[re.Match[str]] = list(_MOBILE_IN_TEXT.finditer(folded))
    taken = [m.span() for m in found]
    for match in _LANDLINE_IN_TEXT.finditer(folded):
        start, end = match.span()
        if all(end <= s or start >= e for s, e in taken):
            found.append(match)
    return sorted(found, key=lambda m: m.start())


def find_phone(text: str | None) -> tuple[str, PhoneKind] | None:
    """The first phone number in ``text``, canonical; a mobile wins over a landline."""
    if not text:
        return None
    folded = fold_digits(text)
    mobile = _MOBILE_IN_TEXT.search(folded)
    if mobile:
        return _found(mobile)
    landline = _LANDLINE_IN_TEXT.search(folded)
    return _found(landline) if landline else None


def normalise_phone(raw: str | None) -> str | None:
    """``raw`` as one canonical number, or None when it is not exactly one phone number."""
    if not raw:
        return None
    folded = " ".join(fold_digits(raw).split())
    for pattern in (_MOBILE_IN_TEXT, _LANDLINE_IN_TEXT):
        match = pattern.fullmatch(folded)
        if match:
            return _found(match)[0]
    return None


def has_local_number(text: str) -> bool:
    """Whether ``text`` holds 7–8 digits on their own (a landline without its area code)."""
    return bool(_LOCAL_ONLY.search(fold_digits(text)))


def last4(number: str) -> str:
    """The last four digits, which status lookups ask for."""
    return _digits(fold_digits(number))[-4:]


def mask_phone(number: str | None) -> str:
    """``139****5678``, ``0750-***3456``: area code or first three and last four kept.

    One star per hidden digit, so a masked number is as long as the number. Takes a
    canonical number (:func:`normalise_phone`); anything else keeps only its last four.
    """
    if not number:
        return ""
    digits = _digits(fold_digits(number))
    if MOBILE.fullmatch(digits):
        return f"{digits[:3]}{'*' * 4}{digits[-4:]}"
    area, dash, local = number.partition("-")
    if dash and local:
        return f"{area}-{'*' * max(len(local) - 4, 0)}{local[-4:]}"
    if len(digits) <= 4:
        return "*" * len(digits)
    return f"{'*' * (len(digits) - 4)}{digits[-4:]}"


def mask_phones_in_text(text: str) -> str:
    """Every phone number inside free text, masked; the rest of the text is unchanged."""
    if not text:
        return text
    out: list[str] = []
    last = 0
    for match in _matches(fold_digits(text)):
        number, _ = _found(match)
        out.append(text[last : match.start()])
        out.append(mask_phone(number))
        last = match.end()
    out.append(text[last:])
    return "".join(out)
