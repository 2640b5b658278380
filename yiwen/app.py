"""The app process on port 8000: knowledge API plus the ticket service.

The engine is loaded in the lifespan hook, before the server reports healthy,
so the first citizen question is answered warm.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI

from yiwen.api import QuestionThrottle, question_throttled
from yiwen.api import router as knowledge_router

log = logging.getLogger("yiwen.app")


def create_app(preload: bool = True) -> FastAPI:
    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        if preload:
            from retrieval.engine import get_engine

            app.state.engine = get_engine()
            log.info("knowledge engine ready: %d chunks", len(app.state.engine.index.chunks))
        yield

    from tickets.main import create_app as create_ticket_app

    # The ticket service's app, with the knowledge routes added: one set of error
    # handlers (tickets.errors, the Chinese 422s included) covers every route.
    app = create_ticket_app()
    inner = app.router.lifespan_context

    @asynccontextmanager
    async def both(app_: FastAPI) -> AsyncIterator[None]:
        async with inner(app_), lifespan(app_):
            yield

    app.router.lifespan_context = both
    app.add_exception_handler(QuestionThrottle, question_throttled)
    app.include_router(knowledge_router)
    try:
        from channels.webchat import mount as mount_widget
    except ImportError:  # widget not part of this checkout
        return app
    mount_widget(app)
    return app
