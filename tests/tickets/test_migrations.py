"""Schema migrations: two processes starting at once on an empty database both succeed,
and the schema matches the models."""

from __future__ import annotations

import datetime as dt
import multiprocessing
import re
from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import create_engine, inspect, text

from core.settings import TicketsSettings
from core.ticket_ref import LOOKUP_CODE, format_lookup_code
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


def _old_row(table: sa.Table, n: int) -> dict[str, object]:
    """A ticket row as revision 0002 stored it: required columns filled by type."""
    row: dict[str, object] = {}
    for column in table.columns:
        if column.nullable and not column.primary_key:
            continue
        kind = column.type
        if isinstance(kind, sa.Boolean):
            row[column.name] = False
        elif isinstance(kind, sa.DateTime):
            row[column.name] = dt.datetime(2026, 1, 5, tzinfo=dt.UTC)
        elif isinstance(kind, sa.Date):
            row[column.name] = dt.date(2026, 1, 5)
        elif isinstance(kind, sa.JSON):
            row[column.name] = []
        elif isinstance(kind, sa.Integer):
            row[column.name] = n
        else:
            row[column.name] = f"x{n}"
    return dict(row, ticket_no=f"JM2026-{n:06d}")


def test_tickets_filed_before_lookup_codes_get_a_secret(empty_database: str) -> None:
    """0003 gives every existing ticket a lookup secret of its own (random, valid)."""
    engine = make_engine(TicketsSettings(database_url=empty_database))
    try:
        with engine.connect() as conn:
            command.upgrade(migrate.alembic_config(conn), "0002")
            conn.commit()
            old = sa.Table("tickets", sa.MetaData(), autoload_with=conn)
            conn.execute(old.insert(), [_old_row(old, n) for n in (1, 2, 3)])
            conn.commit()
            command.upgrade(migrate.alembic_config(conn), "head")
            conn.commit()
            rows = conn.execute(text("SELECT ticket_no, lookup_secret FROM tickets")).all()
    finally:
        engine.dispose()
    assert len(rows) == 3
    assert all(re.fullmatch(LOOKUP_CODE, format_lookup_code(no, secret)) for no, secret in rows)
