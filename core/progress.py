"""Progress bars for long jobs (ingest, eval, bench), one bar per stage, on stderr."""

from __future__ import annotations

import sys

from tqdm import tqdm


class StageProgress:
    """Callable ``(stage, done, total)`` that keeps one tqdm bar per stage."""

    def __init__(self, enabled: bool = True) -> None:
        self.enabled = enabled and sys.stderr is not None
        self._bars: dict[str, tqdm] = {}

    def __call__(self, stage: str, done: int, total: int) -> None:
        if not self.enabled:
            return
        bar = self._bars.get(stage)
        if bar is None:
            bar = tqdm(total=total, desc=stage, unit="条", file=sys.stderr, leave=True)
            self._bars[stage] = bar
        bar.total = total
        bar.n = done
        bar.refresh()
        if done >= total:
            bar.close()

    def close(self) -> None:
        for bar in self._bars.values():
            bar.close()
