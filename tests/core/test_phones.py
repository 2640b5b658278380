"""The one phone pattern and masker (``core.phones``), as every caller sees them."""

from __future__ import annotations

import pytest

from core import phones


@pytest.mark.parametrize(
    ("text", "found"),
    [
        ("我的电话 139 1234 5678 唔该", ("13912345678", "mobile")),
        ("＋８６ １３９１２３４５６７８", ("13912345678", "mobile")),
        ("0086-139.1234.5678", ("13912345678", "mobile")),
        ("座机（0750）3123456转12", ("0750-3123456", "landline")),
        ("020 8765 4321", ("020-87654321", "landline")),
        ("编号 JM2026-000123，日期 2026-01-05", None),
        ("0123-4567890", None),  # no 01x area code but 010
    ],
)
def test_find_phone(text: str, found: tuple[str, str] | None) -> None:
    assert phones.find_phone(text) == found


def test_masks_are_the_same_wherever_the_number_appears() -> None:
    assert phones.mask_phone("13912345678") == "139****5678"
    assert phones.mask_phone("0750-3123456") == "0750-***3456"
    assert phones.mask_phone("020-87654321") == "020-****4321"
    assert phones.mask_phone(None) == ""
    text = "电话１３９１２３４５６７８，座机 (0750) 312-3456，单号 JM2026-000123"
    assert (
        phones.mask_phones_in_text(text) == "电话139****5678，座机 0750-***3456，单号 JM2026-000123"
    )
    assert phones.last4("139 1234 5678") == "5678"
