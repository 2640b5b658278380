"""The ticket service application.

``create_app`` builds a complete FastAPI app that other parts of Yiwen can extend
(``yiwen/app.py`` adds the knowledge router to it). Run it alone with::

    .venv/app/bin/uvicorn tickets.main:create_app --factory --ws none
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI
from fastapi.middleware.cors import CORSMiddleware
from fastapi.staticfiles import StaticFiles

from core.settings import TicketsSettings, get_settings
from tickets import migrate
from tickets.db import make_database
from tickets.deps import STATE_KEY, ServiceState
from tickets.errors import install_error_handlers
from tickets.middleware import BodySizeLimit, SecurityHeaders
from tickets.routers import citizen, health, staff
from tickets.services.auth import check_static_tokens
from tickets.services.deadlines import WorkCalendar
from tickets.services.intake import recompute_provisional
from tickets.services.masking import install_log_masking

log = logging.getLogger("tickets")

DESCRIPTION = """
江门市市场监督管理局「邑问」投诉举报工单服务。

* 对话服务端：提交投诉或举报，须服务令牌 `Authorization: Bearer …`
  （`Idempotency-Key` 保证重试不重复）。
* 市民端：凭工单号和手机号后四位查询进度（失败过多会被限流）。
* 工作人员端：按县（市、区）查看工单队列、受理、调解、办结，全部操作记入审计日志。

所有错误信息为中文；422 的 `detail` 为逐项列表 `[{"field", "message"}]`。
"""


def create_app(
    settings: TicketsSettings | None = None, upload_limits: dict[str, int] | None = None
) -> FastAPI:
    """Build the ticket service; the schema is migrated when the app starts.

    ``upload_limits`` gives paths (file uploads added by ``yiwen.app``) a body limit of
    their own instead of ``max_body_bytes``.
    """
    settings = settings or get_settings().tickets
    check_static_tokens(settings)
    state = ServiceState(
        settings=settings,
        db=make_database(settings),
        calendar=WorkCalendar.from_file(settings.holidays_file),
        service_token=settings.service_token(),
    )

    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        install_log_masking()
        if settings.run_migrations:
            migrate.upgrade(state.db.engine)
        changed = recompute_provisional(state.db, state.calendar, settings)
        if changed:
            log.info("provisional deadlines settled for %s", ", ".join(changed))
        yield
        state.db.engine.dispose()

    app = FastAPI(
        title="邑问工单服务",
        version="1.0.0",
        description=DESCRIPTION,
        lifespan=lifespan,
    )
    setattr(app.state, STATE_KEY, state)
    install_error_handlers(app)
    app.include_router(citizen.router)
    app.include_router(staff.router)
    app.include_router(staff.page_router)
    app.include_router(health.router)
    app.mount("/staff/static", StaticFiles(directory=staff.STATIC_DIR), name="staff-static")

    app.add_middleware(BodySizeLimit, max_bytes=settings.max_body_bytes, larger=upload_limits)
    app.add_middleware(SecurityHeaders)
    app.add_middleware(
        CORSMiddleware,
        allow_origins=settings.cors_origins,
        allow_methods=["GET", "POST"],
        allow_headers=["Content-Type", "Authorization", "Idempotency-Key"],
        allow_credentials=False,
        max_age=600,
    )
    return app
