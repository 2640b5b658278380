"""Fixtures for the knowledge tests: the shared core corpus, skipped when it is absent."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.knowledge.corpus_helpers import CORE_DIR


@pytest.fixture(scope="session")
def core_dir() -> Path:
    if not CORE_DIR.is_dir():
        pytest.skip(f"共享语料不存在：{CORE_DIR}（单独克隆仓库时没有 ../shared）")
    return CORE_DIR


@pytest.fixture(scope="session")
def core_docs(core_dir: Path):
    from knowledge.loaders import load_corpus

    docs, errors = load_corpus([core_dir])
    assert errors == []
    return {d.doc_id: d for d in docs}
