"""Ticket references: the ``JM2026-000123`` number, the citizen's lookup code and the
outbox's ``LOCAL-…`` reference.

Why one module: the format was written out in the ticket numbering, the API's path and
query patterns, the bot's status lookup and the web widget, and they disagreed (the
widget highlighted ``JM2026-anything``, the numbering allowed seven-digit sequences the
API then refused). Everything that writes, validates or spots a reference uses this
module; the widget gets :data:`IN_TEXT` from the server (``channels.webchat``).

* ``JM{year}-{seq:06d}``: the bureau's ticket number, allocated by the ticket service.
  It is sequential, so it is what staff use and print, never enough to look a ticket up;
* ``JM{year}-{seq:06d}-{secret}``: the citizen's **lookup code**, the number plus six
  random characters drawn at creation (:func:`new_lookup_secret`) from Crockford's
  base32 alphabet (no I, L, O, U: nothing to misread). The public look-up requires it;
* ``LOCAL-{yyyymmdd}-{6 hex}``: what a citizen holds while the bot's outbox has not yet
  delivered the ticket; status lookup resolves it either way.

The pattern sources use only syntax that Python ``re``, pydantic's (Rust) ``regex`` and
JavaScript ``RegExp`` read the same way. Only the standard library is used.
"""

from __future__ import annotations

import re
import secrets
from datetime import date

TICKET_NO_PREFIX = "JM"
LOCAL_REF_PREFIX = "LOCAL"
SEQ_DIGITS = 6
_YEAR = "[0-9]{4}"
_SEQ = f"[0-9]{{{SEQ_DIGITS}}}"
_DAY = "[0-9]{8}"
_TOKEN = "[0-9A-F]{6}"
#: Crockford's base32 alphabet: digits and letters, less I, L, O and U.
SECRET_ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
SECRET_LENGTH = 6
_SECRET = f"[0-9A-HJKMNP-TV-Z]{{{SECRET_LENGTH}}}"
# Typed secrets: Crockford's misreadings (I and L for 1, O for 0) are accepted and fixed.
_TYPED_SECRET = f"[0-9A-TV-Z]{{{SECRET_LENGTH}}}"
_MISREAD = str.maketrans("ILO", "110")

#: Pattern sources, for embedding in larger patterns (case-sensitive, canonical form).
TICKET_NO = f"{TICKET_NO_PREFIX}{_YEAR}-{_SEQ}"
LOCAL_REF = f"{LOCAL_REF_PREFIX}-{_DAY}-{_TOKEN}"
LOOKUP_CODE = f"{TICKET_NO}-{_SECRET}"
#: Any kind inside running text (a lookup code whole, not just its number): what the
#: widget marks up.
IN_TEXT = f"{TICKET_NO}(?:-{_SECRET})?|{LOCAL_REF}"

#: Whole-value patterns for the API (case-insensitive): a ticket number (staff), or any
#: kind (the public look-up, which answers a bare number like a wrong code: 404).
TICKET_NO_PATTERN = f"^(?i:{TICKET_NO})$"
TICKET_REF_PATTERN = f"^(?i:{IN_TEXT})$"

# As citizens type them: any case, spaces inside, the dashes forgotten (jm2026000123,
# jm20260001237kq2xm). A secret is read only when nothing alphanumeric follows it.
_TYPED_TICKET_NO = re.compile(
    rf"{TICKET_NO_PREFIX}\s*({_YEAR})\s*-?\s*({_SEQ})"
    rf"(?:\s*-?\s*({_TYPED_SECRET})(?![0-9A-Z]))?(?![0-9])",
    re.IGNORECASE,
)
_LOOKUP_CODE = re.compile(f"({TICKET_NO})-({_SECRET})", re.IGNORECASE)
_TYPED_LOCAL_REF = re.compile(
    rf"{LOCAL_REF_PREFIX}\s*-?\s*({_DAY})\s*-?\s*({_TOKEN})(?![0-9A-F])", re.IGNORECASE
)


def format_ticket_no(year: int, seq: int) -> str:
    """``JM2026-000123``; a sequence past 999999 would not be a valid number, so it raises."""
    if not 0 < seq < 10**SEQ_DIGITS:
        raise ValueError(f"ticket sequence {seq} does not fit {SEQ_DIGITS} digits")
    return f"{TICKET_NO_PREFIX}{year:04d}-{seq:0{SEQ_DIGITS}d}"


def new_lookup_secret() -> str:
    """Six random characters of :data:`SECRET_ALPHABET` (30 bits), from ``secrets``."""
    return "".join(secrets.choice(SECRET_ALPHABET) for _ in range(SECRET_LENGTH))


def format_lookup_code(ticket_no: str, secret: str) -> str:
    """``JM2026-000123-7KQ2XM``: what the citizen is given and needs to look a ticket up."""
    code = f"{ticket_no.upper()}-{secret.upper()}"
    if not re.fullmatch(LOOKUP_CODE, code):
        raise ValueError(f"not a lookup code: {code}")
    return code


def split_lookup_code(ref: str) -> tuple[str, str | None]:
    """``(ticket number, secret)`` of a canonical reference; the secret is None for a bare
    number (and the reference comes back unchanged for a ``LOCAL-…`` one)."""
    match = _LOOKUP_CODE.fullmatch(ref.upper())
    if match:
        return match.group(1), match.group(2)
    return ref.upper(), None


def mask_lookup_codes(text: str) -> str:
    """``text`` with the secret of every lookup code starred out (for logs)."""
    return _LOOKUP_CODE.sub(lambda m: f"{m.group(1)}-{'*' * SECRET_LENGTH}", text)


def format_local_ref(day: date, token: str) -> str:
    """``LOCAL-20260105-7F3A9C`` from the day and six hex digits."""
    ref = f"{LOCAL_REF_PREFIX}-{day:%Y%m%d}-{token.upper()}"
    if not re.fullmatch(LOCAL_REF, ref):
        raise ValueError(f"not a local reference: {ref}")
    return ref


def is_local_ref(ref: str) -> bool:
    """Whether ``ref`` is an outbox reference rather than a ticket number."""
    return ref.upper().startswith(LOCAL_REF_PREFIX + "-")


def find_ticket_ref(text: str | None) -> str | None:
    """The first lookup code or ticket number (else local reference) in ``text``, in
    canonical form: ``JM2026-000123-7KQ2XM``, ``JM2026-000123`` or ``LOCAL-…``."""
    if not text:
        return None
    match = _TYPED_TICKET_NO.search(text)
    if match:
        number = f"{TICKET_NO_PREFIX}{match.group(1)}-{match.group(2)}"
        if match.group(3):
            return f"{number}-{match.group(3).upper().translate(_MISREAD)}"
        return number
    match = _TYPED_LOCAL_REF.search(text)
    if match:
        return f"{LOCAL_REF_PREFIX}-{match.group(1)}-{match.group(2).upper()}"
    return None


def without_ticket_refs(text: str) -> str:
    """``text`` with every reference removed, so its digits are not read as other numbers."""
    return _TYPED_LOCAL_REF.sub("", _TYPED_TICKET_NO.sub("", text))
