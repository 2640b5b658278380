"""Fixtures of the security probes (issue 12): real services on loopback.

* ``stack``: ``yiwen up`` (app, action server, Rasa) on SQLite, once per session.
* ``api``: the ticket service alone, on SQLite and on a fresh PostgreSQL database, for
  the probes the issue asks on both databases.
"""

from __future__ import annotations

import datetime as dt
import subprocess
from collections.abc import Iterator
from contextlib import ExitStack

import pytest

from core.settings import TicketsSettings
from tests.conftest import TEST_INDEX
from tests.security.stack import RASA_BIN, Stack, start_stack
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

DATABASES = ["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)]


@pytest.fixture(scope="session")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    from bot.train import model_path

    if not RASA_BIN.exists():
        pytest.skip("the Rasa environment (.venv/rasa) is missing")
    if not model_path().is_file():
        pytest.skip(f"no model for the current inputs ({model_path().name}): python -m bot.train")
    if not (TEST_INDEX / "manifest.json").is_file():
        pytest.skip("the test index is missing: see scripts/test.sh (yiwen ingest)")
    running = start_stack(tmp_path_factory.mktemp("security-stack"))
    try:
        yield running
    finally:
        running.stop()


@pytest.fixture(scope="session")
def launched_apis(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Server | str]]:
    servers: dict[str, Server | str] = {}
    with ExitStack() as stack:
        data = tmp_path_factory.mktemp("security-api")
        urls = {"sqlite": f"sqlite:///{data / 'tickets.db'}"}
        try:
            urls["postgres"] = stack.enter_context(fresh_postgres_database())
        except PostgresUnavailable as exc:
            servers["postgres"] = str(exc)
        procs: list[subprocess.Popen[bytes]] = []
        for name, url in urls.items():
            log_path = data / f"{name}.log"
            proc, base_url = launch_server(
                url, log_path, {"YIWEN_DATA_DIR": str(data / name), "YIWEN_LOOKUP_WINDOW_S": "600"}
            )
            procs.append(proc)
            stack.callback(stop_server, proc)
            db = make_database(TicketsSettings(database_url=url, db_pool_size=2, db_max_overflow=2))
            stack.callback(db.engine.dispose)
            servers[name] = Server(base_url, url, log_path, db, proc=proc)
        yield servers


@pytest.fixture(scope="session", params=DATABASES)
def api(request: pytest.FixtureRequest, launched_apis: dict[str, Server | str]) -> Server:
    """The ticket service on each database, with an admin token."""
    srv = launched_apis[request.param]
    if isinstance(srv, str):
        require_postgres(srv)
        raise AssertionError("unreachable")
    if not srv.tokens:
        assert srv.proc is not None
        wait_healthy(srv.proc, srv.base_url, srv.log_path)
        with srv.db.writing() as session:
            _row, secret = issue_token(
                session, role="admin", county=None, name="security", now=dt.datetime.now(dt.UTC)
            )
        srv.tokens["admin"] = secret
    return srv
