"""Phone numbers: Chinese mobiles (1[3-9] + 9 digits) and landlines with an area code.

Art. 9 of the complaint rules requires a phone number the bureau can call back,
so a landline without its area code is rejected with a hint rather than guessed.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Literal

from bot.actions.parsing.text import CN_DIGITS, normalise

PhoneKind = Literal["mobile", "landline"]
PhoneError = Literal["empty", "needs_area_code", "invalid"]

_CN_DIGIT_RUN = re.compile("[" + "".join(CN_DIGITS) + r"]{7,}")
_MOBILE = re.compile(r"(?<![\d])(?:\+?86[\s-]?)?(1[3-9]\d(?:[\s-]?\d){8})(?![\d])")
_LANDLINE = re.compile(
    r"(?<![\d])[(（]?(0\d{2,3})[)）]?[\s-]?(\d{7,8})(?:(?:-|转|分机)\d{1,5})?(?![\d])"
)
_BARE_LOCAL = re.compile(r"(?<![\d])\d{7,8}(?![\d])")


@dataclass(frozen=True)
class Phone:
    """A normalised phone number: ``13912345678`` or ``0750-3123456``."""

    number: str
    kind: PhoneKind

    @property
    def masked(self) -> str:
        return mask_phone(self.number)

    @property
    def last4(self) -> str:
        return re.sub(r"\D", "", self.number)[-4:]


@dataclass(frozen=True)
class PhoneResult:
    phone: Phone | None
    error: PhoneError | None = None


def _digits_from_chinese(text: str) -> str:
    """Spell-out numbers (一三九…) become digits; only long runs, so 一个 stays 一个."""
    return _CN_DIGIT_RUN.sub(lambda m: "".join(str(CN_DIGITS[c]) for c in m.group()), text)


def _valid_area_code(code: str) -> bool:
    # 010 and 02x are three digits; every other area code is four (0750 for Jiangmen).
    if code.startswith(("01", "02")):
        return len(code) == 3
    return len(code) == 4


def find_phone(text: str | None) -> Phone | None:
    """First mobile or landline (with area code) found anywhere in ``text``."""
    clean = _digits_from_chinese(normalise(text))
    mobile = _MOBILE.search(clean)
    if mobile:
        return Phone(re.sub(r"\D", "", mobile.group(1)), "mobile")
    for match in _LANDLINE.finditer(clean):
        code, local = match.group(1), match.group(2)
        if _valid_area_code(code) and not local.startswith("0"):
            return Phone(f"{code}-{local}", "landline")
    return None


def parse_phone(text: str | None) -> PhoneResult:
    """Parse an answer to "what is your phone number", explaining failures."""
    clean = _digits_from_chinese(normalise(text))
    if not re.search(r"\d", clean):
        return PhoneResult(None, "empty")
    phone = find_phone(clean)
    if phone:
        return PhoneResult(phone)
    if _BARE_LOCAL.search(clean):
        return PhoneResult(None, "needs_area_code")
    return PhoneResult(None, "invalid")


def mask_phone(number: str | None) -> str:
    """139****5678 for mobiles, 0750-***3456 for landlines (DESIGN: mask in chat and logs)."""
    if not number:
        return ""
    digits = re.sub(r"\D", "", number)
    if len(digits) == 11 and digits.startswith("1"):
        return f"{digits[:3]}****{digits[-4:]}"
    if "-" in number:
        code, local = number.split("-", 1)
        return f"{code}-{'*' * max(len(local) - 4, 0)}{local[-4:]}"
    return f"{'*' * max(len(digits) - 4, 0)}{digits[-4:]}"


def mask_phones_in_text(text: str) -> str:
    """Mask every phone number inside free text (for logs and the review log)."""
    masked = _MOBILE.sub(
        lambda m: mask_phone(re.sub(r"\D", "", m.group(1))), _digits_from_chinese(text)
    )
    return _LANDLINE.sub(lambda m: mask_phone(f"{m.group(1)}-{m.group(2)}"), masked)
