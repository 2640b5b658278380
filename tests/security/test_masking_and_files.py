"""Fast checks of the pieces behind the stack probes: PII masking in any process's log
records, and files created private (600) from the first byte."""

from __future__ import annotations

import logging
import os
import stat
import subprocess
import sys
from pathlib import Path

import pytest

from tests.security.stack import LAST4_RE, PHONE_RE, REPO


@pytest.mark.parametrize(
    ("text", "kept"),
    [
        # One masker (core.phones) for logs, views and chat: canonical digits, one star
        # per hidden digit.
        ("电话１３８１２３４５６７８", "138****5678"),
        ("电话 138.1234.5678 和 138 1234 5678", "138****5678"),
        ("+86 139-1234-5678", "139****5678"),
        ("座机 0750-3123456", "0750-***3456"),
        ("GET /api/tickets/JM2026-000001?phone_last4=5678", "phone_last4=****"),
    ],
)
def test_masking_covers_how_people_type_numbers(text: str, kept: str) -> None:
    from core.pii import mask_text

    masked = mask_text(text)
    assert kept in masked
    assert not PHONE_RE.search(masked.replace(".", "").replace(" ", "").replace("-", ""))
    assert not LAST4_RE.search(masked)


def test_every_record_is_masked_whoever_logs_it() -> None:
    """In a fresh process: a library logger with its own handler, an httpx-style URL
    object argument and a traceback, after ``core.pii.install()``."""
    script = r"""
import logging, sys
from core import pii
lib = logging.getLogger("some.library")
handler = logging.StreamHandler(sys.stdout)
lib.addHandler(handler); lib.setLevel(logging.INFO); lib.propagate = False
pii.install()
class URL:
    def __str__(self): return "http://x/api/tickets/JM2026-000001?phone_last4=4321"
lib.info("HTTP Request: %s %s", "GET", URL())
lib.info("来电 %s", "１３９１２３４５６７８")
try:
    raise ValueError("phone 13912345678")
except ValueError:
    lib.exception("failed for %s", "13800138000")
print("httpx level", logging.getLogger("httpx").getEffectiveLevel() >= logging.WARNING)
"""
    done = subprocess.run(
        [sys.executable, "-c", script], cwd=REPO, capture_output=True, text=True, timeout=60,
        env={**os.environ, "PYTHONPATH": str(REPO)},
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    out = done.stdout
    assert "phone_last4=****" in out and "httpx level True" in out
    assert not PHONE_RE.search(out) and not LAST4_RE.search(out), out
    assert "１２３４５６７８" not in out


def test_outbox_and_endpoints_are_created_private(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("YIWEN_DATA_DIR", str(tmp_path / "data"))
    old = os.umask(0o022)
    try:
        from bot.actions.outbox import Outbox
        from bot.endpoints_profile import endpoints_config, write_endpoints
        from core.settings import RasaSettings

        box = Outbox()
        box.add({"complainant": {"phone": "13912345678"}}, "complaint")
        config = endpoints_config(
            RasaSettings(tracker_store_url=f"sqlite:///{tmp_path / 'tracker.db'}"),
            "http://127.0.0.1:5055/webhook",
        )
        assert config is not None
        endpoints = write_endpoints(config, tmp_path / "rasa" / "endpoints.yml")
    finally:
        os.umask(old)
    paths = [box.path, endpoints, tmp_path / "tracker.db", *box.path.parent.glob("*-wal")]
    modes = {p.name: oct(stat.S_IMODE(os.stat(p).st_mode)) for p in paths}
    assert set(modes.values()) == {"0o600"}, modes
    assert "13912345678" not in (tmp_path / "rasa" / "endpoints.yml").read_text()


def test_review_log_masks_full_width_and_dotted_numbers(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("YIWEN_DATABASE_URL", f"sqlite:///{tmp_path / 'app.db'}")
    from bot.actions import review_log

    review_log.record(
        question="我的电话１３８１２３４５６７８，另一个 139.8765.4321", answer=None, abstained=True
    )
    [row] = review_log.list_entries(url=f"sqlite:///{tmp_path / 'app.db'}")
    assert "１２３４５６７８" not in row["question"] and "8765" not in row["question"], row
    assert stat.S_IMODE(os.stat(tmp_path / "app.db").st_mode) == 0o600
    assert review_log.get_engine(f"sqlite:///{tmp_path / 'app.db'}").hide_parameters
    logging.getLogger(__name__).info("done")
