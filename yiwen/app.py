"""The app process on port 8000: knowledge API, ticket service, staff console, widget.

The engine is loaded in the lifespan hook, before the server reports healthy,
so the first citizen question is answered warm. The app keeps the engine's holder
(``retrieval.live.LiveEngine``), never the engine: a new index from ``yiwen ingest``
or the staff console is taken up by each worker without a restart, and ``/healthz``
says which version serves and whether the last one failed to load.

``/metrics`` (Prometheus, ``core.metrics``) answers loopback clients only, and never a
request that came through a proxy; anyone else gets 404, as for a path that does not
exist.

The staff console's job worker (``yiwen.console.service.JobRunner``: uploads, FAQ
re-indexing, passed repeal dates) runs in one process only: with several uvicorn
workers, the one holding ``<data_dir>/console/jobs.lock`` runs it, so two workers never
build the same index at once.
"""

from __future__ import annotations

import fcntl
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from fastapi import FastAPI, Request, Response
from starlette.exceptions import HTTPException

from channels.webchat import mount as mount_widget
from core import metrics
from core.settings import get_settings
from tickets.deps import STATE_KEY, ServiceState
from tickets.main import create_app as create_ticket_app
from yiwen.api import QuestionThrottle, question_throttled
from yiwen.api import router as knowledge_router
from yiwen.console import mount as mount_console
from yiwen.console import routes as console_routes
from yiwen.console.service import JobRunner
from yiwen.health import install as install_health

log = logging.getLogger("yiwen.app")


def _job_leader(lock_path: Any) -> Any:
    """An open, exclusively locked file when this process may run the jobs, else None."""
    lock_path.parent.mkdir(parents=True, exist_ok=True)
    handle = lock_path.open("a")
    try:
        fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError:
        handle.close()
        return None
    return handle


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
        leader = _job_leader(knowledge.data_dir / "console" / "jobs.lock")
        if leader is not None:
            runner.start()
        try:
            yield
        finally:
            if leader is not None:
                runner.stop()
                leader.close()

    # The ticket service's app is the base: its /healthz, error handlers (the Chinese 422
    # shape covers the knowledge routes too) and middleware apply to every route.
    knowledge = get_settings().knowledge
    uploads = knowledge.console_upload_max_bytes + 64 * 1024  # the multipart framing
    app = create_ticket_app(
        upload_limits={"/api/staff/documents": uploads, "/api/staff/faq/import": uploads}
    )
    tickets: ServiceState = getattr(app.state, STATE_KEY)

    def take_up_index(_index: object, _encoder: object) -> None:
        # This process answers from the new index at once; the other workers and the
        # action servers take it up from the index folder within their poll interval.
        holder = getattr(app.state, "live", None)
        if holder is not None:
            holder.check_now()

    def current_encoder() -> object:
        holder = getattr(app.state, "live", None)
        return holder.current.encoder if holder is not None else None

    runner = JobRunner(
        tickets.db,
        knowledge,
        today=tickets.today,
        on_index=take_up_index,
        encoder=current_encoder,
    )
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
    console_routes.install(app, knowledge, runner)
    mount_widget(app)
    mount_console(app)
    return app


def create_logged_app() -> FastAPI:
    """The factory each uvicorn worker calls (``yiwen serve --workers N``): masks first."""
    from core import pii

    pii.install()
    return create_app()
