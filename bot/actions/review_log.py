"""Question log (the ``review_log`` table): every question asked, its lead, and the
citizen's later 有帮助/没帮助.

Staff read it (``yiwen misses``, the console's 待改进 and 统计) to write FAQ entries for
what citizens actually ask. A rating updates the row of the question it rates (same
sender, same masked question, the newest), so one row is one question and the
statistics need no joins. It lives in the app database (``YIWEN_DATABASE_URL``), whose schema
Alembic owns: the table is the ticket service's model ``tickets.models.ReviewEntry``,
and the first use of a database here runs the same locked ``upgrade head`` as the app
does at start (unless ``YIWEN_RUN_MIGRATIONS=false``), so the action server works when it
starts first and never creates a table Alembic does not know about. Phone numbers in
questions are masked before storage, and ``yiwen purge`` forgets who asked (sender id,
channel) after the retention period.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from functools import lru_cache
from pathlib import Path
from typing import Any, Literal

import click
from sqlalchemy import Engine, Table, create_engine, insert, or_, select, update
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


#: How long after a question its rating is still matched to it; later, a rating is a row
#: of its own (the question is no longer in the conversation's memory anyway).
RATING_WINDOW = timedelta(days=1)


def mask_question(question: str) -> str:
    """The question as stored: spelled-out numbers (一三九…) as digits first, so the
    shared masking (phones, ID numbers, 我叫… names) sees them."""
    return mask_text(digits_from_chinese(question))


def lead_of(answer: Any) -> tuple[str | None, str | None]:
    """(document id, title) of an engine answer's lead, or (None, None) for an abstention."""
    if answer is None or getattr(answer, "abstained", True):
        return None, None
    hits = getattr(answer, "hits", None) or []
    if not hits:
        return None, None
    lead = hits[0]
    doc, title = getattr(lead, "doc", None), getattr(lead, "title", None)
    return (str(doc)[:200] if doc else None), (str(title)[:200] if title else None)


def record(
    *,
    question: str,
    answer: str | None,
    abstained: bool,
    citations: list[str] | None = None,
    feedback: Feedback | None = None,
    sender_id: str | None = None,
    channel: str | None = None,
    lead_doc: str | None = None,
    topic: str | None = None,
    url: str | None = None,
    engine: Engine | None = None,
) -> int:
    """Append one entry and return its id (``engine``: the caller's, e.g. the app's)."""
    now = datetime.now(UTC)
    row = {
        "created_at": now,
        "sender_id": sender_id,
        "channel": channel,
        "question": mask_question(question),
        "answer": answer,
        "abstained": abstained,
        "feedback": feedback,
        "feedback_at": now if feedback else None,
        "citations": list(citations or []),
        "lead_doc": lead_doc,
        "topic": topic,
    }
    with (engine or get_engine(url)).begin() as conn:
        result = conn.execute(insert(review_log).values(**row))
        return int(result.inserted_primary_key[0])


def rate(
    *,
    question: str,
    feedback: Feedback,
    sender_id: str | None,
    channel: str | None = None,
    answer: str | None = None,
    abstained: bool = False,
    citations: list[str] | None = None,
    url: str | None = None,
) -> int:
    """Attach a rating to the logged question it rates; the latest rating wins.

    The question is found by sender and masked text among the last day's rows; a rating
    that finds none (a question asked before the log recorded every question) becomes a
    row of its own, as ratings always were. Returns the row's id.
    """
    engine = get_engine(url)
    now = datetime.now(UTC)
    masked = mask_question(question)
    if sender_id:
        with engine.begin() as conn:
            found = conn.execute(
                select(review_log.c.id)
                .where(review_log.c.sender_id == sender_id)
                .where(review_log.c.question == masked)
                .where(review_log.c.created_at >= now - RATING_WINDOW)
                .order_by(review_log.c.id.desc())
                .limit(1)
            ).scalar_one_or_none()
            if found is not None:
                conn.execute(
                    update(review_log)
                    .where(review_log.c.id == found)
                    .values(feedback=feedback, feedback_at=now)
                )
                return int(found)
    return record(
        question=question,
        answer=answer,
        abstained=abstained,
        citations=citations,
        feedback=feedback,
        sender_id=sender_id,
        channel=channel,
        url=url,
    )


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
