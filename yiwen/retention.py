"""Retention: forget conversational personal data once it is no longer needed.

``yiwen purge --older-than DAYS`` (run it daily, e.g. from cron) removes, for everything
older than DAYS:

- the payload of every *delivered* outbox item (the complaint now lives in the ticket
  database, which staff need for the statutory procedure); the row keeps only its
  ``LOCAL-…`` reference and ticket number, so an old reference still resolves;
- Rasa's stored conversation events (the SQL tracker store of the production profile,
  ``YIWEN_RASA_TRACKER_STORE_URL``), including forms that were filled in and cancelled;
- who asked each question in the question log (sender id and channel); the question,
  already masked, stays for writing FAQ entries and for the console's statistics;
- and, past ``question_retention_days`` (default 180), the logged questions themselves.

Tickets themselves are not touched: they are the bureau's case records and follow its
archive rules, not a chat retention period. Why a command and not a timer inside a
service: the services can be restarted at any time, and an operator should see (and
schedule) what is deleted.
"""

from __future__ import annotations

import datetime as dt
import sqlite3
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import create_engine, inspect, text
from sqlalchemy.engine import make_url


@dataclass
class PurgeReport:
    outbox_payloads: int = 0
    tracker_events: int = 0
    review_identities: int = 0
    questions: int = 0
    tracker_store: str = "内存（重启即清空）"

    def lines(self) -> list[str]:
        return [
            f"已送达的待发队列内容：清除 {self.outbox_payloads} 条",
            f"对话事件（{self.tracker_store}）：删除 {self.tracker_events} 条",
            f"复核日志中的提问人标识：清除 {self.review_identities} 条",
            f"超过保留期限的提问记录：删除 {self.questions} 条",
        ]


def purge_outbox(path: Path, cutoff: dt.datetime) -> int:
    """Blank the payload (and the phone digits and lookup code) of delivered items older
    than ``cutoff``; the ticket number stays."""
    if not path.is_file():
        return 0
    conn = sqlite3.connect(path, timeout=30, isolation_level=None)
    try:
        columns = {row[1] for row in conn.execute("PRAGMA table_info(outbox)")}
        code = ", lookup_code=NULL" if "lookup_code" in columns else ""  # older files lack it
        cursor = conn.execute(
            f"UPDATE outbox SET payload='{{}}', phone_last4=NULL, response=NULL{code}"
            " WHERE status='delivered' AND updated_at < ? AND payload != '{}'",
            (cutoff.isoformat(timespec="seconds"),),
        )
        return int(cursor.rowcount)
    finally:
        conn.close()


def _sqlalchemy_url(url: str) -> str:
    """Rasa's ``postgresql://`` URL for this environment's driver (psycopg 3)."""
    parsed = make_url(url)
    if parsed.get_backend_name() == "postgresql" and parsed.drivername == "postgresql":
        parsed = parsed.set(drivername="postgresql+psycopg")
    return parsed.render_as_string(hide_password=False)


def purge_tracker_events(url: str, cutoff: dt.datetime) -> int:
    """Delete Rasa's stored events older than ``cutoff`` (SQL tracker store)."""
    engine = create_engine(_sqlalchemy_url(url), hide_parameters=True)
    try:
        if "events" not in inspect(engine).get_table_names():
            return 0
        with engine.begin() as conn:
            result = conn.execute(
                text("DELETE FROM events WHERE timestamp < :cutoff"),
                {"cutoff": cutoff.timestamp()},
            )
            return int(result.rowcount or 0)
    finally:
        engine.dispose()


def purge_review_identities(url: str, cutoff: dt.datetime) -> int:
    """Forget who asked: sender id and channel of review-log entries older than ``cutoff``."""
    from bot.actions.review_log import get_engine, review_log

    engine = get_engine(url)
    with engine.begin() as conn:
        result = conn.execute(
            review_log.update()
            .where(review_log.c.created_at < cutoff)
            .where((review_log.c.sender_id.is_not(None)) | (review_log.c.channel.is_not(None)))
            .values(sender_id=None, channel=None)
        )
        return int(result.rowcount or 0)


def purge_questions(url: str, cutoff: dt.datetime) -> int:
    """Delete logged questions older than ``cutoff`` (the question retention period)."""
    from bot.actions.review_log import get_engine, review_log

    with get_engine(url).begin() as conn:
        result = conn.execute(review_log.delete().where(review_log.c.created_at < cutoff))
        return int(result.rowcount or 0)


def purge(
    days: int,
    *,
    outbox_path: Path,
    database_url: str,
    tracker_store_url: str = "",
    question_days: int | None = None,
    now: dt.datetime | None = None,
) -> PurgeReport:
    """Apply the retention policy (module docstring) to data older than ``days``; logged
    questions go after ``question_days`` (None keeps them)."""
    now = now or dt.datetime.now(dt.UTC)
    cutoff = now - dt.timedelta(days=days)
    report = PurgeReport()
    report.outbox_payloads = purge_outbox(outbox_path, cutoff)
    if tracker_store_url:
        report.tracker_store = make_url(tracker_store_url).get_backend_name()
        report.tracker_events = purge_tracker_events(tracker_store_url, cutoff)
    report.review_identities = purge_review_identities(database_url, cutoff)
    if question_days is not None:
        report.questions = purge_questions(database_url, now - dt.timedelta(days=question_days))
    return report
