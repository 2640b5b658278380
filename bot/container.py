"""Entrypoint and health probe of the Rasa container image (``deploy/docker/rasa.Dockerfile``).

Usage (Rasa environment, inside the image)::

    python -m bot.container serve   # write endpoints.yml from the settings, then run Rasa
    python -m bot.container probe   # exit 0 only when /status says a model is loaded

Why a module and not a shell script: ``yiwen up`` builds Rasa's command line and its
``endpoints.yml`` in :mod:`bot.processes`, but it also starts the action server and the
app and always binds loopback. A container runs one process, listens on every address of
its own network namespace and reaches the action server through a Service name, so it
needs the same generator (:mod:`bot.endpoints_profile`) with three differences:
``--interface 0.0.0.0``, the action server's URL from ``YIWEN_ACTION_URL``, and the model
folder baked into the image (``bot/models``; Rasa loads the newest file there).

Rasa itself is started in this process through :mod:`bot.rasa_server`, so the token never
appears on a command line and the container's PID 1 is the server (signals reach it).

Why a probe command: Rasa answers ``/`` before a model is loaded and drops messages then;
``/status`` proves a model is loaded but needs the admin token, which an HTTP probe of
Docker or Kubernetes cannot read from the environment. The probe reads it from the
settings like every other process, and keeps it off the command line too.
"""

from __future__ import annotations

import json
import logging
import sys
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any

from bot.endpoints_profile import endpoints_config, write_endpoints
from core.settings import Settings, get_settings

log = logging.getLogger("yiwen.container")

#: Every address of the container's own network namespace (not the host's).
ALL_INTERFACES = "0.0.0.0"
#: The image trains its model into this folder; Rasa loads the newest ``.tar.gz`` there.
MODEL_DIR = "bot/models"
CREDENTIALS = "bot/credentials.yml"
#: The in-memory tracker store with an LRU/idle bound (channels/tracker_store.py).
BOUNDED_TRACKER_STORE = "channels.tracker_store.BoundedInMemoryTrackerStore"
PROBE_TIMEOUT_S = 5.0


def action_url(settings: Settings) -> str:
    """``YIWEN_ACTION_URL``, else the loopback action server on ``YIWEN_ACTION_PORT``."""
    url = settings.bot.action_url.strip()
    return url or f"http://127.0.0.1:{settings.bot.action_port}/webhook"


def container_endpoints(settings: Settings) -> dict[str, Any]:
    """The endpoints Rasa loads in a container: always with the configured action URL.

    Without store URLs the bounded in-memory store is used, which is right for one
    replica only; :func:`serve` says so in the log.
    """
    url = action_url(settings)
    generated = endpoints_config(settings.rasa, url)
    if generated is not None:
        return generated
    return {"action_endpoint": {"url": url}, "tracker_store": {"type": BOUNDED_TRACKER_STORE}}


def rasa_args(settings: Settings, endpoints: Path) -> list[str]:
    """``rasa run`` arguments (without the token: :mod:`bot.rasa_server` adds it)."""
    args = [
        "run",
        "--enable-api",
        "--interface",
        ALL_INTERFACES,
        "--port",
        str(settings.rasa.port),
        "--model",
        MODEL_DIR,
        "--endpoints",
        str(endpoints),
        "--credentials",
        CREDENTIALS,
    ]
    # Through the public nginx the widget is same-origin; sites that embed it elsewhere
    # are listed in YIWEN_CORS_ORIGINS, as for `yiwen up`.
    origins = [o.strip() for o in settings.tickets.cors_origins if o.strip()]
    if origins:
        args += ["--cors", *origins]
    return args


def serve(settings: Settings | None = None) -> None:
    """Write ``<data_dir>/rasa/endpoints.yml`` (600) and run Rasa in this process."""
    settings = settings or get_settings()
    config = container_endpoints(settings)
    if "lock_store" not in config or config.get("tracker_store", {}).get("type") != "SQL":
        log.warning(
            "YIWEN_RASA_TRACKER_STORE_URL / YIWEN_RASA_LOCK_STORE_URL unset: in-memory "
            "stores, correct for one replica only"
        )
    endpoints = write_endpoints(config, settings.data_dir / "rasa" / "endpoints.yml")
    from bot.rasa_server import main as rasa_main

    sys.argv = ["bot.rasa_server", *rasa_args(settings, endpoints)]
    rasa_main()


def probe(settings: Settings | None = None, timeout: float = PROBE_TIMEOUT_S) -> bool:
    """True when this container's Rasa answers ``/status`` with a loaded model."""
    settings = settings or get_settings()
    token = settings.rasa_auth_token()
    url = f"http://127.0.0.1:{settings.rasa.port}/status?token={token}"
    try:
        with urllib.request.urlopen(url, timeout=timeout) as reply:
            status = json.loads(reply.read().decode("utf-8"))
    except (urllib.error.URLError, OSError, ValueError):
        return False
    return bool(status.get("model_file") or status.get("model_id"))


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    command = args[0] if args else "serve"
    if command == "serve":
        logging.basicConfig(level=logging.INFO)
        serve()
        return 0
    if command == "probe":
        return 0 if probe() else 1
    print("usage: python -m bot.container serve|probe", file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main())
