"""The production profile's generated configuration, without starting it (model-free)."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

from core.settings import reset_settings
from yiwen import topology


@pytest.fixture
def plan(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> topology.Plan:
    monkeypatch.setenv("YIWEN_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("YIWEN_RASA_TRACKER_STORE_URL", "postgresql://postgres@127.0.0.1/yr")
    monkeypatch.setenv("YIWEN_RASA_LOCK_STORE_URL", "redis://127.0.0.1:6379/1")
    monkeypatch.setenv("YIWEN_REPLICAS", "3")
    reset_settings()
    p = topology.plan()
    topology.write(p)
    yield p
    reset_settings()


def test_three_replicas_each_with_its_own_ports_and_thread_limits(plan: topology.Plan) -> None:
    rasa, actions = plan.of_kind("rasa"), plan.of_kind("actions")
    assert [p.name for p in rasa] == ["rasa-1", "rasa-2", "rasa-3"]
    ports = [p.port for p in plan.procs] + [p.metrics_port for p in plan.procs if p.metrics_port]
    assert len(ports) == len(set(ports))
    for proc in rasa:
        assert proc.env["SANIC_WORKERS"] == "1" and proc.env["TF_NUM_INTRAOP_THREADS"] == "1"
        assert proc.env["TICKET_LOCK_LIFETIME"] == "5"
        assert "--auth-token" not in proc.cmd and "bot.rasa_server" in proc.cmd
    for proc in actions:  # the ticket API's timeout fits inside the action timeout
        assert float(proc.env["YIWEN_TICKET_TIMEOUT"]) < topology.ACTION_TIMEOUT_S
    assert topology.ACTION_TIMEOUT_S < 5 < topology.PUBLIC_READ_TIMEOUT_S <= 10
    conf = plan.supervisor_conf.read_text("utf-8")
    assert conf.count("[program:") == 8 and plan.supervisor_conf.stat().st_mode & 0o077 == 0


def test_nginx_config_is_valid_and_routes_only_the_public_paths(plan: topology.Plan) -> None:
    text = plan.nginx_conf.read_text("utf-8")
    assert "hash $yiwen_rest_sender consistent" in text
    for key in ("$public_port", "$rasa_servers", "$action_servers", "$busy_text", "$prefix"):
        assert key not in text, key  # every template key was filled in
    for location in ("/webhooks/rest/webhook", "/webhooks/wechat/webhook", "/socket.io/"):
        assert location in text
    assert "12315" in text  # the answer when no replica can take a message
    nginx = topology.nginx_binary()
    if nginx is None or shutil.which("id") is None:
        pytest.skip("nginx is not installed (scripts/setup-nginx.sh)")
    done = subprocess.run(
        [nginx, "-t", "-p", str(plan.nginx_conf.parent), "-c", str(plan.nginx_conf)],
        capture_output=True,
        text=True,
    )
    assert done.returncode == 0, done.stderr
