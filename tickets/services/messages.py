"""Chinese user-facing text, kept in ``tickets/messages.yml`` rather than in code."""

from __future__ import annotations

from functools import lru_cache
from typing import Any

import yaml

from tickets.settings import PACKAGE_DIR

MESSAGES_FILE = PACKAGE_DIR / "messages.yml"


@lru_cache(maxsize=1)
def _messages() -> dict[str, Any]:
    data = yaml.safe_load(MESSAGES_FILE.read_text(encoding="utf-8"))
    if not isinstance(data, dict):
        raise ValueError(f"{MESSAGES_FILE} must be a mapping")
    return data


def message(key: str, **values: object) -> str:
    """The text at ``section.key`` with ``{placeholders}`` filled in.

    The first dot separates the section; the rest is the key within it, so field paths
    such as ``art9.complainant.phone`` work.
    """
    section, _, name = key.partition(".")
    text = _messages()[section][name]
    return str(text).format(**values) if values else str(text)


def api_field_label(field: str) -> str:
    """Chinese label of an API field path (``complainant.phone``), or the path itself.

    Named apart from the bot's ``label`` (a phrase from ``bot/actions/labels.yml``).
    """
    labels: dict[str, str] = _messages()["labels"]
    return labels.get(field, field)
