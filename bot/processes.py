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

from collections.abc import Mapping
from pathlib import Path

from bot.endpoints_profile import endpoints_config, write_endpoints
from bot.train import REPO_ROOT, model_path
from core.settings import Settings, child_environment, get_settings

#: Rasa and the action server bind here whatever ``YIWEN_HOST`` says (see above).
LOOPBACK = "127.0.0.1"
DEFAULT_ACTION_PORT = 5055
#: The in-memory tracker store with an LRU/idle bound (channels/tracker_store.py).
BOUNDED_TRACKER_STORE = "channels.tracker_store.BoundedInMemoryTrackerStore"
#: Largest request body Rasa accepts (chat messages, WeChat pushes, admin calls).
CHAT_MAX_BODY_BYTES = 64 * 1024
#: How long the action server keeps an idle connection open. Rasa keeps one connection
#: to it per endpoint (bot.rasa_patches), and aiohttp keeps an idle one for 15 s; with
#: Sanic's default of 5 s the server closed connections Rasa was about to reuse, and a
#: turn after a pause lost its action ("Cannot write to closing transport", a browser
#: test in CI 2026-12-07). The server must wait longer than the client: nginx's 75 s.
ACTION_KEEP_ALIVE_S = 75


def _cors(settings: Settings) -> list[str]:
    """Origins for Rasa's ``--cors``: the ticket API's ``cors_origins``, else the app's own."""
    origins = [o.strip() for o in settings.tickets.cors_origins if o.strip()]
    if origins:
        return origins
    port = settings.server.port
    return [f"http://127.0.0.1:{port}", f"http://localhost:{port}"]


def rasa_services(
    settings: Settings | None = None,
    settings_env: Mapping[str, str] | None = None,
    root: Path = REPO_ROOT,
) -> list[dict]:
    """The action server (app env) and Rasa (rasa env), in start order.

    ``settings`` decides ports, stores and tokens (default: this process's);
    ``settings_env`` is the environment the children inherit (default: this process's
    with ``.env`` underneath, :func:`core.settings.child_environment`).
    """
    settings = settings or get_settings()
    settings_env = dict(child_environment() if settings_env is None else settings_env)
    host = LOOPBACK
    app_port = settings.server.port
    action_port = settings.bot.action_port
    rasa_port = settings.rasa.port
    pythonpath = str(root)
    app_host = settings.server.host.strip() or LOOPBACK
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
        "SANIC_KEEP_ALIVE_TIMEOUT": str(ACTION_KEEP_ALIVE_S),
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
    generated = endpoints_config(settings.rasa, action_url)
    if generated is None and action_port != DEFAULT_ACTION_PORT:
        generated = {  # bot/endpoints.yml says 5055
            "action_endpoint": {"url": action_url},
            "tracker_store": {"type": BOUNDED_TRACKER_STORE},
        }
    if generated is not None:
        endpoints = str(write_endpoints(generated, settings.data_dir / "rasa" / "endpoints.yml"))
    # The supervisor checks readiness with the token; it never prints this URL.
    token = settings.rasa_auth_token()
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
                *_cors(settings),
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
