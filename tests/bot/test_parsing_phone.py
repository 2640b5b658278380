"""Phone numbers as citizens type them (mobile, landline, spaced, Chinese digits)."""

from __future__ import annotations

import pytest

from bot.actions.parsing.phone import digits_from_chinese, find_phone, parse_phone
from core.phones import mask_phone, mask_phones_in_text


@pytest.mark.parametrize(
    ("text", "number", "kind"),
    [
        ("13912345678", "13912345678", "mobile"),
        ("139 1234 5678", "13912345678", "mobile"),
        ("139-1234-5678", "13912345678", "mobile"),
        ("+86 13912345678", "13912345678", "mobile"),
        ("８６-１３９１２３４５６７８", "13912345678", "mobile"),
        ("我电话係13800138000唔该", "13800138000", "mobile"),
        ("电话写错了，是13912345678", "13912345678", "mobile"),
        ("一三九一二三四五六七八", "13912345678", "mobile"),
        ("0750-3123456", "0750-3123456", "landline"),
        ("（0750）3123456", "0750-3123456", "landline"),
        ("07503123456", "0750-3123456", "landline"),
        ("020-87654321转123", "020-87654321", "landline"),
        ("座机 0750 3123456", "0750-3123456", "landline"),
    ],
)
def test_valid_numbers_are_normalised(text: str, number: str, kind: str) -> None:
    result = parse_phone(text)
    assert result.phone is not None, text
    assert (result.phone.number, result.phone.kind) == (number, kind)


@pytest.mark.parametrize(
    ("text", "error"),
    [
        ("3123456", "needs_area_code"),
        ("12345678", "needs_area_code"),
        ("1391234567", "invalid"),
        ("12912345678", "invalid"),
        ("我没有电话", "empty"),
        ("", "empty"),
    ],
)
def test_invalid_numbers_explain_why(text: str, error: str) -> None:
    result = parse_phone(text)
    assert result.phone is None
    assert result.error == error


def test_no_phone_inside_ordinary_sentences() -> None:
    assert find_phone("我买了3瓶水，花了35元") is None
    assert find_phone("编号 JM2026-000123") is None


def test_masking_keeps_only_the_ends() -> None:
    assert mask_phone("13912345678") == "139****5678"
    assert mask_phone("0750-3123456") == "0750-***3456"
    assert parse_phone("13912345678").phone.last4 == "5678"  # type: ignore[union-attr]
    masked = mask_phones_in_text("我的电话是13912345678，座机0750-3123456")
    assert "13912345678" not in masked and "3123456" not in masked
    assert "139****5678" in masked
    spoken = mask_phones_in_text(digits_from_chinese("电话一三九一二三四五六七八，一个人"))
    assert spoken == "电话139****5678，一个人"
