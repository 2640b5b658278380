"""Review log: helpful/unhelpful feedback and every abstained question.

Staff read it (``yiwen misses``) to write FAQ entries for what citizens
actually ask. It lives in the app database (``YIWEN_DATABASE_URL``), whose schema
Alembic owns: the table is the ticket service's model ``tickets.models.ReviewEntry``,
and the first use of a database here runs the same locked ``upgrade head`` as the app
does at start (unless ``YIWEN_RUN_MIGRATIONS=false``), so the action server works when it
starts first and never creates a table Alembic does not know about. Phone numbers in
questions are masked before storage, and ``yiwen purge`` forgets who asked (sender id,
channel) after the retention period.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from functools import lru_cache
from pathlib import Path
from typing import Any, Literal

import click
from sqlalchemy import Engine, Table, create_engine, insert, or_, select
from sqlalchemy.engine import make_url

from bot.actions.parsing.phone import digits_from_chinese
from core.pii import mask_text
from core.service_secrets import create_private_file
from core.settings import get_settings
from tickets import migrate
from tickets.models import ReviewEntry

Feedback = Literal["helpful", "unhelpful"]

review_log: Table = ReviewEntry.__table__  # type: ignore[assignment]


@lru_cache(maxsize=8)
def _engine(url: str) -> Engine:
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite" and parsed.database not in (None, "", ":memory:"):
        create_private_file(Path(parsed.database))  # owner-only from the start
    # hide_parameters: a database error must not copy citizens' questions into the log.
    engine = create_engine(url, pool_pre_ping=True, hide_parameters=True)
    if get_settings().tickets.run_migrations:
        migrate.upgrade(engine)  # Alembic's schema, under its cross-process lock
    return engine


def get_engine(url: str | None = None) -> Engine:
    """The (cached) engine for ``url`` or the configured database, schema up to date."""
    return _engine(url or get_settings().tickets.effective_database_url)


def record(
    *,
    question: str,
    answer: str | None,
    abstained: bool,
    citations: list[str] | None = None,
    feedback: Feedback | None = None,
    sender_id: str | None = None,
    channel: str | None = None,
    url: str | None = None,
) -> int:
    """Append one entry and return its id."""
    row = {
        "created_at": datetime.now(UTC),
        "sender_id": sender_id,
        "channel": channel,
        # Spelled-out numbers (一三九…) as digits first, so the shared masking sees them.
        "question": mask_text(digits_from_chinese(question)),
        "answer": answer,
        "abstained": abstained,
        "feedback": feedback,
        "citations": list(citations or []),
    }
    with get_engine(url).begin() as conn:
        result = conn.execute(insert(review_log).values(**row))
        return int(result.inserted_primary_key[0])


def _as_dict(row: Any) -> dict[str, Any]:
    data = dict(row._mapping)
    created = data.get("created_at")
    if isinstance(created, datetime):
        data["created_at"] = created.isoformat(timespec="seconds")
    return data


def list_entries(limit: int = 50, url: str | None = None) -> list[dict[str, Any]]:
    """Newest entries of any kind."""
    query = select(review_log).order_by(review_log.c.id.desc()).limit(limit)
    with get_engine(url).connect() as conn:
        return [_as_dict(row) for row in conn.execute(query)]


def list_misses(limit: int = 50, url: str | None = None) -> list[dict[str, Any]]:
    """Newest questions the assistant could not answer or whose answer was unhelpful."""
    query = (
        select(review_log)
        .where(or_(review_log.c.abstained.is_(True), review_log.c.feedback == "unhelpful"))
        .order_by(review_log.c.id.desc())
        .limit(limit)
    )
    with get_engine(url).connect() as conn:
        return [_as_dict(row) for row in conn.execute(query)]


@click.command("misses")
@click.option("--limit", default=50, show_default=True, help="How many entries to show.")
@click.option("--json", "as_json", is_flag=True, help="Print JSON lines instead of a table.")
@click.option("--all", "show_all", is_flag=True, help="Include helpful feedback too.")
def misses(limit: int, as_json: bool, show_all: bool) -> None:
    """List unanswered and unhelpful questions from the review log (newest first)."""
    rows = list_entries(limit) if show_all else list_misses(limit)
    if as_json:
        for row in rows:
            click.echo(json.dumps(row, ensure_ascii=False))
        return
    if not rows:
        click.echo("review log: no entries")
        return
    for row in rows:
        kind = "abstained" if row["abstained"] else (row["feedback"] or "-")
        cites = "; ".join(row.get("citations") or [])
        click.echo(f"#{row['id']}  {row['created_at']}  [{kind}]  {row['question']}")
        if cites:
            click.echo(f"      cited: {cites}")
