"""Parsers: a slot's raw answer → the value to store, or the response that says why not.

Why pure functions: each check (is this a phone? is the date in the future? which county
does this address route to?) is a decision about text and the slots already filled, and
is easiest to test as one. A parser never talks to the user; it names the domain response
to send (``utter_invalid_phone``: the Chinese wording stays in ``bot/domain.yml``) and
:class:`~bot.actions.intake.validation.IntakeFormValidation` sends it.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from bot.actions.common import (
    AMOUNT_NONE,
    COUNTY_OUTSIDE,
    COUNTY_UNKNOWN,
    is_unknown_answer,
    label,
)
from bot.actions.parsing.complaint_text import DEMANDS, parse_demand
from bot.actions.parsing.dates import parse_date
from bot.actions.parsing.money import format_amount, parse_amount
from bot.actions.parsing.phone import parse_phone
from bot.actions.parsing.text import normalise
from core.places import (
    COUNTIES,
    Status,
    find_county,
    find_platform,
    is_outside_jiangmen,
    mentions_online_purchase,
    resolve,
)
from knowledge.normalize import normalize_text


@dataclass(frozen=True)
class Say:
    """A domain response to send, with its template values."""

    response: str
    values: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class Parsed:
    """What a parser made of an answer.

    ``value`` is the slot's value (``None``: ask again); ``also`` the other slots the
    answer settles (an address settles the county); ``say`` the responses that explain a
    rejected answer or note something about an accepted one.
    """

    value: Any
    also: Mapping[str, Any] = field(default_factory=dict)
    say: tuple[Say, ...] = ()

    @classmethod
    def fail(cls, response: str, **values: str) -> Parsed:
        """No value; ``response`` (a domain key such as ``utter_invalid_phone``) says why."""
        return cls(None, say=(Say(response, values),))

    def slots(self, slot: str) -> dict[str, Any]:
        """The SlotSet values, the slot's own first (the order validation used to return)."""
        return {slot: self.value, **self.also}


@dataclass(frozen=True)
class Context:
    """What a parser may look at besides the answer: injected, so parsers stay pure.

    ``slots`` are the conversation's slots as validation has updated them so far this
    turn; ``text`` the latest message, normalised.
    """

    slots: Mapping[str, Any]
    text: str = ""
    requested: str | None = None
    confirm_slot: str = ""
    min_facts_chars: int = 6
    facts_too_short_response: str = "utter_facts_too_short"


#: (raw answer, context) → :class:`Parsed`.
Parser = Callable[[Any, Context], Parsed]


def respondent_name(value: Any, ctx: Context) -> Parsed:
    """The merchant; a platform name or 网购 in the message marks an online purchase."""
    if not value:
        return Parsed(None)
    name = str(value).strip()[:100]
    platform = find_platform(normalise(name)) or find_platform(ctx.text)
    if platform or mentions_online_purchase(ctx.text):
        return Parsed(name, also={"respondent_is_platform": True})
    return Parsed(name)


def _platform_noted(ctx: Context) -> Say:
    platform = find_platform(normalise(ctx.slots.get("respondent_name")))
    return Say("utter_platform_noted", {"platform": platform or label("unknown")})


def respondent_address(value: Any, ctx: Context) -> Parsed:
    """The merchant's address, and the county it routes to.

    The same ``places.resolve`` call the ticket service makes, so what the citizen is
    shown is what the ticket gets (see :func:`~bot.actions.intake.display.county_summary`).
    """
    if not value:
        return Parsed(None)
    address = str(value).strip()
    online = bool(ctx.slots.get("respondent_is_platform"))
    if is_unknown_answer(normalise(address)):
        if online:
            return Parsed(
                label("unknown"), also={"county": COUNTY_UNKNOWN}, say=(_platform_noted(ctx),)
            )
        return Parsed(label("unknown"))
    if len(normalise(address)) < 2:
        return Parsed.fail("utter_address_too_short")
    placement = resolve(normalize_text(address), platform=online)
    if placement.county:
        return Parsed(address, also={"county": placement.county})
    if placement.status is Status.OUTSIDE:
        return Parsed(address, also={"county": COUNTY_OUTSIDE}, say=(Say("utter_county_outside"),))
    if online:
        # Art. 12: a platform's bureau follows its domicile, which the citizen's
        # answer about "which district" cannot tell; staff assign it (待分派).
        return Parsed(address, also={"county": COUNTY_UNKNOWN}, say=(_platform_noted(ctx),))
    if ctx.slots.get("county") is None:
        # Ambiguous (白沙) or unrecognised: the form asks which district.
        return Parsed(address, say=(Say("utter_county_unclear"),))
    return Parsed(address)


def county(value: Any, ctx: Context) -> Parsed:
    """A Jiangmen county, or the sentinels for "outside Jiangmen" and "don't know"."""
    if not value:
        return Parsed(None)
    text = normalise(str(value))
    if text in (COUNTY_UNKNOWN, COUNTY_OUTSIDE) or text in COUNTIES:
        return Parsed(text)
    found = find_county(text, in_jiangmen=True)
    if found:
        return Parsed(found)
    if "不在江门" in text or is_outside_jiangmen(text):
        return Parsed(COUNTY_OUTSIDE)
    if is_unknown_answer(text):
        return Parsed(COUNTY_UNKNOWN)
    return Parsed(None)


def product(value: Any, ctx: Context) -> Parsed:
    text = str(value).strip()[:200] if value else ""
    return Parsed(text or None)


def incident_date(value: Any, ctx: Context) -> Parsed:
    """An ISO date (and its display); a date over three years back is kept with a warning."""
    if not value:
        return Parsed(None)
    text = normalise(str(value))
    if is_unknown_answer(text):
        return Parsed("unknown", also={"incident_date_display": label("unknown")})
    result = parse_date(text)
    if result.error == "future":
        return Parsed.fail("utter_date_in_future")
    if result.parsed is None:
        return Parsed.fail("utter_invalid_date")
    display = {"incident_date_display": result.parsed.display()}
    if result.too_old:
        warning = Say("utter_date_too_old", {"date": result.parsed.display()})
        return Parsed(result.parsed.iso(), also=display, say=(warning,))
    return Parsed(result.parsed.iso(), also=display)


def amount(value: Any, ctx: Context) -> Parsed:
    if not value:
        return Parsed(None)
    if value == AMOUNT_NONE:
        return Parsed(AMOUNT_NONE)
    parsed = parse_amount(str(value))
    if parsed is None:
        return Parsed.fail("utter_invalid_amount")
    return Parsed(format_amount(parsed))


def facts(value: Any, ctx: Context) -> Parsed:
    """The story (or a report's leads); each form sets its own minimum length."""
    if not value:
        return Parsed(None)
    text = str(value).strip()
    if len(normalise(text)) < ctx.min_facts_chars:
        return Parsed.fail(ctx.facts_too_short_response)
    return Parsed(text[:4000])


def demand(value: Any, ctx: Context) -> Parsed:
    """Every demand is kept (``demands``); ``demand`` is the primary for the ticket API."""
    if not value:
        return Parsed(None, also={"demands": None})
    text = normalise(str(value))
    if text in DEMANDS:
        return Parsed(text, also={"demands": [text], "demand_detail": None})
    parsed = parse_demand(text)
    if parsed:
        detail = parsed.detail[:500] if parsed.detail else None
        return Parsed(
            parsed.category, also={"demands": list(parsed.categories), "demand_detail": detail}
        )
    if len(re.findall(r"[\u4e00-\u9fff]", text)) >= 2 and not is_unknown_answer(text):
        return Parsed("其他", also={"demands": ["其他"], "demand_detail": str(value).strip()[:500]})
    return Parsed(None, also={"demands": None}, say=(Say("utter_invalid_demand"),))


def demand_detail(value: Any, ctx: Context) -> Parsed:
    detail = str(value or "").strip()
    return Parsed(detail[:500] if len(normalise(detail)) >= 2 else None)


def complainant_name(value: Any, ctx: Context) -> Parsed:
    name = str(value or "").strip()
    if not name or len(name) > 30 or re.search(r"\d", name):
        return Parsed.fail("utter_name_invalid")
    return Parsed(name)


def complainant_phone(value: Any, ctx: Context) -> Parsed:
    """A mobile, or a landline with its area code (a bare landline is asked again)."""
    if not value:
        return Parsed(None)
    result = parse_phone(str(value))
    if result.phone:
        return Parsed(result.phone.number)
    if result.error == "needs_area_code":
        return Parsed.fail("utter_phone_needs_area_code")
    return Parsed.fail("utter_invalid_phone")


def complainant_address(value: Any, ctx: Context) -> Parsed:
    """An empty answer is asked again silently; a too-short one is explained."""
    address = str(value or "").strip()
    if len(normalise(address)) < 4:
        return Parsed.fail("utter_address_too_short") if address else Parsed(None)
    return Parsed(address[:300])


def evidence(value: Any, ctx: Context) -> Parsed:
    """A list of descriptions or attachment ids; ``[]`` (none) is an answer."""
    if value is None:
        return Parsed(None)
    items = value if isinstance(value, list) else [str(value)]
    return Parsed([str(i).strip()[:500] for i in items if str(i).strip()])


def yes_no(value: Any, ctx: Context) -> Parsed:
    """A boolean; words that are neither yes nor no ask for one."""
    if isinstance(value, bool):
        return Parsed(value)
    if value:
        return Parsed.fail("utter_please_answer_yes_no")
    return Parsed(None)


def confirmation(value: Any, ctx: Context) -> Parsed:
    """The review: yes submits; no asks what to correct (the form stays on the review)."""
    if value is True:
        return Parsed(True)
    if value is False and ctx.requested == ctx.confirm_slot:
        return Parsed.fail("utter_ask_what_to_correct")
    return Parsed(None)
