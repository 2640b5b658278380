"""The app process on port 8000: knowledge API plus (when present) the ticket service.

The engine is loaded in the lifespan hook, before the server reports healthy,
so the first citizen question is answered warm.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse

from yiwen.api import QuestionThrottle, question_throttled
from yiwen.api import router as knowledge_router

log = logging.getLogger("yiwen.app")


def _field(loc: tuple[Any, ...]) -> str:
    parts = [str(p) for p in loc if p not in ("body", "query", "path", "header")]
    return ".".join(parts) or "body"


def chinese_validation_errors(exc: RequestValidationError) -> list[dict[str, str]]:
    """One Chinese message per offending field (pydantic's English is not for citizens)."""
    out = []
    for err in exc.errors():
        kind = err.get("type", "")
        msg = str(err.get("msg", ""))
        if kind == "value_error":
            msg = msg.removeprefix("Value error, ")
        elif kind in ("json_invalid", "json_type"):
            msg = "请求内容不是有效的 JSON，或不是 UTF-8 编码，请检查后重试。"
        elif kind == "missing":
            msg = "缺少必填字段。"
        elif kind.startswith("string_too_long"):
            msg = "内容太长。"
        elif kind.startswith(("string_type", "model_attributes_type", "dict_type")):
            msg = "字段类型不正确。"
        else:
            msg = f"输入不符合要求（{kind}）。"
        out.append({"field": _field(tuple(err.get("loc", ()))), "message": msg})
    return out


def create_app(preload: bool = True) -> FastAPI:
    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        if preload:
            from retrieval.engine import get_engine

            app.state.engine = get_engine()
            log.info("knowledge engine ready: %d chunks", len(app.state.engine.index.chunks))
        yield

    try:
        from tickets.main import create_app as create_ticket_app
    except ImportError:  # ticket service not installed in this checkout
        create_ticket_app = None

    if create_ticket_app is not None:
        app = create_ticket_app()
        inner = app.router.lifespan_context

        @asynccontextmanager
        async def both(app_: FastAPI) -> AsyncIterator[None]:
            async with inner(app_), lifespan(app_):
                yield

        app.router.lifespan_context = both
    else:
        app = FastAPI(title="邑问 Yiwen", lifespan=lifespan)

        @app.get("/healthz", tags=["health"])
        async def healthz() -> dict[str, str]:
            return {"status": "ok"}

    if create_ticket_app is None:
        # Standalone: give the knowledge routes the same Chinese 422 shape the ticket
        # service uses (with tickets present, its handler covers every route).
        @app.exception_handler(RequestValidationError)
        async def _validation(_: Request, exc: RequestValidationError) -> JSONResponse:
            return JSONResponse(status_code=422, content={"detail": chinese_validation_errors(exc)})

    app.add_exception_handler(QuestionThrottle, question_throttled)
    app.include_router(knowledge_router)
    try:
        from channels.webchat import mount as mount_widget
    except ImportError:  # widget not part of this checkout
        return app
    mount_widget(app)
    return app
