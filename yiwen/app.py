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
from tickets.main import create_app as create_ticket_app
from yiwen.api import QuestionThrottle, question_throttled
from yiwen.api import router as knowledge_router
from yiwen.console import mount as mount_console

log = logging.getLogger("yiwen.app")


def create_app(preload: bool = True) -> FastAPI:
    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        if preload:
            from retrieval.engine import get_engine

            app.state.engine = get_engine()
            log.info("knowledge engine ready: %d chunks", len(app.state.engine.index.chunks))
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
    mount_widget(app)
    mount_console(app)
    return app
