"""``channels.webchat.mount`` without a browser: what it serves and how the demo page is built."""

from __future__ import annotations

import json
import re

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from channels.webchat import DEFAULT_RASA_URL, mount, render_demo_page
from core import ticket_ref


@pytest.fixture
def client() -> TestClient:
    app = FastAPI()
    mount(app, rasa_url="http://127.0.0.1:5999")
    return TestClient(app)


def _config(page: str) -> dict[str, str]:
    match = re.search(r"window\.YiwenConfig = (\{.*?\});", page)
    assert match, page
    return json.loads(match.group(1))


def test_widget_files_are_served(client: TestClient) -> None:
    js = client.get("/widget/yiwen-widget.js")
    assert js.status_code == 200
    assert "javascript" in js.headers["content-type"]
    assert "YiwenConfig" in js.text
    css = client.get("/widget/yiwen-widget.css")
    assert css.status_code == 200 and css.headers["content-type"].startswith("text/css")


def test_demo_page_embeds_widget_with_configured_rasa_url(client: TestClient) -> None:
    page = client.get("/demo")
    assert page.status_code == 200
    assert '<script src="/widget/yiwen-widget.js"' in page.text
    assert _config(page.text) == {
        "rasaUrl": "http://127.0.0.1:5999",
        "ticketRefPattern": ticket_ref.IN_TEXT,
    }
    assert client.get("/demo/", follow_redirects=False).headers["location"] == "/demo"


def _demo_rasa_url() -> str:
    app = FastAPI()
    mount(app)
    return _config(TestClient(app).get("/demo").text)["rasaUrl"]


def test_demo_page_rasa_url_comes_from_env(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("YIWEN_RASA_URL", raising=False)
    monkeypatch.delenv("YIWEN_RASA_PORT", raising=False)
    assert _demo_rasa_url() == DEFAULT_RASA_URL == "http://127.0.0.1:5005"
    monkeypatch.setenv("YIWEN_RASA_PORT", "5105")
    assert _demo_rasa_url() == "http://127.0.0.1:5105"
    monkeypatch.setenv("YIWEN_RASA_URL", "https://bot.example.gov.cn")
    assert _demo_rasa_url() == "https://bot.example.gov.cn"


def test_hostile_rasa_url_cannot_close_the_config_script() -> None:
    hostile = "http://x/</script><script>alert(1)</script>"
    page = render_demo_page(hostile)
    assert "</script><script>alert(1)" not in page
    assert page.count("<script") == 2  # the config and the widget, nothing injected
    assert _config(page)["rasaUrl"] == hostile


def test_widget_never_parses_network_text_as_html() -> None:
    """The XSS guarantee rests on DOM text APIs; keep HTML-parsing sinks out of the source."""
    from channels.webchat import STATIC_DIR

    scripts = sorted(STATIC_DIR.rglob("*.js"))
    assert len(scripts) == 5, scripts  # the loader and its four modules
    for path in scripts:
        source = path.read_text(encoding="utf-8")
        for sink in ("innerHTML", "outerHTML", "insertAdjacentHTML", "document.write", "eval("):
            assert sink not in source, f"{path.name}: {sink}"


def test_widget_modules_are_served_and_parse_no_reply_text(client: TestClient) -> None:
    """The loader's modules load from yiwen/ beside it; replies are never parsed back."""
    from channels.webchat import STATIC_DIR

    loader = client.get("/widget/yiwen-widget.js").text
    for name in ("state", "transport", "render", "widget"):
        assert f'"{name}"' in loader
        module = client.get(f"/widget/yiwen/{name}.js")
        assert module.status_code == 200 and "javascript" in module.headers["content-type"]
    source = "\n".join(p.read_text(encoding="utf-8") for p in STATIC_DIR.rglob("*.js"))
    for parser in ("CITE_RE", "HEADER_RE", "KV_RE", "QUOTE_RE", "parseSummaryText", "依据|"):
        assert parser not in source, parser
