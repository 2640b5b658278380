"""The action server's Prometheus metrics: actions run, their latency, the outbox depth.

Served on ``127.0.0.1:$YIWEN_ACTIONS_METRICS_PORT`` (0: off) by :func:`start`, which
``bot.actions.startup`` calls in the action server only; each replica gets its own
port from the topology. The metric names are ``core.metrics``'s. Knowledge answers
and submissions are counted where they happen (``bot.actions.knowledge``,
``bot.actions.submission``).

Why wrap ``ActionExecutor.run``: it is the one place every action passes through,
forms and validations included, so no action can be forgotten and none needs code
for it.
"""

from __future__ import annotations

import functools
import logging
import time
from typing import Any

from core import metrics

logger = logging.getLogger(__name__)


def instrument_executor() -> None:
    """Count and time every action the action server runs (idempotent)."""
    from rasa_sdk.executor import ActionExecutor
    from rasa_sdk.interfaces import ActionExecutionRejection

    original = ActionExecutor.run
    if getattr(original, "_yiwen_metrics", False):
        return

    @functools.wraps(original)
    async def run(self: ActionExecutor, action_call: Any) -> Any:
        name = str(action_call.get("next_action") or "")
        # Only registered names become labels: a label per unknown name would let any
        # caller grow the metrics without bound.
        label = name if name in self.actions else "unknown"
        outcome = "error"
        started = time.perf_counter()
        try:
            result = await original(self, action_call)
            outcome = "ok"
            return result
        except ActionExecutionRejection:
            outcome = "rejected"  # a form's validation says no: a normal turn
            raise
        finally:
            metrics.ACTIONS.labels(action=label, outcome=outcome).inc()
            metrics.ACTION_SECONDS.labels(action=label).observe(time.perf_counter() - started)

    run._yiwen_metrics = True  # type: ignore[attr-defined]
    ActionExecutor.run = run  # type: ignore[method-assign]


def watch_outbox() -> None:
    """``yiwen_outbox_depth`` reads the outbox at each scrape (a count on SQLite)."""
    from bot.actions.outbox import Outbox

    outbox = Outbox()

    def depth() -> float:
        try:
            return float(outbox.depth())
        except Exception:  # a scrape must never fail for it
            logger.exception("could not count the outbox")
            return float("nan")

    metrics.OUTBOX_DEPTH.set_function(depth)


def start(port: int | None = None) -> int | None:
    """Instrument the action server and serve its metrics on loopback; the port or None."""
    if port is None:
        from core.settings import get_settings

        port = get_settings().bot.actions_metrics_port
    if not port:
        return None
    instrument_executor()
    watch_outbox()
    return metrics.start_metrics_server(port)
