"""Schema migrations: two processes starting at once on an empty database both succeed,
and the schema matches the models."""

from __future__ import annotations

import multiprocessing
from collections.abc import Iterator
from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import create_engine, inspect, text

from core.settings import TicketsSettings
from tests.tickets.helpers import PostgresUnavailable, fresh_postgres_database, require_postgres
from tickets import migrate
from tickets.db import make_engine
from tickets.models import Base

pytestmark = pytest.mark.slow


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def empty_database(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'fresh.db'}"
        return
    try:
        with fresh_postgres_database() as url:
            yield url
    except PostgresUnavailable as exc:
        require_postgres(str(exc))


def _upgrade_in_child(url: str, barrier: multiprocessing.synchronize.Barrier) -> None:
    engine = make_engine(TicketsSettings(database_url=url))
    barrier.wait(timeout=60)
    migrate.upgrade(engine)
    engine.dispose()


def test_concurrent_start_up_migrations(empty_database: str) -> None:
    forking = multiprocessing.get_context("fork")  # children reuse the imported modules
    barrier = forking.Barrier(3)
    children = [
        forking.Process(target=_upgrade_in_child, args=(empty_database, barrier)) for _ in range(3)
    ]
    for child in children:
        child.start()
    for child in children:
        child.join(timeout=120)
    assert [child.exitcode for child in children] == [0, 0, 0]

    head = ScriptDirectory(str(migrate.MIGRATIONS_DIR)).get_current_head()
    engine = create_engine(empty_database)
    try:
        with engine.connect() as conn:
            versions = conn.execute(text("SELECT version_num FROM tickets_alembic_version")).all()
            assert [row[0] for row in versions] == [head]
            assert {"tickets", "ticket_counters", "staff_tokens", "staff_audit_log"} <= set(
                inspect(conn).get_table_names()
            )
            # The migration creates exactly what the models describe.
            context = MigrationContext.configure(
                conn, opts={"version_table": "tickets_alembic_version", "compare_type": True}
            )
            diff = compare_metadata(context, Base.metadata)
            assert diff == []
    finally:
        engine.dispose()
