"""How the summary and the correction notice show a slot's value to the citizen.

Why here and not in the templates: stored values are machine forms (``13912345678``,
``350.00``, ``2026-03-05``, the sentinels ``none`` / ``unknown``) that a citizen must
never see raw; the phone is masked. The words used (元, 无, 是/否, 待分派) come from
``bot/actions/labels.yml`` and ``core/places.yml``, not from Python.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from bot.actions.common import AMOUNT_NONE, field_label, label, labels
from bot.actions.parsing.dates import parse_date
from bot.actions.parsing.money import format_amount, parse_amount
from bot.actions.parsing.phone import find_phone, mask_phone
from core.places import COUNTIES, Placement, county_display, resolve
from knowledge.normalize import normalize_text

#: a stored (non-``None``) value → the words shown.
Formatter = Callable[[Any], str]


@dataclass(frozen=True)
class Display:
    """A slot in the summary: its label (a key of ``fields`` in labels.yml) and formatter."""

    label_key: str
    format: Formatter

    @property
    def label(self) -> str:
        return field_label(self.label_key)

    def show(self, value: Any) -> str:
        """The value as the citizen sees it; an empty slot reads 未提供."""
        return label("not_given") if value is None else self.format(value)

    def has_label(self) -> bool:
        return self.label_key in labels()["fields"]


def plain(value: Any) -> str:
    """是/否 for booleans, a 、-separated list (无 when empty), otherwise the text."""
    if isinstance(value, bool):
        return label("value_yes") if value else label("value_no")
    if isinstance(value, list):
        return label("list_separator").join(value) if value else label("none")
    return str(value)


def masked_phone(value: Any) -> str:
    """139****5678: the summary is shown in chats others may see."""
    parsed = find_phone(str(value))
    return parsed.masked if parsed else mask_phone(str(value))


def money(value: Any) -> str:
    """350.00元, or 无 for "no amount"."""
    parsed = parse_amount(str(value))
    if str(value) == AMOUNT_NONE or parsed is None:
        return label("amount_none")
    return f"{format_amount(parsed)}{label('amount_unit')}"


def county(value: Any) -> str:
    """The county, or 待分派 for the sentinels (``core.places.county_display``)."""
    return county_display(str(value))


def date(value: Any) -> str:
    """2026年3月5日 for a stored ISO date; anything else as stored."""
    parsed = parse_date(str(value))
    return parsed.parsed.display() if parsed.parsed else str(value)


def respondent_placement(slots: Mapping[str, Any]) -> Placement:
    """Where the ticket service will route these slots: the call it makes, on the values
    ``submission.build_payload`` sends (address, county hint, platform flag)."""
    hint = slots.get("county")
    return resolve(
        normalize_text(slots.get("respondent_address") or ""),
        normalize_text(hint) if hint in COUNTIES else None,
        platform=bool(slots.get("respondent_is_platform")),
    )


def county_summary(slots: Mapping[str, Any]) -> str:
    """The 办理单位 the review summary shows: the ticket's county, or 待分派."""
    return county_display(respondent_placement(slots).county)
