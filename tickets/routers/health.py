"""Liveness and readiness: the service answers and its database responds."""

from __future__ import annotations

from fastapi import APIRouter
from fastapi.responses import JSONResponse
from sqlalchemy import text
from sqlalchemy.exc import SQLAlchemyError

from tickets.deps import State
from tickets.schemas import Health

router = APIRouter(tags=["health"])


@router.get(
    "/healthz",
    response_model=Health,
    summary="健康检查",
    responses={503: {"model": Health, "description": "数据库不可用"}},
)
def healthz(state: State) -> Health | JSONResponse:
    try:
        with state.db.engine.connect() as conn:
            conn.execute(text("SELECT 1"))
    except SQLAlchemyError:
        body = Health(status="degraded", database="unavailable")
        return JSONResponse(body.model_dump(), status_code=503)
    return Health(status="ok", database="ok")
