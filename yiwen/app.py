"""The app process on port 8000: knowledge API, ticket service and the web widget.

The engine is loaded in the lifespan hook, before the server reports healthy,
so the first citizen question is answered warm.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI

from channels.webchat import mount as mount_widget
from core.settings import get_settings
from tickets.deps import STATE_KEY, ServiceState
from tickets.main import create_app as create_ticket_app
from yiwen.api import QuestionThrottle, question_throttled
from yiwen.api import router as knowledge_router
from yiwen.console import routes as console_routes
from yiwen.console.service import JobRunner

log = logging.getLogger("yiwen.app")


def create_app(preload: bool = True) -> FastAPI:
    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        if preload:
            from retrieval.engine import get_engine

            app.state.engine = get_engine()
            log.info("knowledge engine ready: %d chunks", len(app.state.engine.index.chunks))
        runner.start()
        try:
            yield
        finally:
            runner.stop()

    # The ticket service's app is the base: its /healthz, error handlers (the Chinese 422
    # shape covers the knowledge routes too) and middleware apply to every route.
    knowledge = get_settings().knowledge
    uploads = knowledge.console_upload_max_bytes + 64 * 1024  # the multipart framing
    app = create_ticket_app(
        upload_limits={"/api/staff/documents": uploads, "/api/staff/faq/import": uploads}
    )
    tickets: ServiceState = getattr(app.state, STATE_KEY)

    def swap_engine(index: object, encoder: object) -> None:
        # This process answers from the new index at once; other processes (action
        # servers) pick it up from the index folder.
        from retrieval.engine import Engine

        app.state.engine = Engine(index, encoder)  # type: ignore[arg-type]

    def current_encoder() -> object:
        engine = getattr(app.state, "engine", None)
        return engine.encoder if engine is not None else None

    runner = JobRunner(
        tickets.db,
        knowledge,
        today=tickets.today,
        on_index=swap_engine,
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
    console_routes.install(app, knowledge, runner)
    mount_widget(app)
    return app
