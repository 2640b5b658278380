"""Durable outbox: a complaint is on disk before the ticket API is called.

Every submission is written to a SQLite file in the data directory first
(status ``pending``), then POSTed with its idempotency key. If the API is
down or slow the row stays pending and :class:`RetryWorker` (a daemon thread
in the action server) retries it with backoff; the idempotency key makes a
retry after a lost reply land on the same ticket. The citizen meanwhile holds
a ``LOCAL-…`` reference that status lookup resolves once delivered; the delivered row
keeps the ticket number and the citizen's lookup code (``lookup_code``).
"""

from __future__ import annotations

import json
import logging
import secrets
import sqlite3
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Literal

import click

from bot.actions.ticket_client import (
    TicketConflict,
    TicketReceipt,
    TicketRejected,
    TicketThrottled,
    TicketUnavailable,
    create_ticket,
)
from core.service_secrets import create_private_file
from core.settings import get_settings
from core.ticket_ref import format_local_ref

logger = logging.getLogger(__name__)

Status = Literal["pending", "delivered", "rejected"]

_SCHEMA = """
CREATE TABLE IF NOT EXISTS outbox (
    local_ref TEXT PRIMARY KEY,
    idempotency_key TEXT NOT NULL UNIQUE,
    kind TEXT NOT NULL,
    payload TEXT NOT NULL,
    phone_last4 TEXT,
    status TEXT NOT NULL DEFAULT 'pending',
    ticket_no TEXT,
    lookup_code TEXT,
    response TEXT,
    attempts INTEGER NOT NULL DEFAULT 0,
    last_error TEXT,
    next_attempt_at REAL NOT NULL,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS outbox_due ON outbox (status, next_attempt_at);
"""
#: Columns added since the first schema: (name, definition), added to older files.
_ADDED_COLUMNS = (("lookup_code", "TEXT"),)

MAX_BACKOFF_S = 600.0


@dataclass(frozen=True)
class OutboxItem:
    local_ref: str
    idempotency_key: str
    kind: str
    payload: dict[str, Any]
    phone_last4: str | None
    status: Status
    ticket_no: str | None
    lookup_code: str | None
    response: dict[str, Any] | None
    attempts: int
    last_error: str | None


def new_local_ref(now: datetime | None = None) -> str:
    """LOCAL-20260105-7F3A9C: sortable by day, short enough to read over the phone."""
    return format_local_ref((now or datetime.now(UTC)).date(), secrets.token_hex(3))


def _now_iso() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


def _row_to_item(row: sqlite3.Row) -> OutboxItem:
    return OutboxItem(
        local_ref=row["local_ref"],
        idempotency_key=row["idempotency_key"],
        kind=row["kind"],
        payload=json.loads(row["payload"]),
        phone_last4=row["phone_last4"],
        status=row["status"],
        ticket_no=row["ticket_no"],
        lookup_code=row["lookup_code"],
        response=json.loads(row["response"]) if row["response"] else None,
        attempts=row["attempts"],
        last_error=row["last_error"],
    )


class Outbox:
    """SQLite-backed queue; one short-lived connection per call, so threads can share it."""

    def __init__(self, path: Path | str | None = None) -> None:
        self.path = Path(path) if path else get_settings().outbox_path
        # The outbox holds whole complaints (names, phones, addresses): the file is
        # created owner-only before SQLite opens it (its -wal/-shm files follow its mode).
        create_private_file(self.path)
        with self._connect() as conn:
            conn.executescript(_SCHEMA)
            present = {r["name"] for r in conn.execute("PRAGMA table_info(outbox)")}
            for name, definition in _ADDED_COLUMNS:
                if name not in present:
                    try:
                        conn.execute(f"ALTER TABLE outbox ADD COLUMN {name} {definition}")
                    except sqlite3.OperationalError:  # another process added it just now
                        pass

    @contextmanager
    def _connect(self) -> Iterator[sqlite3.Connection]:
        conn = sqlite3.connect(self.path, timeout=30, isolation_level=None)
        conn.row_factory = sqlite3.Row
        try:
            conn.execute("PRAGMA journal_mode=WAL")
            conn.execute("PRAGMA synchronous=FULL")
            yield conn
        finally:
            conn.close()

    def add(
        self,
        payload: dict[str, Any],
        kind: str,
        *,
        phone_last4: str | None = None,
        local_ref: str | None = None,
        hold_s: float = 60.0,
        idempotency_key: str | None = None,
    ) -> OutboxItem:
        """Store a submission (pending). ``hold_s`` keeps the worker off it while the
        chat turn makes its own first attempt.

        With ``idempotency_key`` (the submit actions derive it from the conversation),
        a second call for the same submission returns the first item unchanged: a turn
        that Rasa runs again on another replica, after the first one died mid-turn,
        posts the same payload under the same key, and the ticket API answers with the
        ticket it already made.
        """
        if idempotency_key:
            existing = self.by_key(idempotency_key)
            if existing is not None:
                return existing
        ref = local_ref or payload.get("local_ref") or new_local_ref()
        key = idempotency_key or str(uuid.uuid4())
        stored = dict(payload, local_ref=ref)
        now = _now_iso()
        with self._connect() as conn:
            conn.execute(
                "INSERT INTO outbox (local_ref, idempotency_key, kind, payload, phone_last4,"
                " next_attempt_at, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                (
                    ref,
                    key,
                    kind,
                    json.dumps(stored, ensure_ascii=False),
                    phone_last4,
                    time.time() + hold_s,
                    now,
                    now,
                ),
            )
        item = self.get(ref)
        assert item is not None
        return item

    def by_key(self, idempotency_key: str) -> OutboxItem | None:
        with self._connect() as conn:
            row = conn.execute(
                "SELECT * FROM outbox WHERE idempotency_key = ?", (idempotency_key,)
            ).fetchone()
        return _row_to_item(row) if row else None

    def get(self, local_ref: str) -> OutboxItem | None:
        with self._connect() as conn:
            row = conn.execute(
                "SELECT * FROM outbox WHERE upper(local_ref) = upper(?)", (local_ref,)
            ).fetchone()
        return _row_to_item(row) if row else None

    def due(self, now: float | None = None, limit: int = 20) -> list[OutboxItem]:
        with self._connect() as conn:
            rows = conn.execute(
                "SELECT * FROM outbox WHERE status = 'pending' AND next_attempt_at <= ?"
                " ORDER BY created_at LIMIT ?",
                (time.time() if now is None else now, limit),
            ).fetchall()
        return [_row_to_item(r) for r in rows]

    def depth(self) -> int:
        """Submissions still waiting for delivery (the ``yiwen_outbox_depth`` gauge)."""
        with self._connect() as conn:
            row = conn.execute("SELECT count(*) FROM outbox WHERE status = 'pending'").fetchone()
        return int(row[0])

    def all(self) -> list[OutboxItem]:
        with self._connect() as conn:
            rows = conn.execute("SELECT * FROM outbox ORDER BY created_at").fetchall()
        return [_row_to_item(r) for r in rows]

    def mark_delivered(self, local_ref: str, created: TicketReceipt) -> None:
        with self._connect() as conn:
            conn.execute(
                "UPDATE outbox SET status='delivered', ticket_no=?, lookup_code=?, response=?,"
                " attempts=attempts+1, last_error=NULL, updated_at=? WHERE local_ref=?",
                (
                    created.ticket_no,
                    created.lookup_code,
                    json.dumps(created.__dict__, ensure_ascii=False),
                    _now_iso(),
                    local_ref,
                ),
            )

    def mark_failed(self, local_ref: str, error: str) -> None:
        """Keep it pending; back off exponentially (30 s, 60 s … at most 10 min by default)."""
        with self._connect() as conn:
            row = conn.execute(
                "SELECT attempts FROM outbox WHERE local_ref=?", (local_ref,)
            ).fetchone()
            attempts = (row["attempts"] if row else 0) + 1
            delay = min(
                get_settings().bot.outbox_backoff_seconds * 2 ** (attempts - 1), MAX_BACKOFF_S
            )
            conn.execute(
                "UPDATE outbox SET attempts=?, last_error=?, next_attempt_at=?, updated_at=?"
                " WHERE local_ref=?",
                (attempts, error[:500], time.time() + delay, _now_iso(), local_ref),
            )

    def stuck(self, older_than_s: float, now: float | None = None) -> list[OutboxItem]:
        """Items still pending ``older_than_s`` seconds after they were queued."""
        cutoff = datetime.fromtimestamp((now or time.time()) - older_than_s, UTC)
        with self._connect() as conn:
            rows = conn.execute(
                "SELECT * FROM outbox WHERE status = 'pending' AND created_at < ?"
                " ORDER BY created_at",
                (cutoff.isoformat(timespec="seconds"),),
            ).fetchall()
        return [_row_to_item(r) for r in rows]

    def requeue(self, local_ref: str) -> bool:
        """Make a pending or rejected item due now (an operator fixed the cause)."""
        with self._connect() as conn:
            cursor = conn.execute(
                "UPDATE outbox SET status='pending', next_attempt_at=?, updated_at=?"
                " WHERE upper(local_ref)=upper(?) AND status IN ('pending', 'rejected')",
                (time.time(), _now_iso(), local_ref),
            )
            return bool(cursor.rowcount)

    def mark_rejected(self, local_ref: str, detail: Any) -> None:
        """A 4xx retrying cannot fix: keep the data for staff, stop retrying."""
        with self._connect() as conn:
            conn.execute(
                "UPDATE outbox SET status='rejected', attempts=attempts+1, last_error=?,"
                " updated_at=? WHERE local_ref=?",
                (json.dumps(detail, ensure_ascii=False)[:2000], _now_iso(), local_ref),
            )


Sender = Callable[[dict[str, Any], str], TicketReceipt]


def deliver_item(outbox: Outbox, item: OutboxItem, send: Sender = create_ticket) -> Status:
    """One delivery attempt for ``item``; returns the resulting status.

    A 4xx that retrying cannot fix (422, 409 …) marks the item rejected: staff see it in
    ``yiwen outbox list`` and the citizen hears it on their next look-up. A 429 or an
    unreachable API backs off and stays pending; so does 401/403 (a token to fix).
    """
    try:
        created = send(item.payload, item.idempotency_key)
    except (TicketRejected, TicketConflict) as exc:
        logger.warning(
            "outbox %s rejected by ticket API (%s): %s", item.local_ref, exc.status_code, exc.detail
        )
        outbox.mark_rejected(item.local_ref, exc.detail)
        return "rejected"
    except TicketThrottled as exc:
        logger.info("outbox %s throttled, retrying later: %s", item.local_ref, exc.detail)
        outbox.mark_failed(item.local_ref, f"429: {exc.detail}")
        return "pending"
    except TicketUnavailable as exc:
        log = logger.error if exc.status_code in (401, 403) else logger.info
        log("outbox %s still undeliverable: %s", item.local_ref, exc)
        outbox.mark_failed(item.local_ref, str(exc))
        return "pending"
    outbox.mark_delivered(item.local_ref, created)
    logger.info("outbox %s delivered as %s", item.local_ref, created.ticket_no)
    return "delivered"


def deliver_pending(
    outbox: Outbox | None = None, send: Sender = create_ticket, now: float | None = None
) -> int:
    """Try every item due at ``now`` once; returns how many were delivered."""
    box = outbox or Outbox()
    delivered = 0
    for item in box.due(now):
        try:  # one bad item must not stop the others
            delivered += deliver_item(box, item, send) == "delivered"
        except Exception as exc:
            logger.exception("outbox %s: delivery attempt failed", item.local_ref)
            box.mark_failed(item.local_ref, f"{type(exc).__name__}")
    return delivered


class RetryWorker(threading.Thread):
    """Daemon thread in the action server that drains the outbox every few seconds."""

    def __init__(
        self,
        outbox: Outbox | None = None,
        interval_s: float | None = None,
        send: Sender = create_ticket,
    ) -> None:
        super().__init__(name="yiwen-outbox-retry", daemon=True)
        self.outbox = outbox or Outbox()
        self.interval_s = (
            interval_s if interval_s is not None else get_settings().bot.outbox_retry_seconds
        )
        self.send = send
        self._stop_event = threading.Event()

    def run(self) -> None:
        while not self._stop_event.is_set():
            try:
                deliver_pending(self.outbox, self.send)
            except Exception:
                logger.exception("outbox retry pass failed")
            self._stop_event.wait(self.interval_s)

    def stop(self, timeout: float = 5.0) -> None:
        self._stop_event.set()
        self.join(timeout)


# ------------------------------------------------------------------------ operators
@click.group("outbox", help="待发队列：列出未送达或被拒收的投诉举报，修复原因后重新投递。")
def outbox_cli() -> None:
    pass


@outbox_cli.command("list", help="列出待发队列（默认只列未送达和被拒收的；不显示个人信息）。")
@click.option("--all", "show_all", is_flag=True, help="包括已送达的。")
@click.option("--json", "as_json", is_flag=True, help="以 JSON 行输出。")
def outbox_list(show_all: bool, as_json: bool) -> None:
    items = [i for i in Outbox().all() if show_all or i.status != "delivered"]
    if not items:
        click.echo("待发队列为空。" if show_all else "没有未送达或被拒收的工单。")
        return
    for item in items:
        row = {
            "local_ref": item.local_ref,
            "kind": item.kind,
            "status": item.status,
            "attempts": item.attempts,
            "ticket_no": item.ticket_no,
            "last_error": (item.last_error or "")[:200],
        }
        if as_json:
            click.echo(json.dumps(row, ensure_ascii=False))
        else:
            click.echo(
                f"{item.local_ref}  {item.kind}  {item.status}  尝试 {item.attempts} 次"
                f"{'  → ' + item.ticket_no if item.ticket_no else ''}"
                f"{'  错误：' + row['last_error'] if row['last_error'] else ''}"
            )


@outbox_cli.command("retry", help="把指定的（或全部被拒收的）条目重新排队，由动作服务器立即重投。")
@click.argument("refs", nargs=-1)
@click.option("--rejected", is_flag=True, help="重新排队全部被拒收的条目。")
def outbox_retry(refs: tuple[str, ...], rejected: bool) -> None:
    box = Outbox()
    targets = list(refs)
    if rejected:
        targets += [i.local_ref for i in box.all() if i.status == "rejected"]
    if not targets:
        raise click.UsageError("请给出 LOCAL-… 编号，或使用 --rejected。")
    for ref in targets:
        ok = box.requeue(ref)
        click.echo(f"{ref}：{'已重新排队' if ok else '未找到，或已送达'}")
