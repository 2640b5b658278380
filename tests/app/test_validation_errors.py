"""The knowledge API's 422s come from the one Chinese formatter (``tickets.errors``).

In-process and without the engine: validation answers before any route body runs.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from core.settings import reset_settings


@pytest.fixture
def client(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[TestClient]:
    monkeypatch.setenv("YIWEN_DATA_DIR", str(tmp_path))
    reset_settings()
    from yiwen.app import create_app

    yield TestClient(create_app(preload=False))  # no lifespan: no engine, no migration
    reset_settings()


@pytest.mark.parametrize(
    ("request_args", "field", "needle"),
    [
        ({"method": "POST", "url": "/api/ask", "json": {}}, "question", "缺少必填项：问题"),
        ({"method": "POST", "url": "/api/ask", "json": {"question": 123}}, "question", "文字"),
        ({"method": "POST", "url": "/api/ask", "json": {"question": " "}}, "question", "不能为空"),
        ({"method": "GET", "url": "/api/search", "params": {"q": "  "}}, "q", "不能为空"),
        ({"method": "GET", "url": "/api/search", "params": {"q": "退货", "k": 0}}, "k", "返回条数"),
    ],
)
def test_knowledge_routes_answer_in_the_one_422_shape(
    client: TestClient, request_args: dict, field: str, needle: str
) -> None:
    reply = client.request(**request_args)
    assert reply.status_code == 422
    [problem] = reply.json()["detail"]
    assert problem["field"] == field and needle in problem["message"], problem


def test_invalid_utf8_is_explained(client: TestClient) -> None:
    raw = b'{"question": "\xff\xfe abc"}'
    reply = client.post("/api/ask", content=raw, headers={"Content-Type": "application/json"})
    assert reply.status_code == 422 and "UTF-8" in reply.json()["detail"][0]["message"]
