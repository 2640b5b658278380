"""The embeddable web widget: static files plus a demo page, mounted on the app.

Why the app serves it: a site embeds the widget with one ``<script>`` tag, so the
script and its stylesheet need a stable URL, and ``make run`` needs a page that
shows the widget working. The widget talks to Rasa directly (socket.io, REST as
fallback); this module serves its files and the little it must learn from the server
(:func:`server_config`: the ticket-reference pattern of ``core.ticket_ref``, so the
format is not copied into the script). The demo page carries it in its config; a site
that embeds the widget gets it from ``config.json`` next to the script.

This package is also imported by the Rasa server (``rasa_socketio``), whose
environment has no FastAPI, so FastAPI is imported inside ``mount`` only.
"""

from __future__ import annotations

import html
import json
from pathlib import Path
from typing import TYPE_CHECKING

from core import ticket_ref
from core.settings import get_settings

if TYPE_CHECKING:
    from fastapi import FastAPI

STATIC_DIR = Path(__file__).resolve().parent / "static"
DEFAULT_RASA_URL = "http://127.0.0.1:5005"
WIDGET_PATH = "/widget"
CONFIG_PATH = WIDGET_PATH + "/config.json"
DEMO_PATH = "/demo"


def server_config() -> dict[str, str]:
    """Widget settings that belong to the server: the ticket references it marks up."""
    return {"ticketRefPattern": ticket_ref.IN_TEXT}


def render_demo_page(rasa_url: str, widget_base: str = WIDGET_PATH) -> str:
    """The demo page with its ``window.YiwenConfig`` filled in.

    The config is JSON inside a ``<script>`` element, so ``<`` is escaped to keep a
    hostile value from closing the element; the script URL is attribute-escaped.
    """
    config = json.dumps({"rasaUrl": rasa_url, **server_config()}, ensure_ascii=False)
    config = config.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")
    template = (Path(__file__).resolve().parent / "demo.html").read_text(encoding="utf-8")
    return template.replace("{{YIWEN_CONFIG}}", config).replace(
        "{{WIDGET_BASE}}", html.escape(widget_base.rstrip("/"), quote=True)
    )


def mount(app: FastAPI, rasa_url: str | None = None) -> None:
    """Serve ``/widget/yiwen-widget.js`` (+ ``.css``, ``config.json``) and ``/demo``.

    ``rasa_url`` is what the demo page's config names; it defaults to
    ``YIWEN_RASA_URL`` or ``http://127.0.0.1:5005``. Sites that embed the widget set
    their own ``rasaUrl`` in ``window.YiwenConfig``.
    """
    from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse
    from fastapi.staticfiles import StaticFiles

    # YIWEN_RASA_URL (a public URL behind a proxy), else loopback on YIWEN_RASA_PORT.
    target = rasa_url or get_settings().rasa.public_url

    # Before the static mount, which would otherwise answer the whole /widget prefix.
    @app.get(CONFIG_PATH, include_in_schema=False)
    async def widget_config() -> JSONResponse:
        # Public and the same for every site, so any page that embeds the widget may read it.
        headers = {"Access-Control-Allow-Origin": "*", "Cache-Control": "public, max-age=3600"}
        return JSONResponse(server_config(), headers=headers)

    app.mount(WIDGET_PATH, StaticFiles(directory=STATIC_DIR), name="yiwen-widget")

    @app.get(DEMO_PATH, response_class=HTMLResponse, include_in_schema=False)
    async def demo_page() -> HTMLResponse:
        return HTMLResponse(render_demo_page(target), headers={"Cache-Control": "no-store"})

    @app.get(DEMO_PATH + "/", include_in_schema=False)
    async def demo_slash() -> RedirectResponse:
        return RedirectResponse(DEMO_PATH)
