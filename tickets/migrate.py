"""Bring the database schema up to date at start-up, safely from several processes at once.

Two workers starting together would otherwise both try to create the tables. On
PostgreSQL a session advisory lock serialises them; on SQLite an exclusive file lock next
to the database file does. The second process then finds the schema at head and does
nothing.
"""

from __future__ import annotations

import fcntl
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from alembic import command
from alembic.config import Config
from sqlalchemy import Connection, Engine, text

from tickets.settings import PACKAGE_DIR

MIGRATIONS_DIR = PACKAGE_DIR / "migrations"
#: Arbitrary constant identifying "ticket schema migration" among advisory locks.
ADVISORY_LOCK_KEY = 7_260_419_001


def alembic_config(connection: Connection | None = None, url: str | None = None) -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    if connection is not None:
        config.attributes["connection"] = connection
    if url is not None:
        config.attributes["url"] = url
    return config


@contextmanager
def _file_lock(path: Path) -> Iterator[None]:
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("a") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def upgrade(engine: Engine) -> None:
    """Run Alembic ``upgrade head`` on ``engine`` under a cross-process lock."""
    if engine.dialect.name == "postgresql":
        with engine.connect() as conn:
            conn.execute(text("SELECT pg_advisory_lock(:key)"), {"key": ADVISORY_LOCK_KEY})
            conn.commit()
            try:
                command.upgrade(alembic_config(conn), "head")
                conn.commit()
            finally:
                conn.rollback()
                conn.execute(text("SELECT pg_advisory_unlock(:key)"), {"key": ADVISORY_LOCK_KEY})
                conn.commit()
        return
    database = engine.url.database
    if engine.dialect.name == "sqlite" and database and database != ":memory:":
        with _file_lock(Path(database + ".migrate.lock")), engine.connect() as conn:
            command.upgrade(alembic_config(conn), "head")
            conn.commit()
        return
    with engine.connect() as conn:
        command.upgrade(alembic_config(conn), "head")
        conn.commit()
