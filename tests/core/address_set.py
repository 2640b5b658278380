"""The address set (addresses.yml), shared by the places and the agreement tests."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

ADDRESSES_FILE = Path(__file__).with_name("addresses.yml")
ADDRESSES: list[dict[str, Any]] = yaml.safe_load(ADDRESSES_FILE.read_text(encoding="utf-8"))


def case_id(case: dict[str, Any]) -> str:
    return f"{case['address']}{'-platform' if case.get('platform') else ''}"
