"""The app process on port 8000: knowledge API, ticket service and the web widget.

The engine is loaded in the lifespan hook, before the server reports healthy,
so the first citizen question is answered warm. The app keeps the engine's holder
(``retrieval.live.LiveEngine``), never the engine: a new index from ``yiwen ingest``
is taken up by each worker without a restart, and ``/healthz`` says which version
serves and whether the last one failed to load.

``/metrics`` (Prometheus, ``core.metrics``) answers loopback clients only, and never a
request that came through a proxy; anyone else gets 404, as for a path that does not
exist.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from fastapi import FastAPI, Request, Response
from starlette.exceptions import HTTPException

from channels.webchat import mount as mount_widget
from core import metrics
from tickets.main import create_app as create_ticket_app
from yiwen.api import QuestionThrottle, question_throttled
from yiwen.api import router as knowledge_router
from yiwen.health import install as install_health

log = logging.getLogger("yiwen.app")


def create_app(preload: bool = True, live: Any = None) -> FastAPI:
    """``live``: a ``LiveEngine`` to answer from (tests); default the process's own."""

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        if live is not None:
            app.state.live = live
        elif preload:
            from retrieval.engine import get_live

            app.state.live = get_live()
        holder = getattr(app.state, "live", None)
        if holder is not None:
            app.state.index_status = holder.status
            log.info(
                "knowledge engine ready: %d chunks, index version %s",
                len(holder.current.index.chunks),
                holder.version,
            )
        yield

    # The ticket service's app is the base: its /healthz, error handlers (the Chinese 422
    # shape covers the knowledge routes too) and middleware apply to every route.
    app = create_ticket_app()
    inner = app.router.lifespan_context

    @asynccontextmanager
    async def both(app_: FastAPI) -> AsyncIterator[None]:
        async with inner(app_), lifespan(app_):
            yield

    app.router.lifespan_context = both
    app.add_exception_handler(QuestionThrottle, question_throttled)
    app.include_router(knowledge_router)

    @app.get("/metrics", include_in_schema=False)
    def prometheus_metrics(request: Request) -> Response:
        host = request.client.host if request.client else None
        if not metrics.may_scrape(host, request.headers):
            raise HTTPException(status_code=404)  # the app's own answer to an unknown path
        body, content_type = metrics.exposition()
        return Response(body, media_type=content_type)

    install_health(app)
    mount_widget(app)
    return app


def create_logged_app() -> FastAPI:
    """The factory each uvicorn worker calls (``yiwen serve --workers N``): masks first."""
    from core import pii

    pii.install()
    return create_app()
