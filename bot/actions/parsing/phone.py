"""Phone numbers as citizens answer "what is your phone number", explained when wrong.

Art. 9 of the complaint rules requires a phone number the bureau can call back,
so a landline without its area code is rejected with a hint rather than guessed.
The patterns and the masking are ``core.phones``; this module adds what only a
conversation needs: numbers spelled out in Chinese (一三九…) and the reasons a reply
is not a phone number.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Literal

from bot.actions.parsing.text import CN_DIGITS, normalise
from core import phones
from core.phones import PhoneKind, mask_phone

PhoneError = Literal["empty", "needs_area_code", "invalid"]

_CN_DIGIT_RUN = re.compile("[" + "".join(CN_DIGITS) + r"]{7,}")


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
        return phones.last4(self.number)


@dataclass(frozen=True)
class PhoneResult:
    phone: Phone | None
    error: PhoneError | None = None


def digits_from_chinese(text: str) -> str:
    """Spell-out numbers (一三九…) become digits; only long runs, so 一个 stays 一个.

    One digit per character, so the result is as long as ``text``.
    """
    return _CN_DIGIT_RUN.sub(lambda m: "".join(str(CN_DIGITS[c]) for c in m.group()), text)


def _clean(text: str | None) -> str:
    return digits_from_chinese(normalise(text))


def _first_phone(clean: str) -> Phone | None:
    found = phones.find_phone(clean)
    return Phone(*found) if found else None


def find_phone(text: str | None) -> Phone | None:
    """First mobile or landline (with area code) found anywhere in ``text``."""
    return _first_phone(_clean(text))


def parse_phone(text: str | None) -> PhoneResult:
    """Parse an answer to "what is your phone number", explaining failures."""
    clean = _clean(text)
    if not re.search(r"\d", clean):
        return PhoneResult(None, "empty")
    phone = _first_phone(clean)
    if phone:
        return PhoneResult(phone)
    if phones.has_local_number(clean):
        return PhoneResult(None, "needs_area_code")
    return PhoneResult(None, "invalid")
