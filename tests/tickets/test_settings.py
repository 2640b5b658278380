"""Settings from the environment and env-configured (hashed) staff tokens."""

from __future__ import annotations

import datetime as dt
import hashlib
from pathlib import Path

import pytest
from pydantic import ValidationError

from core.settings import TicketsSettings as Settings
from core.settings import load_settings
from tickets import migrate
from tickets.db import make_database
from tickets.services.auth import authenticate, check_static_tokens, issue_token


def test_defaults_and_environment(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.delenv("YIWEN_DATABASE_URL", raising=False)
    monkeypatch.setenv("YIWEN_DATA_DIR", str(tmp_path))
    monkeypatch.setenv("YIWEN_CORS_ORIGINS", '["https://a.example"]')
    monkeypatch.setenv("YIWEN_LOOKUP_MAX_FAILURES", "3")
    settings = Settings()
    assert settings.effective_database_url == f"sqlite:///{tmp_path / 'yiwen.db'}"
    assert settings.cors_origins == ["https://a.example"]
    assert settings.lookup_max_failures == 3
    monkeypatch.setenv("YIWEN_DATABASE_URL", "postgresql+psycopg://u@h/db")
    assert Settings().effective_database_url == "postgresql+psycopg://u@h/db"


def test_dotenv_file_is_read(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """One ``.env`` (the repo root's, here a stand-in), whatever the working directory."""
    for name in ("YIWEN_DATABASE_URL", "YIWEN_DATA_DIR", "YIWEN_LOOKUP_WINDOW_S"):
        monkeypatch.delenv(name, raising=False)
    env_file = tmp_path / ".env"
    env_file.write_text("YIWEN_LOOKUP_WINDOW_S=120\nYIWEN_DATA_DIR=/srv/yiwen\n", "utf-8")
    monkeypatch.chdir(tmp_path / "..")
    settings = load_settings(env_file=env_file)
    assert settings.tickets.lookup_window_s == 120
    assert settings.tickets.data_dir == settings.knowledge.data_dir == Path("/srv/yiwen")


def test_env_tokens_are_hashes_and_checked_for_role(tmp_path: Path) -> None:
    secret = "a-long-random-secret"
    digest = hashlib.sha256(secret.encode()).hexdigest()
    settings = Settings(
        database_url=f"sqlite:///{tmp_path / 't.db'}",
        staff_tokens=[{"sha256": digest, "role": "county", "county": "恩平市", "name": "ops"}],
    )
    db = make_database(settings)
    migrate.upgrade(db.engine)
    with db.writing() as session:
        _row, issued = issue_token(
            session, role="admin", county=None, name="db", now=dt.datetime.now(dt.UTC)
        )
    with db.reading() as session:
        from_env = authenticate(session, secret, settings)
        from_db = authenticate(session, issued, settings)
        assert authenticate(session, "wrong", settings) is None
    assert from_env is not None and (from_env.role, from_env.county) == ("county", "恩平市")
    assert from_db is not None and from_db.is_admin
    db.engine.dispose()
    with pytest.raises(ValidationError):
        Settings(staff_tokens=[{"sha256": digest, "role": "county"}])
    with pytest.raises(ValidationError):
        Settings(staff_tokens=[{"sha256": "not-a-hash", "role": "admin"}])
    # The county list is the ticket service's: it refuses an unknown county at start.
    with pytest.raises(ValueError, match="YIWEN_STAFF_TOKENS"):
        check_static_tokens(
            Settings(staff_tokens=[{"sha256": digest, "role": "county", "county": "广州市"}])
        )
