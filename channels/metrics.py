"""Turn metrics of a Rasa replica: turns by channel and outcome, and turn latency.

The REST and WeChat channels time each turn around Rasa's ``on_new_message`` (the
NLU, the policies, the action server calls and the tracker save: what a citizen
waits for) and call :func:`serve` when Rasa builds their routes. The metrics are
served on ``127.0.0.1:$YIWEN_RASA_METRICS_PORT`` (0 or unset: off), once per
process however many channels ask. Names: ``core.metrics``.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

from core import metrics

logger = logging.getLogger(__name__)

T = TypeVar("T")


def serve() -> int | None:
    """Start this process's metrics server if the setting asks for one; its port or None."""
    from core.settings import get_settings

    try:
        return metrics.start_metrics_server(get_settings().rasa.metrics_port)
    except Exception:  # metrics must never keep a replica from starting
        logger.exception("Rasa metrics server not started")
        return None


async def timed_turn(
    channel: str,
    turn: Callable[[], Awaitable[T]],
    replies: Callable[[], list[Any] | None] = lambda: None,
) -> T:
    """Run one turn and count it: ``error`` if it raised, ``empty`` if ``replies()``
    says nothing was said (a turn counts as failed then), else ``ok``."""
    started = time.perf_counter()
    outcome = "error"
    try:
        result = await turn()
        said = replies()
        outcome = "empty" if said is not None and not said else "ok"
        return result
    finally:
        metrics.TURNS.labels(channel=channel, outcome=outcome).inc()
        metrics.TURN_SECONDS.labels(channel=channel).observe(time.perf_counter() - started)
