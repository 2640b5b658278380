"""One home per concern: the phone pattern, the ticket-reference format, the OpenCC converter.

Copies drift: the bot, the ticket API, the log filter and the widget each had their own
mobile regex or ``JM…`` pattern, and they disagreed. This scans the source (``*.py`` and
``*.js``) and fails on any copy outside its home, naming file and line.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
SCANNED = ("bot", "tickets", "channels", "retrieval", "knowledge", "yiwen", "core")

# (concern, home, what a copy looks like)
RULES = [
    (
        "mobile-phone pattern",
        "core/phones.py",
        # 1[3-9], 1[3456789], [1１][3-9３-９] …
        re.compile(r"[1１]\]?\[3(?:-9|456789)"),
    ),
    (
        "ticket-reference pattern or format",
        "core/ticket_ref.py",
        # JM\d{4}, JM[0-9]{4}, JM\s*(\d…, f"JM{year}-…", LOCAL-\d{8}, f"LOCAL-{day}-…"
        re.compile(r"(?:\bJM|\bLOCAL-?)(?:\\[dsDw]|\[0-9|\(|\{)"),
    ),
    ("OpenCC converter construction", "knowledge/normalize.py", re.compile(r"\bOpenCC\s*\(")),
]


def _sources() -> list[Path]:
    files: list[Path] = []
    for top in SCANNED:
        for pattern in ("*.py", "*.js"):
            files.extend(p for p in (REPO / top).rglob(pattern) if "__pycache__" not in p.parts)
    return sorted(files)


def _hits(pattern: re.Pattern[str], path: Path) -> list[str]:
    rel = path.relative_to(REPO).as_posix()
    lines = path.read_text(encoding="utf-8").splitlines()
    return [f"{rel}:{n}: {line.strip()}" for n, line in enumerate(lines, 1) if pattern.search(line)]


@pytest.mark.parametrize(("concern", "home", "pattern"), RULES, ids=[r[0] for r in RULES])
def test_each_concern_has_one_home(concern: str, home: str, pattern: re.Pattern[str]) -> None:
    assert _hits(pattern, REPO / home), f"{home} no longer defines the {concern}"
    copies = [
        hit
        for path in _sources()
        if path.relative_to(REPO).as_posix() != home
        for hit in _hits(pattern, path)
    ]
    assert not copies, f"the {concern} belongs in {home} only:\n" + "\n".join(copies)


def test_the_scan_sees_the_widget() -> None:
    assert REPO / "channels/webchat/static/yiwen-widget.js" in _sources()


def _rasa_regex_features() -> dict[str, list[re.Pattern[str]]]:
    import yaml

    data = yaml.safe_load((REPO / "bot" / "data" / "regex.yml").read_text(encoding="utf-8"))
    return {
        entry["regex"]: [
            re.compile(line.lstrip("- ").strip())
            for line in entry["examples"].splitlines()
            if line.strip()
        ]
        for entry in data["nlu"]
        if "regex" in entry
    }


def test_rasa_regex_features_say_what_core_says() -> None:
    """``bot/data/regex.yml`` must be Rasa YAML, so it cannot import the home patterns;
    it is a feature for the entity extractor, not a validator. This keeps the copy from
    drifting: whatever core accepts as a whole phone or ticket reference, the feature
    matches, and the other way round."""
    from core import phones, ticket_ref

    features = _rasa_regex_features()
    samples = [
        "13912345678", "19912345678", "12912345678", "1391234567", "0750-3123456",
        "07503123456", "020-12345678", "JM2026-000123", "JM26-000123", "JM2026-00012",
        "LOCAL-20261206-0A1B2C", "LOCAL-20261206-0a1b2c", "LOCAL-2026126-0A1B2C",
    ]  # fmt: skip
    for text in samples:
        as_phone = any(p.fullmatch(text) for p in features["phone"])
        core_phone = phones.find_phone(text)
        whole = core_phone is not None and core_phone[0].replace("-", "") == text.replace("-", "")
        assert as_phone == whole, text
        as_ref = any(p.fullmatch(text) for p in features["ticket_no"])
        assert as_ref == bool(re.fullmatch(ticket_ref.IN_TEXT, text)), text
