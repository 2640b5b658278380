"""What one user message gives the form: an answer, extra facts, corrections.

Every form slot has a *custom* mapping, so the form sees each user message whole and
decides:

* **interruption** (a confident question, 转人工, 取消 …): extract nothing, so the form
  is rejected and a rule answers before the form resumes (:func:`is_clear_answer` keeps
  a clear phone, date, amount or county an answer whatever the classifier says);
* **answer** to the requested slot: the slot's reader (``SlotSpec.answer``) takes the
  raw words, and validation parses them;
* **extra facts** in the same message (我在新会区的好又多超市买到过期牛奶，花了35元)
  fill other empty slots at once;
* **corrections** (电话写错了，是13912345678) overwrite a filled slot when the message
  says so, or at any time during the final review, where naming a field (我要改电话)
  reopens it.

Why pure functions: the inputs (the digested :class:`Message`, the slots, the requested
and required slots) are passed in, so each rule can be tested without a tracker; the
validation action reads them from the tracker and turns the result into events.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from typing import Any

from bot.actions.common import label
from bot.actions.intake.message import Message
from bot.actions.intake.slots import SlotTable
from bot.actions.parsing.complaint_text import (
    clean_product,
    find_merchant,
    find_product,
    parse_demand,
)
from bot.actions.parsing.dates import parse_date
from bot.actions.parsing.money import find_amount, format_amount, parse_amount
from bot.actions.parsing.phone import find_phone
from bot.actions.parsing.text import has_correction_cue
from core.places import find_county

# While the form asks for one of these, a tagged "product" is part of that answer.
_NAME_OR_ADDRESS_SLOTS = frozenset(
    {"respondent_name", "respondent_address", "complainant_name", "complainant_address"}
)


def is_clear_answer(table: SlotTable, requested: str | None, text: str) -> bool:
    """True when ``text`` parses as a value for the structured slot we asked for."""
    return table.recognises(requested, text)


def answer(table: SlotTable, slot: str, message: Message) -> Any:
    """The user's answer to the requested ``slot``, before validation."""
    spec = table.get(slot)
    if spec is None:
        return message.raw or None
    return spec.answer(message, spec.prefix)


def extract(
    message: Message,
    slots: Mapping[str, Any],
    requested: str | None,
    required: Sequence[str],
    table: SlotTable,
    confirm_slot: str,
) -> dict[str, Any]:
    """Slot values this message gives: the answer, extra facts, corrections, reopenings.

    A ``None`` value means "ask this slot (again)": the requested slot when the message
    did not answer it, or a field named at the review.
    """
    reviewing = requested == confirm_slot
    correcting = reviewing or has_correction_cue(message.text)
    found: dict[str, Any] = {}

    if requested in required:
        given = answer(table, requested, message)
        if given is not None:
            found[requested] = given

    def may_fill(slot: str) -> bool:
        return (
            slot in required
            and slot != requested
            and slot not in found
            and (slots.get(slot) is None or correcting)
        )

    text = message.text
    mentioned: set[str] = set()  # slots this message gives a value for, changed or not
    phone = find_phone(text) or (
        find_phone(message.first("phone")) if message.first("phone") else None
    )
    if phone and "complainant_phone" in required and requested != "complainant_phone":
        mentioned.add("complainant_phone")
        if slots.get("complainant_phone") != phone.number:
            found["complainant_phone"] = phone.number

    amount = find_amount(text)
    if amount is None and message.first("amount"):
        amount = parse_amount(message.first("amount"))
    if amount is not None and "amount" in required:
        mentioned.add("amount")
        if may_fill("amount"):
            found["amount"] = format_amount(amount)

    date_text = message.first("date")
    if date_text or text:
        parsed = parse_date(date_text or text, strict=date_text is None)
        if parsed.parsed and parsed.error is None and "incident_date" in required:
            mentioned.add("incident_date")
            if may_fill("incident_date"):
                found["incident_date"] = date_text or text

    merchant = message.first("merchant") or find_merchant(text)
    if (
        merchant
        and may_fill("respondent_name")
        and (slots.get("respondent_name") is None or re.search(r"商家|店|公司", text))
    ):
        found["respondent_name"] = merchant

    # DIET may tag the defect (发霉) or the whole phrase (过期牛奶): the product is
    # what is left without defect words, else what the narrative parser finds.
    # While we ask for a name or an address, a tagged "product" is part of that
    # answer (好味食品店 → 食品), never the goods: only the narrative parser counts.
    tagged = None if requested in _NAME_OR_ADDRESS_SLOTS else message.first("product")
    product = clean_product(tagged) or find_product(text)
    if product and may_fill("product") and slots.get("product") is None:
        found["product"] = product

    county = find_county(text)
    if (
        county
        and "county" in required
        and slots.get("county") is None
        and requested not in ("county", "respondent_address")
    ):
        found["county"] = county

    # The whole message first: DIET tags one span (退款) where 退款并赔偿 asks for two.
    demand = parse_demand(text) or parse_demand(message.first("demand"))
    if demand and demand.category != "其他" and may_fill("demand"):
        found["demand"] = demand.detail or label("list_separator").join(demand.categories)

    opening = requested is None and "facts" in required and slots.get("facts") is None
    if opening and len(text) >= 15:
        # The opening message often *is* the story: keep it as the facts draft.
        found["facts"] = message.raw

    mentioned.discard(requested)
    mentioned.update(k for k, v in found.items() if k != requested and v is not None)
    if reviewing and not mentioned:
        if found.get(requested) is not True:
            named = table.named_in(text, required)
            if named:
                found[named] = None
                # The reopened field is asked first, then the review.
                found[requested] = None
    elif (
        requested in found
        and requested != confirm_slot
        and has_correction_cue(text)
        and any(slots.get(k) is not None for k in mentioned)
    ):
        # "金额不对，应该是350元" while we asked for the facts: a correction, not an answer.
        del found[requested]
    return found


def changed_values(
    found: Mapping[str, Any], slots: Mapping[str, Any], requested: str | None
) -> list[tuple[str, Any]]:
    """Filled slots this message overwrites (not the answer itself): each gets a notice."""
    return [
        (slot, value)
        for slot, value in found.items()
        if slot != requested and slots.get(slot) not in (None, value) and value is not None
    ]
