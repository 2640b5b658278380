"""Phone normalisation (``core.phones``) and masking of personal data in views and logs."""

from __future__ import annotations

import logging

import pytest

from core.phones import mask_phone, normalise_phone
from tickets.services.masking import (
    PiiMaskingFilter,
    mask_address,
    mask_name,
    mask_text,
)


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("13912345678", "13912345678"),
        ("139 1234 5678", "13912345678"),
        ("139-1234-5678", "13912345678"),
        ("+86 139 1234 5678", "13912345678"),
        ("8613912345678", "13912345678"),
        ("0750-1234567", "0750-1234567"),
        ("075012345678", "0750-12345678"),
        ("(0750) 3502345", "0750-3502345"),
        ("（0750）35023456", "0750-35023456"),
        ("020-87654321", "020-87654321"),
        ("010 1234 5678", "010-12345678"),
    ],
)
def test_valid_phones_are_normalised(raw: str, expected: str) -> None:
    assert normalise_phone(raw) == expected


@pytest.mark.parametrize(
    "raw", ["12345678901", "1391234567", "139123456789", "10086", "0750-12", "abc", "12315"]
)
def test_invalid_phones_are_rejected(raw: str) -> None:
    assert normalise_phone(raw) is None


def test_masks() -> None:
    assert mask_phone("13912345678") == "139****5678"
    assert mask_phone("0750-3502345") == "0750-***2345"
    assert mask_name("陈小明") == "陈**"
    assert mask_name("李") == "*"
    assert mask_address("江门市新会区会城街道今洲路12号") == "江门市新会区会城街道****"
    assert mask_address("广东省江门市蓬江区白沙大道西1号3栋") == "广东省江门市蓬江区****"


def test_mask_text_hides_phones_last4_and_street_addresses() -> None:
    line = (
        "ticket JM2026-000123 phone 13912345678 alt 139-1234-5678 tel 0750-3502345 "
        "addr 江门市新会区会城街道今洲路12号3栋201室 "
        '"GET /api/tickets/JM2026-000123?phone_last4=5678 HTTP/1.1"'
    )
    masked = mask_text(line)
    for secret in ("13912345678", "1234-5678", "3502345", "今洲路", "201室", "=5678"):
        assert secret not in masked
    assert "139****5678" in masked and "江门市新会区会城街道****" in masked
    # Ticket numbers, dates and amounts are not phone numbers.
    assert "JM2026-000123" in masked
    assert mask_text("2026-11-25 amount 123456789012") == "2026-11-25 amount 123456789012"


def test_logging_filter_masks_message_args_and_traceback() -> None:
    record = logging.LogRecord(
        "tickets", logging.INFO, __file__, 1, "caller %s at %s", ("13912345678", "X"), None
    )
    try:
        raise ValueError("bad phone 13800001111")
    except ValueError:
        import sys

        record.exc_info = sys.exc_info()
    assert PiiMaskingFilter().filter(record)
    assert record.getMessage() == "caller 139****5678 at X"
    assert record.exc_text and "13800001111" not in record.exc_text
    assert "138****1111" in record.exc_text
