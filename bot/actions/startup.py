"""Action-server start-up: preload the knowledge engine, start the outbox retrier and
the metrics server (``YIWEN_ACTIONS_METRICS_PORT``, :mod:`bot.actions.metrics`).

The engine keeps taking up new index versions afterwards (``retrieval.live``): every
knowledge question asks ``get_engine()`` for the current one.

The preload runs in a background thread: the server must answer within seconds of a
(re)start, because forms, submissions and status look-ups need no engine, and after a
crash ``yiwen up`` restarts it while citizens are mid-complaint. A knowledge question
that arrives during the warm-up waits for the engine (``retrieval.engine`` loads it
once, under a lock). In the production profile, where another replica answers meanwhile,
``YIWEN_ACTIONS_PRELOAD_BLOCKING=1`` loads it before the port opens instead: nginx then
sends no call to a replica that is still loading.

Runs once, when ``python -m rasa_sdk --actions bot.actions`` imports this
package (detected from ``__main__``) or when ``YIWEN_ACTIONS_PRELOAD=1``.
Importing ``bot.actions`` anywhere else (tests, ``yiwen misses``) stays cheap.
"""

from __future__ import annotations

import logging
import sys
import threading
import time

logger = logging.getLogger(__name__)

_started = False
_lock = threading.Lock()


def is_action_server() -> bool:
    from core.settings import get_settings

    flag = get_settings().bot.actions_preload
    if flag is not None:
        return flag
    spec = getattr(sys.modules.get("__main__"), "__spec__", None)
    return bool(spec and spec.name.startswith("rasa_sdk"))


def preload_engine() -> bool:
    """Load the engine and answer one warm-up question so the first citizen waits for nothing."""
    from bot.actions.knowledge import get_engine

    started = time.perf_counter()
    try:
        engine = get_engine()
        engine.ask("个体工商户")
    except Exception:
        logger.exception("knowledge engine preload failed; answers will say it is unavailable")
        return False
    logger.info("knowledge engine preloaded in %.1f s", time.perf_counter() - started)
    return True


def start() -> None:
    global _started
    with _lock:
        if _started:
            return
        _started = True
    from bot.actions.outbox import RetryWorker
    from core import pii

    # Before anything logs a phone number or an httpx URL with phone_last4 in it.
    pii.install()
    from core.settings import get_settings

    if get_settings().bot.actions_preload_blocking:
        preload_engine()  # before rasa_sdk opens the port (production: see the setting)
    else:
        threading.Thread(target=preload_engine, name="yiwen-preload", daemon=True).start()
    from bot.actions import metrics

    metrics.start()
    worker = RetryWorker()
    worker.start()
    logger.info("outbox retry worker started (every %.0f s)", worker.interval_s)
