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

import json
import time
from typing import Any

import httpx
from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse

from core.settings import get_settings
from tickets.deps import State
from tickets.routers.health import healthz as ticket_healthz
from yiwen.topology import load_public

_CACHE_S = 2.0
_cache: dict[str, Any] = {"at": 0.0, "value": None}


def _ok(url: str) -> bool:
    try:
        return httpx.get(url, timeout=1.5).status_code == 200
    except httpx.HTTPError:
        return False


def _redis_ok(url: str) -> bool:
    import redis

    try:
        return bool(redis.Redis.from_url(url, socket_timeout=1, socket_connect_timeout=1).ping())
    except redis.RedisError:
        return False


def deployment() -> dict[str, Any] | None:
    """Replicas and Redis of the production profile (cached briefly), or None."""
    if time.monotonic() - _cache["at"] < _CACHE_S:
        return _cache["value"]
    plan = load_public()
    value: dict[str, Any] | None = None
    if plan is not None:
        settings = get_settings()
        token = settings.rasa_auth_token()
        replicas = {}
        for proc in plan["procs"]:
            port = proc["port"]
            if proc["kind"] == "rasa":
                replicas[proc["name"]] = _ok(f"http://127.0.0.1:{port}/status?token={token}")
            elif proc["kind"] == "actions":
                replicas[proc["name"]] = _ok(f"http://127.0.0.1:{port}/health")
        lock_url = settings.rasa.lock_store_url.strip()
        value = {
            "replicas": replicas,
            "redis": "ok" if not lock_url or _redis_ok(lock_url) else "unavailable",
        }
    _cache.update(at=time.monotonic(), value=value)
    return value


def install(app: FastAPI) -> None:
    """Put the deployment-wide ``/healthz`` in front of the ticket service's own."""

    @app.get("/healthz", summary="健康检查（含各副本）", tags=["health"])
    def healthz(state: State, request: Request) -> JSONResponse:
        base = ticket_healthz(state, request)
        if isinstance(base, JSONResponse):  # the database is down
            body, code = json.loads(bytes(base.body)), base.status_code
        else:
            body, code = base.model_dump(exclude_none=True), 200
        extra = deployment()
        if extra is not None:
            body.update(extra)
            rasa_ready = [v for k, v in extra["replicas"].items() if k.startswith("rasa")]
            if extra["redis"] != "ok" or not any(rasa_ready):
                body["status"], code = "degraded", 503
        return JSONResponse(body, status_code=code)

    # Routes match in order; the ticket service's router was included first.
    app.router.routes.insert(0, app.router.routes.pop())
