"""The embeddable web widget: static files plus a demo page, mounted on the app.

Why the app serves it: a site embeds the widget with one ``<script>`` tag, so the
script and its stylesheet need a stable URL, and ``make run`` needs a page that
shows the widget working. The widget talks to Rasa directly (socket.io, REST as
fallback); this module only serves files.

This package is also imported by the Rasa server (``rasa_socketio``), whose
environment has no FastAPI, so FastAPI is imported inside ``mount`` only.
"""

from __future__ import annotations

import html
import json
from pathlib import Path
from typing import TYPE_CHECKING

from core.settings import get_settings

if TYPE_CHECKING:
    from fastapi import FastAPI

STATIC_DIR = Path(__file__).resolve().parent / "static"
DEFAULT_RASA_URL = "http://127.0.0.1:5005"
WIDGET_PATH = "/widget"
DEMO_PATH = "/demo"


def render_demo_page(rasa_url: str, widget_base: str = WIDGET_PATH) -> str:
    """The demo page with its ``window.YiwenConfig`` filled in.

    The config is JSON inside a ``<script>`` element, so ``<`` is escaped to keep a
    hostile value from closing the element; the script URL is attribute-escaped.
    """
    config = json.dumps({"rasaUrl": rasa_url}, ensure_ascii=False)
    config = config.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")
    template = (Path(__file__).resolve().parent / "demo.html").read_text(encoding="utf-8")
    return template.replace("{{YIWEN_CONFIG}}", config).replace(
        "{{WIDGET_BASE}}", html.escape(widget_base.rstrip("/"), quote=True)
    )


def mount(app: FastAPI, rasa_url: str | None = None) -> None:
    """Serve ``/widget/yiwen-widget.js`` (+ ``.css``) and the demo page at ``/demo``.

    ``rasa_url`` is what the demo page's config names; it defaults to
    ``YIWEN_RASA_URL`` or ``http://127.0.0.1:5005``. Sites that embed the widget set
    their own ``rasaUrl`` in ``window.YiwenConfig``.
    """
    from fastapi.responses import HTMLResponse, RedirectResponse
    from fastapi.staticfiles import StaticFiles

    # YIWEN_RASA_URL (a public URL behind a proxy), else loopback on YIWEN_RASA_PORT.
    target = rasa_url or get_settings().rasa.public_url
    app.mount(WIDGET_PATH, StaticFiles(directory=STATIC_DIR), name="yiwen-widget")

    @app.get(DEMO_PATH, response_class=HTMLResponse, include_in_schema=False)
    async def demo_page() -> HTMLResponse:
        return HTMLResponse(render_demo_page(target), headers={"Cache-Control": "no-store"})

    @app.get(DEMO_PATH + "/", include_in_schema=False)
    async def demo_slash() -> RedirectResponse:
        return RedirectResponse(DEMO_PATH)
