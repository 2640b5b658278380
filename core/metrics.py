"""Prometheus metrics of every Yiwen process, in one catalogue.

Why one module: the app, the action servers and the Rasa replicas each count their own
part of a conversation, and a dashboard must find the same names and labels whatever
process it scrapes. Each process only moves the metrics of its part; the others stay
at zero (labelled ones are not even listed until used).

Where each process serves them, always on loopback only (the public port's nginx
denies these paths too):

- app: ``GET /metrics`` on the app port, answered to loopback clients only and never
  to a proxied request (``yiwen.app``). Several uvicorn workers: set
  ``PROMETHEUS_MULTIPROC_DIR`` to an empty folder (one per app, wiped before start)
  and ``/metrics`` adds up all workers (prometheus-client's multiprocess mode);
- action server: ``127.0.0.1:$YIWEN_ACTIONS_METRICS_PORT`` (``bot.actions.startup``);
- Rasa replica: ``127.0.0.1:$YIWEN_RASA_METRICS_PORT`` (``channels.webchat.rest``).

Runs in both environments (the Rasa one is Python 3.10; prometheus-client is in both).
"""

from __future__ import annotations

import ipaddress
import logging
import os
import threading
from collections.abc import Mapping

from prometheus_client import (
    CONTENT_TYPE_LATEST,
    REGISTRY,
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    generate_latest,
    start_http_server,
)

log = logging.getLogger(__name__)

#: Seconds: a knowledge answer takes ~0.1 s warm; a turn counts as failed past 10 s.
LATENCY_BUCKETS = (0.025, 0.05, 0.1, 0.2, 0.3, 0.5, 0.75, 1.0, 2.0, 5.0, 10.0, 30.0)

# ---- knowledge: the app (/api/ask, channel "api") and the action servers -------------
QUESTIONS = Counter(
    "yiwen_questions",
    "Knowledge questions, by channel and outcome (answered | abstained | error).",
    ["channel", "outcome"],
)
QUESTION_SECONDS = Histogram(
    "yiwen_question_seconds",
    "Time to answer one knowledge question, seconds.",
    ["channel"],
    buckets=LATENCY_BUCKETS,
)
INDEX_VERSION = Gauge(
    "yiwen_index_version",
    "Version of the knowledge index this process answers from (manifest version, ms).",
    multiprocess_mode="liveall",  # one series per worker: who has not taken it up yet
)
INDEX_SWAPS = Counter(
    "yiwen_index_swaps",
    "New index versions taken up without a restart (ok) or refused (failed).",
    ["outcome"],
)

# ---- tickets --------------------------------------------------------------------------
TICKETS_CREATED = Counter(
    "yiwen_tickets_created",
    "Tickets the ticket service created (app process; idempotent repeats not counted).",
    ["kind"],
)
TICKETS_SUBMITTED = Counter(
    "yiwen_tickets_submitted",
    "Submissions by the action server: filed, queued in the outbox, or rejected.",
    ["kind", "outcome"],
)
OUTBOX_DEPTH = Gauge(
    "yiwen_outbox_depth",
    "Submissions waiting in the action server's outbox (pending).",
    multiprocess_mode="max",
)

# ---- action server --------------------------------------------------------------------
ACTIONS = Counter(
    "yiwen_actions",
    "Custom actions run, by name and outcome (ok | error).",
    ["action", "outcome"],
)
ACTION_SECONDS = Histogram(
    "yiwen_action_seconds",
    "Run time of one custom action, seconds.",
    ["action"],
    buckets=LATENCY_BUCKETS,
)

# ---- Rasa replicas --------------------------------------------------------------------
TURNS = Counter(
    "yiwen_turns",
    "Chat turns, by channel and outcome (ok | empty | error).",
    ["channel", "outcome"],
)
TURN_SECONDS = Histogram(
    "yiwen_turn_seconds",
    "Time of one chat turn inside Rasa, seconds.",
    ["channel"],
    buckets=LATENCY_BUCKETS,
)


# ---- serving --------------------------------------------------------------------------
_PROXY_HEADERS = ("x-forwarded-for", "x-real-ip", "forwarded")


def is_loopback(host: str | None) -> bool:
    """True for 127.0.0.0/8 and ::1 (also as IPv4-mapped IPv6); False for anything else."""
    try:
        address = ipaddress.ip_address((host or "").split("%", 1)[0])
    except ValueError:
        return False
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        address = address.ipv4_mapped
    return address.is_loopback


def may_scrape(host: str | None, headers: Mapping[str, str]) -> bool:
    """Whether a request may read the metrics: from loopback and not through a proxy.

    Why the header check: behind nginx every request comes from 127.0.0.1, so the
    address alone would let the public in if nginx's deny rule were ever lost.
    """
    lowered = {k.lower() for k in headers}
    return is_loopback(host) and not any(h in lowered for h in _PROXY_HEADERS)


def exposition() -> tuple[bytes, str]:
    """The text format of this process, or of all workers in multiprocess mode."""
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        from prometheus_client import multiprocess

        registry = CollectorRegistry()
        multiprocess.MultiProcessCollector(registry)
        return generate_latest(registry), CONTENT_TYPE_LATEST
    return generate_latest(REGISTRY), CONTENT_TYPE_LATEST


_server_port: int | None = None
_server_lock = threading.Lock()


def start_metrics_server(port: int, addr: str = "127.0.0.1") -> int | None:
    """Serve this process's metrics on ``addr:port`` (a daemon thread), once per process.

    ``port`` 0 (the default of the settings): off, returns ``None``. A second call
    returns the port already serving (several channels of one Rasa process ask). A
    port in use is logged, not raised: metrics must never keep a replica from starting.
    """
    global _server_port
    if port <= 0:
        return None
    if not is_loopback(addr):
        raise ValueError(f"metrics are served on loopback only, not {addr}")
    with _server_lock:
        if _server_port is not None:
            return _server_port
        try:
            start_http_server(port, addr=addr)
        except OSError as exc:
            log.error("metrics server on %s:%d not started: %s", addr, port, exc)
            return None
        _server_port = port
        log.info("Prometheus metrics on http://%s:%d/metrics", addr, port)
        return port
