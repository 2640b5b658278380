"""Ticket service settings, read from the environment (prefix ``YIWEN_``) and ``.env``.

Everything an operator may need to change without touching code lives here: where the
database is, who may use the staff API, which browser origins may call us and how hard
citizen look-ups are throttled.
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, Field, SecretStr, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from core.places import COUNTIES

REPO_ROOT = Path(__file__).resolve().parents[1]
PACKAGE_DIR = Path(__file__).resolve().parent


class StaticStaffToken(BaseModel):
    """A staff token configured in the environment instead of the database.

    Only the SHA-256 hex digest is configured, so the secret itself never sits in an env
    file or process listing. Useful to bootstrap the first admin before anyone can run
    ``yiwen tokens create``.
    """

    sha256: str = Field(pattern=r"^[0-9a-f]{64}$")
    role: Literal["county", "admin"]
    county: str | None = None
    name: str = Field(default="env", max_length=64)

    @model_validator(mode="after")
    def _county_matches_role(self) -> StaticStaffToken:
        if self.role == "county" and self.county not in COUNTIES:
            raise ValueError(f"county token needs county in {COUNTIES}")
        if self.role == "admin" and self.county is not None:
            raise ValueError("admin tokens are not bound to a county")
        return self


class Settings(BaseSettings):
    """Runtime configuration; see the field descriptions for the env variable meaning."""

    model_config = SettingsConfigDict(
        env_prefix="YIWEN_", env_file=".env", env_file_encoding="utf-8", extra="ignore"
    )

    data_dir: Path = Field(
        default=REPO_ROOT / "var", description="Folder for the SQLite file and other state."
    )
    database_url: str | None = Field(
        default=None,
        description="SQLAlchemy URL; defaults to sqlite:///<data_dir>/yiwen.db.",
    )
    db_pool_size: int = Field(default=10, ge=1, le=200)
    db_max_overflow: int = Field(default=20, ge=0, le=500)
    sqlite_busy_timeout_s: float = Field(
        default=60.0, gt=0, description="How long a SQLite writer waits for the lock."
    )
    staff_tokens: list[StaticStaffToken] = Field(
        default_factory=list, description="Extra staff tokens (hashed), JSON list."
    )
    cors_origins: list[str] = Field(
        default_factory=list, description="Browser origins allowed to call the API."
    )
    ticket_api_token: SecretStr | None = Field(
        default=None,
        description="Service credential of the action server: POST /api/tickets and "
        "conversation-scoped look-ups need it as 'Authorization: Bearer …'. Unset: "
        "generated once into <data_dir>/secrets/ticket_api_token (mode 600), which every "
        "process of the stack reads.",
    )
    lookup_max_failures: int = Field(
        default=5, ge=1, description="Failed citizen look-ups allowed per window."
    )
    lookup_window_s: int = Field(default=600, ge=1, description="Throttle window in seconds.")
    max_body_bytes: int = Field(default=64 * 1024, ge=1024)
    outbox_alert_minutes: float = Field(
        default=30,
        gt=0,
        description="A submission still queued in the action server's outbox "
        "(<data_dir>/outbox.sqlite3) this long makes /healthz report degraded.",
    )
    timezone: str = Field(default="Asia/Shanghai", description="Where working days are counted.")
    holidays_file: Path = Field(
        default=PACKAGE_DIR / "holidays.yml",
        description="Operator-maintained holiday schedules for years the package lacks.",
    )
    report_triage_working_days: int = Field(
        default=7,
        ge=1,
        description="Working days to decide on a report (举报); the regulation sets 7 only "
        "for complaints (Art. 14), so this is the bureau's own target.",
    )
    run_migrations: bool = Field(default=True, description="Run Alembic upgrade at start.")

    def service_token(self) -> str:
        """The configured ticket-API token, or the shared generated one (see the field)."""
        from yiwen.service_secrets import TICKET_API_TOKEN, read_or_create, secret_path

        if self.ticket_api_token is not None and self.ticket_api_token.get_secret_value():
            return self.ticket_api_token.get_secret_value().strip()
        return read_or_create(secret_path(TICKET_API_TOKEN, self.data_dir))

    @property
    def effective_database_url(self) -> str:
        """The URL actually used: explicit ``database_url`` or the SQLite file in data_dir."""
        if self.database_url:
            return self.database_url
        return f"sqlite:///{self.data_dir / 'yiwen.db'}"


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    """Process-wide settings, read once (tests pass their own ``Settings`` instead)."""
    return Settings()
