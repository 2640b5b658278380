"""Liveness and readiness: the service answers and its database responds.

The app adds the knowledge index it serves (``app.state.index_status``, set by
``yiwen.app``; this package may not import retrieval): its version and the error of a
new version that could not be taken up, which leaves the old one serving. In the
production profile it also adds the replicas' readiness (``app.state.deployment_status``,
set by ``yiwen.health``): the one ``/healthz`` nginx exposes speaks for the deployment.

Also an alert for operators: complaints the action server could not deliver for longer
than ``outbox_alert_minutes`` (still pending in its outbox) make the status
``degraded``. Those citizens hold only a ``LOCAL-…`` reference, and nothing else would
tell anyone.
"""

from __future__ import annotations

import datetime as dt
import sqlite3
from pathlib import Path
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse
from sqlalchemy import text
from sqlalchemy.exc import SQLAlchemyError

from tickets.deps import State
from tickets.schemas import Health

router = APIRouter(tags=["health"])


@router.get(
    "/healthz",
    response_model=Health,
    response_model_exclude_none=True,
    summary="健康检查",
    responses={503: {"model": Health, "description": "数据库不可用"}},
)
def healthz(state: State, request: Request) -> Health | JSONResponse:
    index = index_status(request)
    stuck = stuck_submissions(
        state.settings.outbox_path, state.now(), state.settings.outbox_alert_minutes
    )
    outbox = "stuck" if stuck else "ok"
    deployment, deployment_down = deployment_status(request)
    try:
        with state.db.engine.connect() as conn:
            conn.execute(text("SELECT 1"))
        database = "ok"
    except SQLAlchemyError:
        database = "unavailable"
    down = database != "ok" or deployment_down
    body = Health(
        status="degraded" if down or stuck else "ok",
        database=database,
        outbox=outbox,
        outbox_stuck=stuck,
        index=index,
        **deployment,
    )
    if down:
        return JSONResponse(body.model_dump(exclude_none=True), status_code=503)
    return body


def deployment_status(request: Request) -> tuple[dict[str, Any], bool]:
    """(fields for the body, whether the deployment cannot serve) from the app's hook.

    A stuck outbox degrades the status but keeps 200 (the API still works); a database
    or a deployment that cannot serve (Redis down, no Rasa replica ready) answers 503,
    so nginx and orchestrators stop sending traffic.
    """
    report = getattr(request.app.state, "deployment_status", None)
    if not callable(report):
        return {}, False
    return report()


def index_status(request: Request) -> dict[str, Any] | None:
    """The app's knowledge-index report, if the app installed one.

    A failed swap does not make the status degraded: the previous index still answers,
    and a readiness probe must not take a serving worker out of rotation for it.
    """
    report = getattr(request.app.state, "index_status", None)
    return report() if callable(report) else None


def stuck_submissions(path: Path, now: dt.datetime, minutes: float) -> int:
    """Outbox items pending for more than ``minutes`` (0 when there is no outbox)."""
    if not path.is_file():
        return 0
    cutoff = (now - dt.timedelta(minutes=minutes)).astimezone(dt.UTC)
    try:
        conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True, timeout=5)
        try:
            row = conn.execute(
                "SELECT count(*) FROM outbox WHERE status = 'pending' AND created_at < ?",
                (cutoff.isoformat(timespec="seconds"),),
            ).fetchone()
        finally:
            conn.close()
    except sqlite3.Error:
        return 0
    return int(row[0])
