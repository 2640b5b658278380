"""The one ticket-reference format (``core.ticket_ref``): written, validated, spotted."""

from __future__ import annotations

import re
from datetime import date

import pytest

from core import ticket_ref


def test_ticket_numbers_are_written_once() -> None:
    assert ticket_ref.format_ticket_no(2026, 123) == "JM2026-000123"
    with pytest.raises(ValueError):
        ticket_ref.format_ticket_no(2026, 1_000_000)
    local = ticket_ref.format_local_ref(date(2026, 1, 5), "7f3a9c")
    assert local == "LOCAL-20260105-7F3A9C"
    assert ticket_ref.is_local_ref(local.lower()) and not ticket_ref.is_local_ref("JM2026-000123")
    assert re.fullmatch(ticket_ref.TICKET_REF_PATTERN, "jm2026-000123")
    assert re.fullmatch(ticket_ref.TICKET_REF_PATTERN, local)
    assert not re.fullmatch(ticket_ref.TICKET_NO_PATTERN, local)
    assert not re.fullmatch(ticket_ref.TICKET_REF_PATTERN, "JM2026-0001234")


@pytest.mark.parametrize(
    ("text", "ref"),
    [
        ("jm 2026 000123", "JM2026-000123"),
        ("单号JM2026-0001234", None),  # seven digits: not a ticket number
        ("local20260105 7f3a9c", "LOCAL-20260105-7F3A9C"),
        ("", None),
    ],
)
def test_references_as_typed(text: str, ref: str | None) -> None:
    assert ticket_ref.find_ticket_ref(text) == ref


def test_the_widget_pattern_marks_up_exactly_the_references() -> None:
    found = re.findall(
        ticket_ref.IN_TEXT, "编号 JM2026-000042，本地 LOCAL-20260105-7F3A9C，JM2026-12"
    )
    assert found == ["JM2026-000042", "LOCAL-20260105-7F3A9C"]
