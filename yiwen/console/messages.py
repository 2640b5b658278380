"""Chinese text of the console API, kept in ``yiwen/console/insights.yml`` (not in code)."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Any

import yaml

MESSAGES_FILE = Path(__file__).with_name("insights.yml")


@lru_cache(maxsize=1)
def _messages() -> dict[str, Any]:
    data = yaml.safe_load(MESSAGES_FILE.read_text(encoding="utf-8"))
    if not isinstance(data, dict):
        raise ValueError(f"{MESSAGES_FILE} must be a mapping")
    return data


def text(key: str, **values: object) -> str:
    """The text at ``section.key`` with ``{placeholders}`` filled in."""
    section, _, name = key.partition(".")
    value = str(_messages()[section][name])
    return value.format(**values) if values else value
