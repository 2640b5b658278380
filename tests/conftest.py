"""Shared fixtures. Tests use their own data dir (var/test-data) so they never touch
the index a developer's `make run` built, and re-runs reuse the cached index when its
manifest still matches (the staleness check itself is under test)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
SHARED = REPO.parent / "shared"
CORE = SHARED / "corpus" / "core"
DEV = SHARED / "eval" / "dev.jsonl"
TEST_DATA = REPO / "var" / "test-data"

os.environ.setdefault("YIWEN_DATA_DIR", str(TEST_DATA))
os.environ.setdefault("YIWEN_CORPUS_DIRS", f'["{CORE}"]')


def need_shared() -> None:
    if not CORE.is_dir():
        pytest.skip(f"需要共享语料 {CORE}（CI 和开发机上都有；单独克隆时不存在）")


@pytest.fixture(scope="session")
def core_engine():
    """The engine over the real core corpus + FAQ, built once per run (cached on disk)."""
    need_shared()
    from retrieval.engine import get_engine

    return get_engine()


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Run browser tests last: while Playwright's sync API is open, the main thread has a
    running event loop, and asyncio tests scheduled after it would fail."""
    items.sort(key=lambda item: item.get_closest_marker("browser") is not None)
