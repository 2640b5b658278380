"""Runtime settings of the action server, read from the environment at call time.

Read lazily (not at import) so tests and `yiwen up` can point the actions at a
temporary database, data directory or ticket API without reloading modules.
"""

from __future__ import annotations

import os
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[2]


def data_dir() -> Path:
    """``YIWEN_DATA_DIR`` (default ``<repo>/var``): outbox and other local state."""
    return Path(os.environ.get("YIWEN_DATA_DIR") or REPO_ROOT / "var")


def database_url() -> str:
    """``YIWEN_DATABASE_URL`` (default ``sqlite:///<repo>/var/yiwen.db``): the app database."""
    return os.environ.get("YIWEN_DATABASE_URL") or f"sqlite:///{REPO_ROOT / 'var' / 'yiwen.db'}"


def ticket_api_url() -> str:
    """``YIWEN_TICKET_API_URL`` (default ``http://127.0.0.1:8000``), without a trailing slash."""
    return (os.environ.get("YIWEN_TICKET_API_URL") or "http://127.0.0.1:8000").rstrip("/")


def ticket_api_token() -> str:
    """The action server's credential for the ticket API (``Authorization: Bearer …``).

    ``YIWEN_TICKET_API_TOKEN`` when set, else the token ``yiwen up`` generated into
    ``<data_dir>/secrets/ticket_api_token`` (mode 600; created here if missing), the
    same file the ticket API reads.
    """
    from yiwen.service_secrets import TICKET_API_TOKEN, service_secret

    return service_secret(TICKET_API_TOKEN, data_dir=data_dir())


def ticket_timeout_s() -> float:
    """How long a chat turn waits for the ticket API before queueing in the outbox."""
    return float(os.environ.get("YIWEN_TICKET_TIMEOUT", "5"))


def outbox_path() -> Path:
    return data_dir() / "outbox.sqlite3"


def outbox_retry_interval_s() -> float:
    return float(os.environ.get("YIWEN_OUTBOX_RETRY_SECONDS", "20"))


def outbox_backoff_s() -> float:
    """First retry delay after a failed delivery; doubles each time (at most 10 min)."""
    return float(os.environ.get("YIWEN_OUTBOX_BACKOFF_SECONDS", "30"))
