"""Shared fixtures. Tests use their own data dir (var/test-data) so they never touch
the index a developer's `make run` built, and re-runs reuse the cached index when its
manifest still matches (the staleness check itself is under test)."""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
SHARED = REPO.parent / "shared"
CORE = SHARED / "corpus" / "core"
DEV = SHARED / "eval" / "dev.jsonl"
TEST_DATA = REPO / "var" / "test-data"
#: The index over the core corpus that scripts/test.sh builds before any test runs.
TEST_INDEX = TEST_DATA / "index"

os.environ.setdefault("YIWEN_DATA_DIR", str(TEST_DATA))
os.environ.setdefault("YIWEN_CORPUS_DIRS", f'["{CORE}"]')


def use_test_index(data_dir: Path, copy: bool = False) -> dict[str, str] | None:
    """Give a stack's own data dir the suite's index over the core corpus.

    Why: a server started on an empty data dir builds the whole index before it answers
    (minutes on two cores, while every other stream waits for the cores). A link is
    enough for a stack that only reads the index or writes new versions beside it
    (they replace the link in its own data dir, never the suite's index); ``copy`` for
    one that must own it. Returns the settings that make the index current for that
    stack, or None when the shared corpus or the test index is missing.
    """
    if not CORE.is_dir() or not (TEST_INDEX / "manifest.json").exists():
        return None
    data_dir.mkdir(parents=True, exist_ok=True)
    if copy:
        shutil.copytree(TEST_INDEX, data_dir / "index")
    else:
        (data_dir / "index").symlink_to(TEST_INDEX, target_is_directory=True)
    return {"YIWEN_CORPUS_DIRS": json.dumps([str(CORE)])}


def need_shared() -> None:
    if not CORE.is_dir():
        pytest.skip(f"需要共享语料 {CORE}（CI 和开发机上都有；单独克隆时不存在）")


@pytest.fixture(scope="session")
def core_engine():
    """The engine over the real core corpus + FAQ, built once per run (cached on disk)."""
    need_shared()
    from retrieval.engine import get_engine

    return get_engine()


#: How long a real stack (Rasa, action server, app) may take to become ready. Under
#: `make test` six streams load Rasa models at once on two cores; on a machine about
#: half as fast as the development machine one Rasa took over 9 minutes to load.
STACK_START_S = 1200
#: pytest-timeout's limit for a test that needs a Rasa stack. It counts the module's
#: fixture set-up in the first test, so it must exceed STACK_START_S, or the stack's own
#: wait (which says what did not come up) never gets to fail.
RASA_TEST_TIMEOUT_S = 1800


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Run browser tests last: while Playwright's sync API is open, the main thread has a
    running event loop, and asyncio tests scheduled after it would fail. Give tests on a
    Rasa stack room to start it (RASA_TEST_TIMEOUT_S) unless they set their own limit."""
    items.sort(key=lambda item: item.get_closest_marker("browser") is not None)
    for item in items:
        if item.get_closest_marker("rasa") and not item.get_closest_marker("timeout"):
            item.add_marker(pytest.mark.timeout(RASA_TEST_TIMEOUT_S))
