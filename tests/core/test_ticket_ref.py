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
        # Lookup codes: any case, spaces, dashes forgotten; Crockford's I/L/O read as 1/1/0.
        ("查询 JM2026-000123-7KQ2XM 尾号5678", "JM2026-000123-7KQ2XM"),
        ("jm2026-000123-7kq2xm", "JM2026-000123-7KQ2XM"),
        ("jm 2026 000123 7kq2xm", "JM2026-000123-7KQ2XM"),
        ("JM20260001237KQ2XM", "JM2026-000123-7KQ2XM"),
        ("JM2026-000123-OIL2XM", "JM2026-000123-0112XM"),
        ("编号JM2026-000123，尾号5678", "JM2026-000123"),
        ("JM2026-000123-7KQ2XMA", "JM2026-000123"),  # seven characters: no secret
        ("JM2026-000123-7KQ2", "JM2026-000123"),  # too short: no secret
    ],
)
def test_references_as_typed(text: str, ref: str | None) -> None:
    assert ticket_ref.find_ticket_ref(text) == ref


def test_the_widget_pattern_marks_up_exactly_the_references() -> None:
    found = re.findall(
        ticket_ref.IN_TEXT,
        "编号 JM2026-000042-7KQ2XM，本地 LOCAL-20260105-7F3A9C，JM2026-12，JM2026-000043",
    )
    assert found == ["JM2026-000042-7KQ2XM", "LOCAL-20260105-7F3A9C", "JM2026-000043"]


def test_lookup_codes() -> None:
    secrets = {ticket_ref.new_lookup_secret() for _ in range(200)}
    assert len(secrets) > 190
    for secret in secrets:
        assert len(secret) == ticket_ref.SECRET_LENGTH
        assert set(secret) <= set(ticket_ref.SECRET_ALPHABET)
        assert not set(secret) & set("ILOU")
        code = ticket_ref.format_lookup_code("JM2026-000123", secret)
        assert re.fullmatch(ticket_ref.LOOKUP_CODE, code)
        assert re.fullmatch(ticket_ref.TICKET_REF_PATTERN, code.lower())
        assert not re.fullmatch(ticket_ref.TICKET_NO_PATTERN, code)
        assert ticket_ref.find_ticket_ref(f"我的编号是{code.lower()}") == code
        assert ticket_ref.split_lookup_code(code) == ("JM2026-000123", secret)
    assert ticket_ref.format_lookup_code("jm2026-000123", "7kq2xm") == "JM2026-000123-7KQ2XM"
    with pytest.raises(ValueError):
        ticket_ref.format_lookup_code("JM2026-000123", "7KQ2XU")  # U is not in the alphabet
    assert ticket_ref.split_lookup_code("jm2026-000123") == ("JM2026-000123", None)
    assert not re.fullmatch(ticket_ref.TICKET_REF_PATTERN, "JM2026-000123-7KQ2XU")
    assert not re.fullmatch(ticket_ref.TICKET_REF_PATTERN, "JM2026-000123-7KQ2X")
    assert (
        ticket_ref.mask_lookup_codes("GET /api/tickets/JM2026-000123-7KQ2XM?x")
        == "GET /api/tickets/JM2026-000123-******?x"
    )
    assert ticket_ref.without_ticket_refs("JM2026-000123-7KQ2XM 5678").strip() == "5678"
