"""Engine and session factories for SQLite (embedded default) and PostgreSQL.

Both engines are created with ``hide_parameters=True``: a database error must not copy
names, phones and complaint facts into the log.

SQLite needs care to survive many concurrent writers in one process or several:
WAL mode lets readers run while one writer commits, ``busy_timeout`` makes a writer wait
for the lock instead of failing, and write transactions start with ``BEGIN IMMEDIATE`` so
that two transactions never both read and then deadlock on upgrading to a write lock
(SQLite answers that case with an immediate ``database is locked``, whatever the timeout).
Within one process, writers also queue on a lock of their own: SQLite's busy handler polls
with growing sleeps, which under load left some requests waiting seconds while others
went straight through.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import AbstractContextManager, contextmanager, nullcontext
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session, sessionmaker

from core.service_secrets import create_private_file
from core.settings import TicketsSettings


@dataclass(frozen=True)
class Database:
    """One engine plus two session factories: read (deferred) and write (immediate)."""

    engine: Engine
    read_session: sessionmaker[Session]
    write_session: sessionmaker[Session]
    write_lock: AbstractContextManager[Any] = field(default_factory=nullcontext)

    @property
    def is_sqlite(self) -> bool:
        return self.engine.dialect.name == "sqlite"

    @contextmanager
    def reading(self) -> Iterator[Session]:
        """A session for queries only; rolled back at the end."""
        with self.read_session() as session:
            yield session

    @contextmanager
    def writing(self) -> Iterator[Session]:
        """A session whose transaction commits on success and rolls back on error."""
        with self.write_lock, self.write_session() as session, session.begin():
            yield session


def _sqlite_file(url: str) -> Path | None:
    database = make_url(url).database
    if not database or database == ":memory:" or database.startswith("file:"):
        return None
    return Path(database)


def make_engine(settings: TicketsSettings) -> Engine:
    """Create the engine for ``settings``; creates the SQLite folder when needed."""
    url = settings.effective_database_url
    if make_url(url).get_backend_name() != "sqlite":
        return create_engine(
            url,
            pool_size=settings.db_pool_size,
            max_overflow=settings.db_max_overflow,
            pool_pre_ping=True,
            pool_timeout=60,
            hide_parameters=True,
        )
    path = _sqlite_file(url)
    if path is not None:
        # Tickets hold personal data: owner-only from the start (-wal/-shm follow).
        create_private_file(path)
    engine = create_engine(
        url,
        hide_parameters=True,
        connect_args={"check_same_thread": False, "timeout": settings.sqlite_busy_timeout_s},
        pool_size=settings.db_pool_size,
        max_overflow=settings.db_max_overflow,
        pool_timeout=60,
    )
    busy_ms = int(settings.sqlite_busy_timeout_s * 1000)

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        # Let us emit BEGIN ourselves (pysqlite's own BEGIN is always DEFERRED).
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute(f"PRAGMA busy_timeout = {busy_ms}")
        cursor.execute("PRAGMA journal_mode = WAL")
        # FULL, not NORMAL: in WAL mode NORMAL may lose the last commits on power loss,
        # and a ticket the citizen was told about (and the outbox marked delivered)
        # would vanish and its number be reused.
        cursor.execute("PRAGMA synchronous = FULL")
        cursor.execute("PRAGMA foreign_keys = ON")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(conn: Any) -> None:
        mode = conn.get_execution_options().get("sqlite_begin", "DEFERRED")
        conn.exec_driver_sql(f"BEGIN {mode}")

    return engine


def make_database(settings: TicketsSettings) -> Database:
    """Engine plus session factories for ``settings``."""
    engine = make_engine(settings)
    writer = engine.execution_options(sqlite_begin="IMMEDIATE")
    return Database(
        engine=engine,
        read_session=sessionmaker(engine, expire_on_commit=False),
        write_session=sessionmaker(writer, expire_on_commit=False),
        write_lock=threading.Lock() if engine.dialect.name == "sqlite" else nullcontext(),
    )
