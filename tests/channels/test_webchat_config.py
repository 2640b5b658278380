"""The widget learns the ticket-reference format from the server, never from a copy."""

from __future__ import annotations

import json
import re

from fastapi import FastAPI
from fastapi.testclient import TestClient

from channels.webchat import CONFIG_PATH, STATIC_DIR, mount, render_demo_page
from core import ticket_ref


def test_config_json_serves_the_pattern_to_any_site() -> None:
    app = FastAPI()
    mount(app, rasa_url="http://rasa.test")
    client = TestClient(app)
    reply = client.get(CONFIG_PATH, headers={"Origin": "https://www.example.gov.cn"})
    assert reply.status_code == 200
    assert reply.json() == {"ticketRefPattern": ticket_ref.IN_TEXT}
    assert reply.headers["access-control-allow-origin"] == "*"
    assert client.get("/widget/yiwen-widget.js").status_code == 200  # the mount still serves


def test_the_demo_page_carries_the_pattern_in_its_config() -> None:
    page = render_demo_page("http://rasa.test")
    config = json.loads(re.search(r"window\.YiwenConfig = (\{.*?\});", page).group(1))  # type: ignore[union-attr]
    assert config == {"rasaUrl": "http://rasa.test", "ticketRefPattern": ticket_ref.IN_TEXT}


def test_the_widget_reads_the_pattern_from_its_config() -> None:
    # The loader and its modules (yiwen/*.js): state.js reads the config, widget.js uses it.
    script = "\n".join(p.read_text(encoding="utf-8") for p in sorted(STATIC_DIR.rglob("*.js")))
    assert "ticketRefPattern" in script and "config.json" in script
