"""Knowledge API against a real uvicorn server on loopback."""

from __future__ import annotations

import os

import httpx
import pytest

from bench.common import start_app
from tests.conftest import need_shared
from tests.netutil import free_port

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def base_url(core_engine):  # core_engine: the index is built (and cached) before the server starts
    need_shared()
    port = free_port()
    proc = start_app(port, env={k: v for k, v in os.environ.items() if k.startswith("YIWEN_")})
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        proc.terminate()
        proc.wait(timeout=30)


def test_ask_returns_cited_answer(base_url: str) -> None:
    r = httpx.post(f"{base_url}/api/ask", json={"question": "个转企有什么奖励？"}, timeout=30)
    assert r.status_code == 200
    body = r.json()
    assert set(body) >= {"answer", "citations", "abstained", "hits"}
    assert not body["abstained"] and body["citations"]
    assert all({"doc", "text", "score", "citation"} <= set(h) for h in body["hits"])


def test_search_endpoint(base_url: str) -> None:
    r = httpx.get(f"{base_url}/api/search", params={"q": "投诉由哪里管辖", "k": 3}, timeout=30)
    assert r.status_code == 200 and len(r.json()) == 3


@pytest.mark.parametrize(
    ("payload", "needle"),
    [
        ({"question": ""}, "不能为空"),
        ({"question": "   \n\t "}, "不能为空"),
        ({"question": "？？？！！。。"}, "标点"),
        ({"question": "问" * 2001}, "太长"),
        ({}, "缺少"),
        ({"question": 123}, "文字"),
    ],
)
def test_bad_input_gets_chinese_422(base_url: str, payload: dict, needle: str) -> None:
    r = httpx.post(f"{base_url}/api/ask", json=payload, timeout=30)
    assert r.status_code == 422
    messages = " ".join(d["message"] for d in r.json()["detail"])
    assert needle in messages, messages


def test_invalid_utf8_gets_chinese_422(base_url: str) -> None:
    raw = b'{"question": "\xff\xfe\xfa abc"}'
    r = httpx.post(
        f"{base_url}/api/ask", content=raw, headers={"Content-Type": "application/json"}, timeout=30
    )
    assert r.status_code == 422
    assert "UTF-8" in r.text


@pytest.mark.parametrize(
    "q", ["<img src=x onerror=alert(1)>", "1; DROP TABLE users; --", "🐶🐱 可以退货吗？"]
)
def test_hostile_or_emoji_text_never_crashes(base_url: str, q: str) -> None:
    r = httpx.post(f"{base_url}/api/ask", json={"question": q}, timeout=30)
    assert r.status_code == 200
    assert isinstance(r.json()["answer"], str)


def test_search_rejects_blank_query(base_url: str) -> None:
    r = httpx.get(f"{base_url}/api/search", params={"q": "  "}, timeout=30)
    assert r.status_code == 422 and "不能为空" in r.text
