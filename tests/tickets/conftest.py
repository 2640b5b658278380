"""Fixtures for the ticket service: one real uvicorn server per database (a SQLite file
and a fresh PostgreSQL database), each with an admin and two county tokens."""

from __future__ import annotations

import datetime as dt
import subprocess
from collections.abc import Iterator
from contextlib import ExitStack

import pytest

from core.settings import TicketsSettings
from tests.tickets.helpers import (
    PostgresUnavailable,
    Server,
    fresh_postgres_database,
    launch_server,
    require_postgres,
    stop_server,
    wait_healthy,
)
from tickets.db import make_database
from tickets.services.auth import issue_token

#: Every server test runs on both; ``-m "not postgres"`` leaves the PostgreSQL half out.
DATABASES = ["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)]


@pytest.fixture(scope="session")
def launched(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Server | str]]:
    """Both servers, started at once so their start-up overlaps (about 10–20 s each on a
    busy 2-core machine); the value for a database is the reason when it is unavailable."""
    servers: dict[str, Server | str] = {}
    procs: list[subprocess.Popen[bytes]] = []
    with ExitStack() as stack:
        urls = {"sqlite": f"sqlite:///{tmp_path_factory.mktemp('sqlite') / 'tickets.db'}"}
        try:
            urls["postgres"] = stack.enter_context(fresh_postgres_database())
        except PostgresUnavailable as exc:
            servers["postgres"] = str(exc)
        for name, url in urls.items():
            log_path = tmp_path_factory.mktemp(f"server-{name}") / "server.log"
            proc, base_url = launch_server(url, log_path)
            procs.append(proc)
            stack.callback(stop_server, proc)
            db = make_database(TicketsSettings(database_url=url, db_pool_size=5, db_max_overflow=5))
            stack.callback(db.engine.dispose)
            servers[name] = Server(base_url, url, log_path, db, proc=proc)
        yield servers


@pytest.fixture(scope="session", params=DATABASES)
def server(request: pytest.FixtureRequest, launched: dict[str, Server | str]) -> Server:
    """A running ticket service on each database, with admin and two county tokens."""
    srv = launched[request.param]
    if isinstance(srv, str):
        require_postgres(srv)
        raise AssertionError("unreachable")
    if not srv.tokens:
        assert srv.proc is not None
        wait_healthy(srv.proc, srv.base_url, srv.log_path)
        now = dt.datetime.now(dt.UTC)
        with srv.db.writing() as session:
            for key, role, county in [
                ("admin", "admin", None),
                ("xinhui", "county", "新会区"),
                ("taishan", "county", "台山市"),
            ]:
                _row, secret = issue_token(session, role=role, county=county, name=key, now=now)
                srv.tokens[key] = secret
    return srv
