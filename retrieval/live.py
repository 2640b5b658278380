"""Take up a new index without a restart: one holder per process owns the current Engine.

``yiwen ingest`` (or the staff console's ingest job) saves a new index version and
points the index link at it (``retrieval.index.publish``). Every process that answers
questions (each app worker, each action server) holds a :class:`LiveEngine`; its
daemon thread polls the index every ``YIWEN_INDEX_POLL_SECONDS``. On a new version it
*loads* the index from disk beside the one serving (never rebuilds: only ingest
builds), answers one warm-up question on it, then replaces one reference. Why this
is safe without locking the readers:

* a question reads ``live.current`` once and keeps that Engine to the end, so a
  question in flight finishes on the old index (whose objects are never mutated);
* assigning an attribute is atomic in CPython, so a reader sees the old or the new
  Engine, never a mix;
* the new Engine shares the encoder and its lock with the old one (the encoder is
  the costly part, and it is not guaranteed re-entrant), so the process still runs
  one encoder pass at a time, as before.

A version that fails to load (missing file, other encoder, warm-up error) is logged,
counted and kept in ``last_swap_error`` (``/healthz`` shows it); the old index goes
on serving, and that version is not retried until the index changes again.
"""

from __future__ import annotations

import logging
import os
import threading
import time
from collections.abc import Callable
from pathlib import Path

from core import metrics
from retrieval.engine import Engine
from retrieval.index import HybridIndex
from retrieval.manifest import Manifest

log = logging.getLogger(__name__)

WARM_UP_QUESTION = "个体工商户"

Probe = tuple[str, int]  # (resolved index folder, manifest mtime in ns)


def probe(index_dir: Path) -> Probe | None:
    """A cheap fingerprint of what ``index_dir`` points at (two system calls)."""
    try:
        real = os.path.realpath(index_dir)
        return real, os.stat(os.path.join(real, "manifest.json")).st_mtime_ns
    except OSError:
        return None


class LiveEngine:
    """The process's current :class:`Engine`, swapped when a new index version appears."""

    def __init__(
        self,
        engine: Engine,
        index_dir: Path,
        poll_seconds: float = 5.0,
        warm_up: str | None = WARM_UP_QUESTION,
        on_swap: Callable[[Engine], None] | None = None,
    ) -> None:
        self._current = engine
        self.index_dir = Path(index_dir)
        self.poll_seconds = poll_seconds
        self.warm_up = warm_up
        self.on_swap = on_swap
        self.swaps = 0
        self.failures = 0
        self.last_swap_error: str | None = None
        self.last_swap_at: float | None = None
        self._seen = probe(self.index_dir)
        self._failed: Probe | None = None
        self._check_lock = threading.Lock()  # one load at a time (poller and check_now)
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        metrics.INDEX_VERSION.set(self.version)

    # ---- what callers use --------------------------------------------------------
    @property
    def current(self) -> Engine:
        """The Engine to use for one question: read it once, then keep it."""
        return self._current

    @property
    def version(self) -> int:
        return int(self._current.index.manifest.version or 0)

    def status(self) -> dict[str, object]:
        """For ``/healthz``: which version serves, and whether the last swap failed."""
        return {
            "version": self.version,
            "swaps": self.swaps,
            "failed_swaps": self.failures,
            "last_swap_error": self.last_swap_error,
            "poll_seconds": self.poll_seconds,
        }

    # ---- polling -----------------------------------------------------------------
    def start(self) -> LiveEngine:
        """Start the poller (a daemon thread); ``poll_seconds <= 0`` leaves it off."""
        if self.poll_seconds > 0 and self._thread is None:
            self._thread = threading.Thread(target=self._run, name="yiwen-index-poll", daemon=True)
            self._thread.start()
        return self

    def stop(self, timeout: float = 5.0) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout)
            self._thread = None

    def _run(self) -> None:
        while not self._stop.wait(self.poll_seconds):
            try:
                self.check_now()
            except Exception:  # the poller must outlive any surprise
                log.exception("index poll failed")

    def check_now(self) -> bool:
        """Look once for a new index version; load and swap it. True if swapped."""
        with self._check_lock:
            seen = probe(self.index_dir)
            if seen is None or seen == self._seen or seen == self._failed:
                return False
            try:
                version = int(Manifest.load(Path(seen[0]) / "manifest.json").version or 0)
            except (OSError, ValueError, TypeError) as exc:
                self._fail(seen, f"清单无法读取：{exc}")
                return False
            if version == self.version:
                self._seen = seen  # same version (e.g. a touched manifest): nothing to do
                return False
            try:
                engine = self._load(Path(seen[0]))
            except Exception as exc:  # faiss raises RuntimeError, a bad file anything
                self._fail(seen, f"{type(exc).__name__}: {exc}")
                return False
            old = self._current
            self._current = engine  # the swap: one reference
            self._seen, self._failed = seen, None
            self.swaps += 1
            self.last_swap_error = None
            self.last_swap_at = time.time()
            metrics.INDEX_VERSION.set(self.version)
            metrics.INDEX_SWAPS.labels(outcome="ok").inc()
            log.info(
                "knowledge index %s → %s taken up (%d chunks)",
                old.index.manifest.version,
                self.version,
                len(engine.index.chunks),
            )
            if self.on_swap is not None:
                self.on_swap(engine)
            return True

    def _load(self, folder: Path) -> Engine:
        """The new Engine beside the old one: load from disk, check, warm up."""
        old = self._current
        index = HybridIndex.load(folder)
        m, enc = index.manifest, old.encoder
        if m.encoder != enc.name or m.dim != enc.dim:
            # Vectors of another encoder would be compared with ours: meaningless scores.
            raise ValueError(
                f"新索引的向量模型（{m.encoder}@{m.dim}）与正在运行的（{enc.name}@{enc.dim}）"
                "不一致，需要重启服务才能使用。"
            )
        engine = Engine(index, enc, lock=old.lock)
        if self.warm_up:
            engine.ask(self.warm_up)
        return engine

    def _fail(self, seen: Probe, error: str) -> None:
        self._failed = seen
        self.failures += 1
        self.last_swap_error = error
        metrics.INDEX_SWAPS.labels(outcome="failed").inc()
        log.error(
            "new knowledge index at %s not taken up; version %s keeps serving: %s",
            seen[0],
            self.version,
            error,
        )
