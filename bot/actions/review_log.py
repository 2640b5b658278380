"""Review log: helpful/unhelpful feedback and every abstained question.

Staff read it (``yiwen misses``) to write FAQ entries for what citizens
actually ask. It lives in the app database (``YIWEN_DATABASE_URL``) and this
module creates its own ``review_log`` table when missing, so it works before
any migration runs. Phone numbers in questions are masked before storage, and
``yiwen purge`` forgets who asked (sender id, channel) after the retention period.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from functools import lru_cache
from pathlib import Path
from typing import Any, Literal

import click
from sqlalchemy import (
    JSON,
    Boolean,
    Column,
    DateTime,
    Engine,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    create_engine,
    insert,
    or_,
    select,
)
from sqlalchemy.engine import make_url

from bot.actions import settings
from bot.actions.parsing.phone import digits_from_chinese
from yiwen.pii import mask_text
from yiwen.service_secrets import create_private_file

Feedback = Literal["helpful", "unhelpful"]

metadata = MetaData()

review_log = Table(
    "review_log",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("sender_id", String(128)),
    Column("channel", String(64)),
    Column("question", Text, nullable=False),
    Column("answer", Text),
    Column("abstained", Boolean, nullable=False, default=False),
    Column("feedback", String(16)),
    Column("citations", JSON),
)


@lru_cache(maxsize=8)
def _engine(url: str) -> Engine:
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite" and parsed.database not in (None, "", ":memory:"):
        create_private_file(Path(parsed.database))  # owner-only from the start
    # hide_parameters: a database error must not copy citizens' questions into the log.
    engine = create_engine(url, pool_pre_ping=True, hide_parameters=True)
    metadata.create_all(engine, checkfirst=True)
    return engine


def get_engine(url: str | None = None) -> Engine:
    """The (cached) engine for ``url`` or the configured database, table ensured."""
    return _engine(url or settings.database_url())


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
