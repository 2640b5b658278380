"""Index manifest: what an on-disk index was built from, so staleness is provable.

An index is only valid for the exact inputs that built it: the documents, the
FAQ, the chunker and tokenizer versions and the encoder. Any difference means
the vectors or the chunk boundaries no longer match the text, so the index is
rebuilt (with a message) instead of silently answering from old data.

Every saved index also has a ``version``: an integer, the build's time in milliseconds
and always above the version it replaces. Running engines poll it and take up a new
index without a restart (``retrieval.live``); as a number it is also the
``yiwen_index_version`` gauge, so a dashboard shows which replica lags behind.
"""

from __future__ import annotations

import hashlib
import json
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path

INDEX_FORMAT = 2  # 2: sentence-window retrieval units


@dataclass
class Manifest:
    format: int
    encoder: str
    dim: int
    chunker_version: str
    tokenizer_hash: str
    corpus_hash: str
    faq_hash: str
    n_documents: int = 0
    n_chunks: int = 0
    n_faq_questions: int = 0
    faiss_index: str = ""
    built_at: str = ""
    build_seconds: float = 0.0
    reused_vectors: int = 0  # passage vectors taken over from the previous build
    sources: list[str] = field(default_factory=list)
    version: int = 0  # set by HybridIndex.save; 0: saved before versions existed

    IDENTITY = (
        "format",
        "encoder",
        "dim",
        "chunker_version",
        "tokenizer_hash",
        "corpus_hash",
        "faq_hash",
    )

    def differences(self, other: Manifest) -> list[str]:
        """Names of identity fields that differ (empty list: same inputs)."""
        return [k for k in self.IDENTITY if getattr(self, k) != getattr(other, k)]

    def save(self, path: Path) -> None:
        path.write_text(json.dumps(asdict(self), ensure_ascii=False, indent=2), "utf-8")

    @classmethod
    def load(cls, path: Path) -> Manifest:
        data = json.loads(path.read_text("utf-8"))
        known = {k: v for k, v in data.items() if k in cls.__dataclass_fields__}
        return cls(**known)


def next_version(previous: int, now_ms: int | None = None) -> int:
    """A version above ``previous``: the clock in ms, or one more if the clock is behind.

    Why the clock: versions of different machines' builds still order by time, and
    a human can read one. Why ``max``: two builds in one millisecond, or a clock set
    back, must still give a new, larger number.
    """
    now = int(time.time() * 1000) if now_ms is None else now_ms
    return max(now, previous + 1)


def hash_files(paths: list[Path], root_names: bool = True) -> str:
    """Content hash of files, keyed by file name so a rename is a change too."""
    h = hashlib.sha256()
    for p in sorted(paths, key=lambda q: (q.name, str(q))):
        h.update((p.name if root_names else str(p)).encode("utf-8"))
        h.update(b"\0")
        h.update(hashlib.sha256(p.read_bytes()).digest())
    return h.hexdigest()


REASONS = {
    "format": "索引格式已升级",
    "encoder": "向量模型已更换",
    "dim": "向量维度不一致",
    "chunker_version": "分块程序已更新",
    "tokenizer_hash": "分词程序或词典已更新",
    "corpus_hash": "文档已变化",
    "faq_hash": "常见问题库已变化",
}


def describe(differences: list[str]) -> str:
    """Chinese, human-readable reason for a rebuild."""
    return "、".join(REASONS.get(d, d) for d in differences)
