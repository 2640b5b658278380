"""``/healthz`` of the whole deployment, the one nginx exposes on the public port.

The ticket service's own check (database, stuck outbox) is the base. In the production
profile (``topology.json`` beside the supervisord configuration) it adds each Rasa
replica's readiness, which only ``/status`` with the admin token proves (Rasa answers
``/`` with no model loaded), each action server, and Redis (the lock store: without it
no replica may run a turn). A replica still loading its model, or one started with a
broken model, shows ``false`` and nginx's next-upstream rule keeps messages off it.

Status: ``ok``; ``degraded`` (answers 503) when the database or Redis is down or no
Rasa replica is ready; a single replica down is reported but stays ``ok`` as long as
another one serves.
"""

from __future__ import annotations

import time
from typing import Any

from fastapi import FastAPI

from core.settings import get_settings
from yiwen.topology import is_ready, load_public

_CACHE_S = 2.0
_cache: dict[str, Any] = {"at": 0.0, "value": None}


def _redis_ok(url: str) -> bool:
    import redis

    try:
        return bool(redis.Redis.from_url(url, socket_timeout=1, socket_connect_timeout=1).ping())
    except redis.RedisError:
        return False


def _replicas() -> dict[str, bool] | None:
    """Each replica's readiness (cached briefly: one probe per replica, not per request)."""
    if time.monotonic() - _cache["at"] < _CACHE_S:
        return _cache["value"]
    plan = load_public()
    value: dict[str, bool] | None = None
    if plan is not None:
        token = get_settings().rasa_auth_token()
        value = {
            proc["name"]: is_ready(proc, token, timeout=1.5)
            for proc in plan["procs"]
            if proc["kind"] in ("rasa", "actions")
        }
    _cache.update(at=time.monotonic(), value=value)
    return value


def deployment() -> dict[str, Any] | None:
    """Replicas and Redis of the production profile, or None outside it.

    Redis is asked every time (one round trip on loopback), so an outage shows at once.
    """
    replicas = _replicas()
    if replicas is None:
        return None
    lock_url = get_settings().rasa.lock_store_url.strip()
    redis = "ok" if not lock_url or _redis_ok(lock_url) else "unavailable"
    return {"replicas": replicas, "redis": redis}


def status() -> tuple[dict[str, Any], bool]:
    """The ticket service's ``/healthz`` hook: (fields, whether the deployment is down)."""
    extra = deployment()
    if extra is None:
        return {}, False
    rasa_ready = [ok for name, ok in extra["replicas"].items() if name.startswith("rasa")]
    return extra, extra["redis"] != "ok" or not any(rasa_ready)


def install(app: FastAPI) -> None:
    """Make the ticket service's ``/healthz`` speak for the whole deployment."""
    app.state.deployment_status = status
