"""Alembic environment of the ticket service.

The database URL comes from the caller (``tickets.migrate`` passes its connection, so the
upgrade runs under the caller's lock) or else from the service settings
(``YIWEN_DATABASE_URL`` / ``.env``). Logging is deliberately not reconfigured here: the
upgrade runs inside the application at start-up.
"""

from __future__ import annotations

from alembic import context
from sqlalchemy.engine import Connection

from core.settings import TicketsSettings, get_settings
from tickets.db import make_engine
from tickets.models import Base

VERSION_TABLE = "tickets_alembic_version"
config = context.config
target_metadata = Base.metadata


def _url() -> str:
    url = config.attributes.get("url") or config.get_main_option("sqlalchemy.url")
    return str(url) if url else get_settings().tickets.effective_database_url


def _configure(connection: Connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=target_metadata,
        version_table=VERSION_TABLE,
        render_as_batch=connection.dialect.name == "sqlite",
        compare_type=True,
    )
    with context.begin_transaction():
        context.run_migrations()


def run_offline() -> None:
    context.configure(
        url=_url(),
        target_metadata=target_metadata,
        version_table=VERSION_TABLE,
        literal_binds=True,
        dialect_opts={"paramstyle": "named"},
    )
    with context.begin_transaction():
        context.run_migrations()


def run_online() -> None:
    connection = config.attributes.get("connection")
    if connection is not None:
        _configure(connection)
        return
    engine = make_engine(TicketsSettings(database_url=_url()))
    try:
        with engine.connect() as conn:
            _configure(conn)
    finally:
        engine.dispose()


if context.is_offline_mode():
    run_offline()
else:
    run_online()
