"""The console's insight endpoints: 待改进 (review), 统计 (stats), 导出 (export), and the
chart library the page draws with.

Mounted by ``yiwen.app`` on the ticket service's app, so they share its staff tokens,
audit log, error shape and database. Every call is audited in the same transaction as
what it reads or changes.
"""

from __future__ import annotations

import datetime as dt
import threading
from pathlib import Path
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Query, Request
from fastapi import Path as PathParam
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import FileResponse, JSONResponse, Response
from sqlalchemy import select, update

from core.places import COUNTIES, UNASSIGNED
from tickets.deps import Staff, State, client_ip
from tickets.errors import ApiError, FieldErrors
from tickets.models import ReviewEntry, Ticket
from tickets.services.auth import audit
from tickets.services.prechecks import FieldProblem
from yiwen.console import export, review, stats
from yiwen.console.access import date_range, require, sees_questions, sees_tickets, utc_bounds
from yiwen.console.messages import text

REPO = Path(__file__).resolve().parents[2]
#: Where ``npm ci`` (scripts/setup-console.sh) puts the pinned ECharts build.
ECHARTS = REPO / "node_modules" / "echarts" / "dist" / "echarts.min.js"

router = APIRouter(prefix="/api/staff", tags=["staff-console"])
page_router = APIRouter(include_in_schema=False)


# --- 统计 -----------------------------------------------------------------------------


@router.get("/stats", summary="统计：提问与工单（按角色可见）")
def get_stats(
    request: Request,
    state: State,
    actor: Staff,
    first: Annotated[str | None, Query(alias="from", max_length=10)] = None,
    last: Annotated[str | None, Query(alias="to", max_length=10)] = None,
) -> dict[str, Any]:
    """Questions for admins and editors, tickets for admins and county officers (their
    county only); a section the role may not see is absent."""
    require(sees_questions(actor) or sees_tickets(actor), actor)
    start, end = date_range(first, last)
    body: dict[str, Any] = {"from": start and start.isoformat(), "to": end and end.isoformat()}
    with state.db.writing() as session:
        if sees_questions(actor):
            low, high = utc_bounds(start, end, state.settings.timezone)
            body["questions"] = stats.question_stats(session, low, high, state.settings.timezone)
        if sees_tickets(actor):
            body["tickets"] = stats.ticket_stats(
                session, actor, start, end, state.today(), state.calendar
            )
        audit(
            session,
            actor,
            "stats",
            now=state.now(),
            client_ip=client_ip(request),
            detail={"from": body["from"], "to": body["to"]},
        )
    return body


# --- 待改进 ---------------------------------------------------------------------------

_encoder_lock = threading.Lock()
_encoder: Any = None


def query_encoder(request: Request) -> Any:
    """The running engine's encoder (the same vectors it searches with); without a loaded
    engine, the configured encoder alone: grouping needs no index."""
    engine = getattr(request.app.state, "engine", None)
    if engine is not None:
        return engine.encoder
    global _encoder
    with _encoder_lock:
        if _encoder is None:
            from core.settings import get_settings
            from retrieval.encoders import load_encoder

            k = get_settings().knowledge
            _encoder = load_encoder(k.encoder, k.model_cache_dir, threads=k.encoder_threads)
        return _encoder


@router.get("/review", summary="待改进：未能回答和“没帮助”的提问（相似问题归组）")
async def get_review(request: Request, state: State, actor: Staff) -> dict[str, Any]:
    require(sees_questions(actor), actor)

    def load() -> list[review.Group]:
        with state.db.reading() as session:
            rows = review.open_misses(session)
            for row in rows:
                session.expunge(row)
        return review.group_questions(rows, _checked_encoder(request))

    groups = await run_in_threadpool(load)
    with state.db.writing() as session:
        audit(
            session,
            actor,
            "review",
            now=state.now(),
            client_ip=client_ip(request),
            detail={"groups": len(groups)},
        )
    return {"groups": [g.public() for g in groups], "similarity": review.SIMILAR}


def _checked_encoder(request: Request) -> Any:
    try:
        return query_encoder(request)
    except Exception:
        raise ApiError(503, text("errors.encoder_unavailable")) from None


@router.post(
    "/review/{entry_id}/{decision}",
    summary="待改进：将一组提问标为已解决（resolve）或忽略（ignore）",
)
async def decide_review(
    request: Request,
    state: State,
    actor: Staff,
    entry_id: Annotated[int, PathParam(ge=1, le=2**31 - 1)],
    decision: Literal["resolve", "ignore"],
) -> dict[str, Any]:
    """Marks the whole group that row ``entry_id`` is in (as ``GET /review`` grouped it
    now), so a paraphrase asked since the page loaded is handled with its group."""
    require(sees_questions(actor), actor)

    def find_group() -> list[int]:
        with state.db.reading() as session:
            rows = review.open_misses(session)
            for row in rows:
                session.expunge(row)
        if not any(row.id == entry_id for row in rows):
            raise ApiError(404, text("errors.review_not_found"))
        for group in review.group_questions(rows, _checked_encoder(request)):
            if entry_id in group.ids:
                return group.ids
        raise AssertionError("a listed row is in a group")

    ids = await run_in_threadpool(find_group)
    now = state.now()
    value = "resolved" if decision == "resolve" else "ignored"
    with state.db.writing() as session:
        done = session.execute(
            update(ReviewEntry)
            .where(ReviewEntry.id.in_(ids), ReviewEntry.review_state.is_(None))
            .values(review_state=value, reviewed_at=now, reviewed_by=actor.label)
        ).rowcount
        audit(
            session,
            actor,
            f"review_{decision}",
            now=now,
            client_ip=client_ip(request),
            detail={"id": entry_id, "ids": ids, "before": None, "after": value},
        )
    return {"id": entry_id, "state": value, "updated": int(done or 0)}


# --- 导出 -----------------------------------------------------------------------------


@router.get(
    "/export/tickets.{fmt}",
    summary="导出工单（CSV 带 BOM，或 XLSX）；县区账号只能导出本辖区",
    response_class=Response,
)
def export_tickets(
    request: Request,
    state: State,
    actor: Staff,
    fmt: Literal["csv", "xlsx"],
    county: Annotated[str | None, Query(max_length=16)] = None,
    first: Annotated[str | None, Query(alias="from", max_length=10)] = None,
    last: Annotated[str | None, Query(alias="to", max_length=10)] = None,
) -> Response:
    require(sees_tickets(actor), actor)
    start, end = date_range(first, last)
    county = county or None
    if county is not None and county not in (*COUNTIES, UNASSIGNED):
        raise FieldErrors(
            [FieldProblem("county", text("errors.county_invalid", expected="、".join(COUNTIES)))]
        )
    if not actor.is_admin:
        if county is not None and county != actor.county:
            raise ApiError(403, text("errors.county_forbidden", county=actor.county))
        county = actor.county
    query = select(Ticket)
    if county is not None:
        query = query.where(Ticket.county == county)
    if start is not None:
        query = query.where(Ticket.received_date >= start)
    if end is not None:
        query = query.where(Ticket.received_date <= end)
    columns = export.columns_for(actor)
    with state.db.writing() as session:
        tickets = session.scalars(query.order_by(Ticket.received_at, Ticket.id)).all()
        data = export.rows(tickets, columns, state.today(), state.settings.timezone)
        audit(
            session,
            actor,
            "export",
            now=state.now(),
            client_ip=client_ip(request),
            detail={
                "format": fmt,
                "county": county,
                "from": start and start.isoformat(),
                "to": end and end.isoformat(),
                "rows": len(data),
            },
        )
    stamp = dt.date.today().strftime("%Y%m%d")
    name = f"tickets-{stamp}.{fmt}"
    headers = {"Content-Disposition": f'attachment; filename="{name}"'}
    if fmt == "csv":
        return Response(export.to_csv(columns, data), media_type="text/csv; charset=utf-8",
                        headers=headers)  # fmt: skip
    return Response(
        export.to_xlsx(columns, data),
        media_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        headers=headers,
    )


# --- the chart library ----------------------------------------------------------------


@page_router.get("/staff/vendor/echarts.min.js", response_model=None)
def echarts() -> FileResponse | JSONResponse:
    """ECharts from node_modules (installed by ``npm ci``; no copy is committed)."""
    if not ECHARTS.is_file():
        return JSONResponse(status_code=503, content={"detail": text("errors.echarts_missing")})
    return FileResponse(ECHARTS, media_type="text/javascript; charset=utf-8")
