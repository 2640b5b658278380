"""The intake SlotSpec tables agree with the domain, and their pure parts work alone.

Why: a slot's keywords, prefix, reader, parser and display live in one row of
``bot/actions/intake/slots.py``; a form slot added to ``bot/domain.yml`` without a row
(or with two) would be asked but never validated, and a display label key without an
entry in ``labels.yml`` would show the raw slot name to the citizen.
"""

from __future__ import annotations

import re
from collections import Counter
from pathlib import Path
from typing import Any

import pytest

from bot.actions.common import labels
from bot.actions.complaint_form import ValidateComplaintForm
from bot.actions.intake import (
    COMPLAINT_SLOTS,
    INTAKE_SLOTS,
    REPORT_SLOTS,
    SlotSpec,
    SlotTable,
    parsers,
)
from bot.actions.intake.extraction import changed_values, extract, is_clear_answer
from bot.actions.intake.message import Message
from bot.actions.report_form import ValidateReportForm

TABLES = {"complaint_form": COMPLAINT_SLOTS, "report_form": REPORT_SLOTS}
#: rows a form asks only under a condition, so the domain's list does not name them
CONDITIONAL = {"complaint_form": {"demand_detail"}, "report_form": set()}
FORMS = {"complaint_form": ValidateComplaintForm, "report_form": ValidateReportForm}


@pytest.mark.parametrize("form", list(TABLES))
def test_every_form_slot_has_exactly_one_spec(form: str, domain: dict[str, Any]) -> None:
    required = domain["forms"][form]["required_slots"]
    rows = Counter(spec.slot for spec in TABLES[form])
    assert {slot: rows[slot] for slot in required} == {slot: 1 for slot in required}
    extra = set(rows) - set(required) - CONDITIONAL[form]
    assert not extra, f"{form} has rows for slots it never asks: {sorted(extra)}"


def test_every_row_is_a_domain_slot_and_appears_once(domain: dict[str, Any]) -> None:
    names = [spec.slot for spec in INTAKE_SLOTS]
    assert len(names) == len(set(names))
    assert set(names) <= set(domain["slots"])


def test_a_table_refuses_two_rows_for_one_slot() -> None:
    row = INTAKE_SLOTS.get("amount")
    assert row is not None
    with pytest.raises(ValueError, match="amount"):
        SlotTable([row, row])


@pytest.mark.parametrize("spec", list(INTAKE_SLOTS), ids=lambda s: s.slot)
def test_each_display_label_key_exists(spec: SlotSpec) -> None:
    if spec.display is None:  # only the review slot itself is never shown
        assert spec.slot.endswith("_confirmed")
        return
    assert spec.display.label_key in labels()["fields"], spec.display.label_key
    assert spec.display.has_label()


@pytest.mark.parametrize("form", list(FORMS))
def test_each_row_has_its_validator_and_the_review_slot_a_row(form: str) -> None:
    action = FORMS[form]()
    assert action.confirm_slot in TABLES[form]
    for spec in TABLES[form]:
        assert callable(getattr(action, f"validate_{spec.slot}", None)), spec.slot


def test_every_response_a_parser_names_is_in_the_domain(domain: dict[str, Any]) -> None:
    source = Path(parsers.__file__).read_text(encoding="utf-8")
    named = set(re.findall(r'"(utter_\w+)"', source))
    named |= {"utter_facts_too_short", ValidateReportForm.facts_too_short_response}
    assert named, "no responses found in parsers.py"
    assert named <= set(domain["responses"]), sorted(named - set(domain["responses"]))


def message(text: str, intent: str = "inform", confidence: float = 0.9) -> Message:
    return Message(text=text, raw=text, intent=intent, confidence=confidence)


FILLED = {
    "complainant_phone": "13800001111",
    "respondent_address": "新会区会城今古洲路1号",
    "complainant_address": "蓬江区白沙大道西2号",
    "amount": "35.00",
}


@pytest.mark.parametrize(
    ("text", "reopened"),
    [
        ("我要改电话", "complainant_phone"),
        ("我要改商家地址", "respondent_address"),  # not my address, not the merchant name
        ("我要改地址", "complainant_address"),
        ("金额要改", "amount"),
    ],
)
def test_naming_a_field_at_the_review_reopens_it(text: str, reopened: str) -> None:
    names = [spec.slot for spec in COMPLAINT_SLOTS]
    found = extract(
        message(text), FILLED, "complaint_confirmed", names, COMPLAINT_SLOTS, "complaint_confirmed"
    )
    assert found == {reopened: None, "complaint_confirmed": None}


def test_a_correction_while_asking_another_slot_is_not_its_answer() -> None:
    names = [spec.slot for spec in COMPLAINT_SLOTS]
    found = extract(
        message("电话写错了，是13912345678"),
        FILLED,
        "facts",
        names,
        COMPLAINT_SLOTS,
        "complaint_confirmed",
    )
    assert found == {"complainant_phone": "13912345678"}
    assert changed_values(found, FILLED, "facts") == [("complainant_phone", "13912345678")]


def test_prefix_is_stripped_from_the_answer() -> None:
    names = [spec.slot for spec in COMPLAINT_SLOTS]
    found = extract(message("我的名字是张三"), {}, "complainant_name", names, COMPLAINT_SLOTS, "x")
    assert found["complainant_name"] == "张三"


@pytest.mark.parametrize(
    ("slot", "text", "clear"),
    [
        ("complainant_phone", "13912345678", True),
        ("complainant_phone", "你好", False),
        ("amount", "三百五", True),
        ("facts", "13912345678", False),  # free text is never "clearly" an answer
    ],
)
def test_clear_answers(slot: str, text: str, clear: bool) -> None:
    assert is_clear_answer(COMPLAINT_SLOTS, slot, text) is clear


def test_parsers_name_the_response_instead_of_sending_it() -> None:
    ctx = parsers.Context(slots={})
    bad = parsers.complainant_phone("12345", ctx)
    assert bad.value is None
    assert [s.response for s in bad.say] == ["utter_invalid_phone"]
    good = parsers.complainant_phone("139 1234 5678", ctx)
    assert good.slots("complainant_phone") == {"complainant_phone": "13912345678"}
    assert good.say == ()


def test_display_masks_the_phone_and_shows_sentinels_as_words() -> None:
    assert COMPLAINT_SLOTS.display("complainant_phone", "13912345678") == "139****5678"
    assert COMPLAINT_SLOTS.display("amount", "none") == labels()["amount_none"]
    assert COMPLAINT_SLOTS.display("county", "unknown") == "待分派"
    assert COMPLAINT_SLOTS.display("evidence", None) == labels()["not_given"]
