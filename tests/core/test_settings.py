"""The one settings object: names kept, one data dir, the README table in step."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from core.settings import (
    REPO_ROOT,
    TABLE_BEGIN,
    TABLE_END,
    env_fields,
    get_settings,
    load_settings,
    markdown_table,
    reset_settings,
)

README = REPO_ROOT / "README.md"


def _readme_table() -> str:
    text = README.read_text(encoding="utf-8")
    return text[text.index(TABLE_BEGIN) : text.index(TABLE_END) + len(TABLE_END)]


def test_every_variable_is_in_the_readme_table_and_vice_versa() -> None:
    table = _readme_table()
    in_readme = set(re.findall(r"^\| `(YIWEN_[A-Z0-9_]+)` \|", table, flags=re.MULTILINE))
    in_model = {env for _part, env, _description, _default in env_fields()}
    assert in_model - in_readme == set(), "run: .venv/app/bin/python -m core.settings --write"
    assert in_readme - in_model == set(), "README names variables the model does not have"
    assert table == markdown_table(), "README table is stale: python -m core.settings --write"


def test_existing_variable_names_still_work(tmp_path: Path) -> None:
    s = load_settings(
        {
            "YIWEN_DATA_DIR": str(tmp_path),
            "YIWEN_CORPUS_DIRS": f'["{tmp_path / "docs"}"]',
            "YIWEN_USE_FAQ": "false",
            "YIWEN_PORT": "8100",
            "YIWEN_TICKET_API_URL": "http://127.0.0.1:8100/",
            "YIWEN_TICKET_TIMEOUT": "3",
            "YIWEN_OUTBOX_BACKOFF_SECONDS": "0",
            "YIWEN_ACTIONS_PRELOAD": "0",
            "YIWEN_RASA_PORT": "5105",
            "YIWEN_RASA_MAX_CONVERSATIONS": "40",
            "YIWEN_CHAT_RATE_LIMIT": "30/60",
            "YIWEN_WECHAT_TOKEN": "t",
            "YIWEN_REDIS_URL": "redis://127.0.0.1:6379/2",
            "YIWEN_CORS_ORIGINS": "https://a.example, https://b.example",
        }
    )
    assert s.knowledge.corpus_dirs == [tmp_path / "docs"] and not s.knowledge.use_faq
    assert s.server.port == 8100
    assert s.bot.ticket_api_url == "http://127.0.0.1:8100"
    assert (s.bot.ticket_timeout, s.bot.outbox_backoff_seconds) == (3.0, 0.0)
    assert s.bot.actions_preload is False
    assert s.rasa.public_url == "http://127.0.0.1:5105" and s.rasa.max_conversations == 40
    assert s.chat.rate_limit == "30/60" and s.wechat.token == "t"
    assert s.redis_url.endswith("/2")
    # Comma-separated origins work as well as the JSON list (Rasa's --cors used to
    # parse them itself).
    assert s.tickets.cors_origins == ["https://a.example", "https://b.example"]


def test_one_data_dir_for_every_var_path(tmp_path: Path) -> None:
    s = load_settings({"YIWEN_DATA_DIR": str(tmp_path)})
    assert s.knowledge.index_dir == tmp_path / "index"
    assert s.knowledge.model_cache_dir == tmp_path / "models"
    assert s.tickets.effective_database_url == f"sqlite:///{tmp_path / 'yiwen.db'}"
    assert s.outbox_path == s.tickets.outbox_path == tmp_path / "outbox.sqlite3"
    assert s.ticket_api_token() == (tmp_path / "secrets" / "ticket_api_token").read_text().strip()
    assert s.rasa_auth_token() == (tmp_path / "secrets" / "rasa_auth_token").read_text().strip()


def test_configured_tokens_win_over_the_generated_files(tmp_path: Path) -> None:
    s = load_settings(
        {
            "YIWEN_DATA_DIR": str(tmp_path),
            "YIWEN_TICKET_API_TOKEN": "tt",
            "YIWEN_RASA_AUTH_TOKEN": "rt",
        }
    )
    assert (s.ticket_api_token(), s.rasa_auth_token()) == ("tt", "rt")
    assert not (tmp_path / "secrets").exists()


def test_process_settings_follow_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    """Cached, but a changed YIWEN_ variable is seen on the next call (the action server
    and the tests rely on it)."""
    monkeypatch.setenv("YIWEN_TICKET_TIMEOUT", "7")
    first = get_settings()
    assert first.bot.ticket_timeout == 7.0 and get_settings() is first
    monkeypatch.setenv("YIWEN_TICKET_TIMEOUT", "9")
    assert get_settings().bot.ticket_timeout == 9.0
    reset_settings()
    assert get_settings().bot.ticket_timeout == 9.0


def test_empty_values_count_as_unset() -> None:
    s = load_settings({"YIWEN_DATABASE_URL": "", "YIWEN_ACTIONS_PRELOAD": "", "YIWEN_PORT": ""})
    assert s.tickets.database_url is None and s.bot.actions_preload is None
    assert s.server.port == 8000


def test_the_rasa_environment_can_read_the_settings() -> None:
    """pydantic 1.10, no pydantic-settings: the module must still build every section."""
    import subprocess

    python = REPO_ROOT / ".venv" / "rasa" / "bin" / "python"
    if not python.exists():
        pytest.skip("no Rasa environment in this checkout")
    code = (
        "from core.settings import get_settings; s = get_settings(); "
        "print(s.rasa.max_conversations, s.tickets.cors_origins)"
    )
    env = {"YIWEN_RASA_MAX_CONVERSATIONS": "41", "YIWEN_CORS_ORIGINS": "https://a, https://b"}
    out = subprocess.run(
        [str(python), "-c", code],
        cwd=REPO_ROOT,
        env={"PATH": "/usr/bin:/bin", **env},
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    ).stdout
    assert out.strip() == "41 ['https://a', 'https://b']"
