"""Secrets shared by the server-side processes: the Rasa admin token and the ticket API's
service token.

Why a file in the data dir: an operator may set ``YIWEN_RASA_AUTH_TOKEN`` /
``YIWEN_TICKET_API_TOKEN`` (``core.settings``: ``rasa.auth_token``,
``tickets.ticket_api_token``), but ``make run`` on a fresh clone must be safe without any
setting. So when a variable is unset, the first process that needs the secret generates
it into ``<data_dir>/secrets/<name>`` and every other process of the stack reads the same
file. The file is created with mode 600 in one step (``os.open`` with a mode, written
under a temporary name and linked into place), so no other user can ever read it and no
process can see it half-written.

Only the standard library is used: the Rasa environment (Python 3.10, old pins) imports
this module too.
"""

from __future__ import annotations

import os
import secrets
from pathlib import Path
from typing import Any

RASA_AUTH_TOKEN = "rasa_auth_token"
TICKET_API_TOKEN = "ticket_api_token"

PRIVATE_FILE = 0o600
PRIVATE_DIR = 0o700


def private_dir(path: Path) -> Path:
    """Create ``path`` (and parents) if missing; a new leaf folder is owner-only."""
    path.mkdir(parents=True, exist_ok=True, mode=PRIVATE_DIR)
    return path


def create_private_file(path: Path) -> None:
    """Make sure ``path`` exists, created 600 if it did not (an existing file is left as is).

    SQLite and YAML writers then open an already-private file instead of creating a
    world-readable one under the default umask.
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT, PRIVATE_FILE)
    os.close(fd)


def write_private_text(path: Path, text: str) -> None:
    """Replace ``path`` with ``text``; the file is 600 from its first byte."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{secrets.token_hex(4)}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, PRIVATE_FILE)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            fh.write(text)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


def secret_path(name: str, data_dir: Path) -> Path:
    return data_dir / "secrets" / name


def read_or_create(path: Path) -> str:
    """The secret stored at ``path``; generated (256 random bits) if the file is missing.

    Concurrent first starts agree on one value: the new secret is written to a private
    temporary file and hard-linked into place, which fails if another process won.
    """
    try:
        value = path.read_text(encoding="utf-8").strip()
        if value:
            return value
    except FileNotFoundError:
        pass
    private_dir(path.parent)
    tmp = path.with_name(f".{path.name}.{secrets.token_hex(4)}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, PRIVATE_FILE)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            fh.write(secrets.token_urlsafe(32) + "\n")
            fh.flush()
            os.fsync(fh.fileno())
        try:
            os.link(tmp, path)
        except FileExistsError:
            pass  # another process created it first: use theirs
    finally:
        tmp.unlink(missing_ok=True)
    return path.read_text(encoding="utf-8").strip()


def service_secret(name: str, configured: Any, data_dir: Path) -> str:
    """The secret ``name``: the configured value (a str or ``SecretStr``) when set, else
    the shared file ``<data_dir>/secrets/<name>``."""
    if configured is not None and hasattr(configured, "get_secret_value"):
        configured = configured.get_secret_value()
    value = (configured or "").strip()
    if value:
        return value
    return read_or_create(secret_path(name, data_dir))
