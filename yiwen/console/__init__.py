"""The staff console: its knowledge half (documents, FAQ, versions, ingest jobs, hit
test: ``routes``, ``service``) and its insight half (待改进, 统计, 导出: ``api``).

It sits in ``yiwen`` because the review queue groups questions with the retrieval
engine's encoder, and ``tickets`` may not import ``retrieval`` (tests/test_floors.py).
"""

from __future__ import annotations

from fastapi import FastAPI


def mount(app: FastAPI) -> None:
    """Add the console's endpoints to the app (called by ``yiwen.app.create_app``)."""
    from yiwen.console.api import page_router, router

    app.include_router(router)
    app.include_router(page_router)
