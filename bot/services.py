"""Service definitions for ``yiwen up``: the action server and the Rasa server.

``yiwen up`` (the lead's) starts these, waits on ``ready_url`` (``health_url`` is
the address it may show) and stops them on exit. Both always listen on loopback:
``YIWEN_HOST`` moves only the app. Rasa's chat endpoints reach the internet through a
reverse proxy, and its admin API and the action server's ``/webhook`` must never be
reachable from outside. Rasa's HTTP API needs the server-side token
(:mod:`bot.rasa_server`). The Rasa model must exist first: run
``.venv/rasa/bin/python -m bot.train``.
"""

from __future__ import annotations

import json
from pathlib import Path

from bot.endpoints_profile import endpoints_config, write_endpoints
from bot.train import REPO_ROOT, model_path
from yiwen.service_secrets import RASA_AUTH_TOKEN, data_dir_from, service_secret

#: Rasa and the action server bind here whatever ``YIWEN_HOST`` says (see above).
LOOPBACK = "127.0.0.1"
DEFAULT_ACTION_PORT = 5055
DEFAULT_RASA_PORT = 5005


DEFAULT_APP_PORT = 8000
#: The in-memory tracker store with an LRU/idle bound (channels/tracker_store.py).
BOUNDED_TRACKER_STORE = "channels.tracker_store.BoundedInMemoryTrackerStore"
#: Largest request body Rasa accepts (chat messages, WeChat pushes, admin calls).
CHAT_MAX_BODY_BYTES = 64 * 1024


def _cors(settings_env: dict[str, str], app_port: int) -> list[str]:
    """Origins for Rasa's ``--cors``: ``YIWEN_CORS_ORIGINS`` (a JSON list, as the ticket
    API's settings read it; a comma-separated list also works), else the app's own origin."""
    origins = settings_env.get("YIWEN_CORS_ORIGINS", "").strip()
    if not origins:
        return [f"http://127.0.0.1:{app_port}", f"http://localhost:{app_port}"]
    if origins.startswith("["):
        return [str(o).strip() for o in json.loads(origins) if str(o).strip()]
    return [o.strip() for o in origins.split(",") if o.strip()]


def rasa_services(settings_env: dict[str, str], root: Path = REPO_ROOT) -> list[dict]:
    """The action server (app env) and Rasa (rasa env), in start order."""
    host = LOOPBACK
    app_port = int(settings_env.get("YIWEN_PORT", DEFAULT_APP_PORT))
    action_port = int(settings_env.get("YIWEN_ACTION_PORT", DEFAULT_ACTION_PORT))
    rasa_port = int(settings_env.get("YIWEN_RASA_PORT", DEFAULT_RASA_PORT))
    pythonpath = str(root)
    app_host = settings_env.get("YIWEN_HOST", LOOPBACK).strip() or LOOPBACK
    if app_host in ("0.0.0.0", "::"):
        app_host = LOOPBACK  # bound to every address, loopback included
    if ":" in app_host:
        app_host = f"[{app_host}]"
    action_env = {
        # The ticket API is served by the app that `yiwen up` starts beside the actions.
        "YIWEN_TICKET_API_URL": f"http://{app_host}:{app_port}",
        **settings_env,
        "PYTHONPATH": pythonpath,
        "SANIC_HOST": host,
        "YIWEN_ACTIONS_PRELOAD": "1",
    }
    rasa_env = {
        **settings_env,
        "PYTHONPATH": pythonpath,
        "TF_CPP_MIN_LOG_LEVEL": "2",
        "SQLALCHEMY_SILENCE_UBER_WARNING": "1",
        # Sanic's defaults accept 100 MB bodies; a chat message or a WeChat push is a
        # few hundred bytes (413 above this; the operator may raise it in .env).
        "SANIC_REQUEST_MAX_SIZE": str(CHAT_MAX_BODY_BYTES),
        "SANIC_WEBSOCKET_MAX_SIZE": str(CHAT_MAX_BODY_BYTES),
        **{k: v for k, v in settings_env.items() if k.startswith("SANIC_")},
    }
    model = model_path(root)
    endpoints = "bot/endpoints.yml"
    action_url = f"http://127.0.0.1:{action_port}/webhook"
    generated = endpoints_config(settings_env, action_url)
    if generated is None and action_port != DEFAULT_ACTION_PORT:
        generated = {  # bot/endpoints.yml says 5055
            "action_endpoint": {"url": action_url},
            "tracker_store": {"type": BOUNDED_TRACKER_STORE},
        }
    data_dir = data_dir_from(settings_env) if settings_env.get("YIWEN_DATA_DIR") else root / "var"
    if generated is not None:
        endpoints = str(write_endpoints(generated, data_dir / "rasa" / "endpoints.yml"))
    # The supervisor checks readiness with the token; it never prints this URL.
    token = service_secret(RASA_AUTH_TOKEN, settings_env, data_dir)
    return [
        {
            "name": "actions",
            "cmd": [
                str(root / ".venv/app/bin/python"),
                "-m",
                "rasa_sdk",
                "--actions",
                "bot.actions",
                "--port",
                str(action_port),
            ],
            "cwd": str(root),
            "env": action_env,
            "health_url": f"http://127.0.0.1:{action_port}/health",
            "ready_url": f"http://127.0.0.1:{action_port}/health",
        },
        {
            "name": "rasa",
            "cmd": [
                str(root / ".venv/rasa/bin/python"),
                "-m",
                "bot.rasa_server",
                "run",
                "--enable-api",
                "--cors",
                *_cors(settings_env, app_port),
                "--interface",
                host,
                "--port",
                str(rasa_port),
                "--model",
                str(model.relative_to(root)),
                "--endpoints",
                endpoints,
                "--credentials",
                "bot/credentials.yml",
            ],
            "cwd": str(root),
            "env": rasa_env,
            "health_url": f"http://127.0.0.1:{rasa_port}/",
            # /status answers only once the model is loaded (``/`` answers before).
            "ready_url": f"http://127.0.0.1:{rasa_port}/status?token={token}",
        },
    ]


__all__ = ["model_path", "rasa_services"]
