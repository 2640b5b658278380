"""The production profile: store URLs from settings become Rasa's endpoints file."""

from __future__ import annotations

import stat
from pathlib import Path

import pytest
import yaml

from bot import processes
from bot.endpoints_profile import (
    LOCK_URL_VAR,
    TRACKER_URL_VAR,
    EndpointsConfigError,
    endpoints_config,
    lock_store,
    tracker_store,
    write_endpoints,
)
from core.settings import load_settings

ACTION_URL = "http://127.0.0.1:5055/webhook"


def test_defaults_keep_the_checked_in_endpoints() -> None:
    assert endpoints_config(load_settings({}).rasa, ACTION_URL) is None
    _, rasa = processes.rasa_services({})
    cmd = rasa["cmd"]
    assert cmd[cmd.index("--endpoints") + 1] == "bot/endpoints.yml"


def test_postgres_url_is_cut_into_rasa_fields() -> None:
    config = tracker_store("postgresql+psycopg2://yiwen:p%40ss@db.internal:6543/yiwen_rasa")
    assert config == {
        "type": "SQL",
        "dialect": "postgresql",
        "url": "db.internal",
        "port": 6543,
        "db": "yiwen_rasa",
        "login_db": "postgres",  # Rasa creates yiwen_rasa if it is missing
        "username": "yiwen",
        "password": "p@ss",
    }


def test_sqlite_tracker_store() -> None:
    assert tracker_store("sqlite:////srv/yiwen/tracker.db") == {
        "type": "SQL",
        "dialect": "sqlite",
        "db": "/srv/yiwen/tracker.db",
    }


def test_redis_lock_store() -> None:
    assert lock_store("redis://:secret@cache:6380/3") == {
        "type": "redis",
        "url": "cache",
        "port": 6380,
        "db": 3,
        "key_prefix": "yiwen",
        "password": "secret",
    }
    assert lock_store("redis://127.0.0.1")["db"] == 1


@pytest.mark.parametrize(
    ("var", "url", "needle"),
    [
        (TRACKER_URL_VAR, "mysql://root@x/db", "只支持 postgresql"),
        (TRACKER_URL_VAR, "postgresql://postgres@127.0.0.1:5432/", "缺少数据库名"),
        (LOCK_URL_VAR, "http://127.0.0.1:6379", "只支持 redis"),
        (LOCK_URL_VAR, "redis://127.0.0.1:6379/locks", "数据库编号"),
    ],
)
def test_bad_urls_name_the_variable_and_the_fix(var: str, url: str, needle: str) -> None:
    with pytest.raises(EndpointsConfigError) as excinfo:
        endpoints_config(load_settings({var: url}).rasa, ACTION_URL)
    assert var in str(excinfo.value) and needle in str(excinfo.value)


def test_yiwen_up_hands_rasa_the_generated_file(tmp_path: Path) -> None:
    env = {
        "YIWEN_DATA_DIR": str(tmp_path),
        TRACKER_URL_VAR: "postgresql://postgres@127.0.0.1:5432/yiwen_rasa",
        LOCK_URL_VAR: "redis://127.0.0.1:6379/1",
    }
    _, rasa = processes.rasa_services(load_settings(env), env)
    cmd = rasa["cmd"]
    path = Path(cmd[cmd.index("--endpoints") + 1])
    assert path == tmp_path / "rasa" / "endpoints.yml"
    written = yaml.safe_load(path.read_text(encoding="utf-8"))
    assert written["action_endpoint"] == {"url": ACTION_URL}
    assert written["tracker_store"]["db"] == "yiwen_rasa"
    assert written["lock_store"]["type"] == "redis"
    assert stat.S_IMODE(path.stat().st_mode) == 0o600


def test_write_endpoints_round_trips(tmp_path: Path) -> None:
    config = endpoints_config(
        load_settings({LOCK_URL_VAR: "redis://127.0.0.1:6379/2"}).rasa, ACTION_URL
    )
    assert config is not None and "tracker_store" not in config
    path = write_endpoints(config, tmp_path / "e.yml")
    assert yaml.safe_load(path.read_text(encoding="utf-8")) == config


def test_cors_origins_reach_rasa() -> None:
    _, rasa = processes.rasa_services(load_settings({"YIWEN_PORT": "8100"}), {})
    cmd = rasa["cmd"]
    assert cmd[cmd.index("--cors") + 1] == "http://127.0.0.1:8100"
    env = {"YIWEN_CORS_ORIGINS": '["https://a.example", "https://b.example"]'}
    _, rasa = processes.rasa_services(load_settings(env), env)
    cmd = rasa["cmd"]
    assert cmd[cmd.index("--cors") + 1 : cmd.index("--cors") + 3] == [
        "https://a.example",
        "https://b.example",
    ]
