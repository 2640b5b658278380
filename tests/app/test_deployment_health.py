"""The app's /healthz speaks for the production deployment (``yiwen.health``).

The replicas' own probes are exercised against a real topology in tests/topology; here
the aggregation rule is pinned: one ready Rasa replica and Redis keep the deployment
serving, anything less answers 503 so nginx and orchestrators stop sending traffic.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from yiwen import health


@pytest.fixture
def client(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Any:
    monkeypatch.setenv("YIWEN_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("YIWEN_DATABASE_URL", f"sqlite:///{tmp_path / 'app.db'}")
    from yiwen.app import create_app

    with TestClient(create_app(preload=False)) as test_client:
        yield test_client


def _deployment(monkeypatch: pytest.MonkeyPatch, value: dict[str, Any] | None) -> None:
    monkeypatch.setattr(health, "deployment", lambda: value)


def test_without_the_production_profile_the_body_is_the_services_own(client: Any) -> None:
    body = client.get("/healthz")
    assert body.status_code == 200
    assert body.json()["status"] == "ok" and "replicas" not in body.json()


@pytest.mark.parametrize(
    ("replicas", "redis", "code"),
    [
        ({"rasa-1": True, "rasa-2": False, "actions-1": True}, "ok", 200),
        ({"rasa-1": False, "rasa-2": False, "actions-1": True}, "ok", 503),
        ({"rasa-1": True, "rasa-2": True, "actions-1": True}, "unavailable", 503),
    ],
)
def test_one_ready_rasa_replica_and_redis_keep_the_deployment_serving(
    client: Any,
    monkeypatch: pytest.MonkeyPatch,
    replicas: dict[str, bool],
    redis: str,
    code: int,
) -> None:
    _deployment(monkeypatch, {"replicas": replicas, "redis": redis})
    response = client.get("/healthz")
    assert response.status_code == code
    body = response.json()
    assert body["replicas"] == replicas and body["redis"] == redis
    assert body["status"] == ("ok" if code == 200 else "degraded")
    assert body["database"] == "ok"
