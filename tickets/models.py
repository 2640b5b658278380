"""SQLAlchemy 2 ORM models of the ticket service.

Every table name starts with ``ticket`` or ``staff`` so the service can share a database
with other parts of Yiwen, and Alembic keeps its own version table
(``tickets_alembic_version``) for the same reason. The one exception, ``review_log``, is
written by the action server (:class:`ReviewEntry`); it kept the name it had when the
action server created it itself, so existing databases need no copy.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    Date,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    Numeric,
    String,
    Text,
    TypeDecorator,
)
from sqlalchemy.engine import Dialect
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship

from core.ticket_ref import format_lookup_code

NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class UTCDateTime(TypeDecorator[dt.datetime]):
    """Timezone-aware UTC datetimes on every backend.

    SQLite has no timezone type and hands back naive values; without this, comparisons
    between stored and current times would mix naive and aware datetimes.
    """

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: dt.datetime | None, dialect: Dialect) -> Any:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to UTCDateTime")
        value = value.astimezone(dt.UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: Any, dialect: Dialect) -> dt.datetime | None:
        if value is None:
            return None
        moment: dt.datetime = value
        if moment.tzinfo is None:
            return moment.replace(tzinfo=dt.UTC)
        return moment.astimezone(dt.UTC)


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)


class Ticket(Base):
    """A complaint (投诉) or report (举报) as the bureau received it."""

    __tablename__ = "tickets"
    __table_args__ = (Index("ix_tickets_county_status_due", "county", "status", "due_date"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    ticket_no: Mapped[str] = mapped_column(String(16), unique=True)
    #: The random part of the citizen's lookup code (``core.ticket_ref``); the public
    #: look-up requires it, the sequential number alone is not enough.
    lookup_secret: Mapped[str] = mapped_column(String(8))
    kind: Mapped[str] = mapped_column(String(16))
    status: Mapped[str] = mapped_column(String(16), index=True)

    complainant_name: Mapped[str | None] = mapped_column(String(64))
    complainant_phone: Mapped[str | None] = mapped_column(String(20))
    complainant_address: Mapped[str | None] = mapped_column(String(200))
    anonymous: Mapped[bool] = mapped_column(Boolean, default=False)
    proxy_filing: Mapped[bool] = mapped_column(Boolean, default=False)

    respondent_name: Mapped[str | None] = mapped_column(String(128))
    respondent_address: Mapped[str | None] = mapped_column(String(200))
    respondent_is_platform: Mapped[bool] = mapped_column(Boolean, default=False)

    county: Mapped[str] = mapped_column(String(16))
    county_hint: Mapped[str | None] = mapped_column(String(16))
    routing_note: Mapped[str | None] = mapped_column(String(500))
    incident_date: Mapped[dt.date | None] = mapped_column(Date)
    amount: Mapped[Decimal | None] = mapped_column(Numeric(14, 2))
    product: Mapped[str | None] = mapped_column(String(200))
    order_no: Mapped[str | None] = mapped_column(String(64))
    demand: Mapped[str | None] = mapped_column(String(8))
    demand_detail: Mapped[str | None] = mapped_column(String(1000))
    facts: Mapped[str] = mapped_column(Text)
    evidence: Mapped[list[str]] = mapped_column(JSON, default=list)
    consent_share_contact: Mapped[bool] = mapped_column(Boolean, default=False)
    flags: Mapped[list[str]] = mapped_column(JSON, default=list)
    warnings: Mapped[list[str]] = mapped_column(JSON, default=list)

    channel: Mapped[str | None] = mapped_column(String(32))
    sender_id: Mapped[str | None] = mapped_column(String(128))
    local_ref: Mapped[str | None] = mapped_column(String(128))

    idempotency_key: Mapped[str] = mapped_column(String(128), unique=True)
    request_hash: Mapped[str] = mapped_column(String(64))

    received_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    received_date: Mapped[dt.date] = mapped_column(Date)
    accept_deadline: Mapped[dt.date] = mapped_column(Date)
    accepted_date: Mapped[dt.date | None] = mapped_column(Date)
    mediation_deadline: Mapped[dt.date | None] = mapped_column(Date)
    deadline_provisional: Mapped[bool] = mapped_column(Boolean, default=False, index=True)
    #: The deadline staff must meet next (None once the ticket is closed); drives sorting.
    due_date: Mapped[dt.date | None] = mapped_column(Date, index=True)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    updated_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)

    history: Mapped[list[StatusEvent]] = relationship(
        back_populates="ticket", order_by="StatusEvent.id", cascade="all, delete-orphan"
    )
    notes: Mapped[list[Note]] = relationship(
        back_populates="ticket", order_by="Note.id", cascade="all, delete-orphan"
    )

    @property
    def lookup_code(self) -> str:
        """``JM2026-000123-7KQ2XM``: what the citizen is given and needs to look it up."""
        return format_lookup_code(self.ticket_no, self.lookup_secret)


class StatusEvent(Base):
    """One status change: who, when and why."""

    __tablename__ = "ticket_status_events"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    ticket_id: Mapped[int] = mapped_column(ForeignKey("tickets.id"), index=True)
    status: Mapped[str] = mapped_column(String(16))
    at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    actor: Mapped[str] = mapped_column(String(80))
    reason: Mapped[str | None] = mapped_column(String(1000))

    ticket: Mapped[Ticket] = relationship(back_populates="history")


class Note(Base):
    """A free-text note by staff or by the system (e.g. an Art. 15 warning)."""

    __tablename__ = "ticket_notes"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    ticket_id: Mapped[int] = mapped_column(ForeignKey("tickets.id"), index=True)
    at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    author: Mapped[str] = mapped_column(String(80))
    text: Mapped[str] = mapped_column(String(2000))

    ticket: Mapped[Ticket] = relationship(back_populates="notes")


class TicketCounter(Base):
    """Last number issued per year; one row per year, updated under a row lock."""

    __tablename__ = "ticket_counters"

    year: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    last_seq: Mapped[int] = mapped_column(Integer)


class StaffToken(Base):
    """A staff bearer token; only its SHA-256 digest is stored."""

    __tablename__ = "staff_tokens"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    token_sha256: Mapped[str] = mapped_column(String(64), unique=True)
    role: Mapped[str] = mapped_column(String(16))
    county: Mapped[str | None] = mapped_column(String(16))
    name: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    revoked_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)


class AuditEntry(Base):
    """One staff read or write, kept for accountability.

    Knowledge changes name their ``entity`` (``document``, ``chunk``, ``faq``, ``job``)
    and its id, and keep ``{"before", "after"}`` snapshots in ``detail``.
    """

    __tablename__ = "staff_audit_log"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    at: Mapped[dt.datetime] = mapped_column(UTCDateTime, index=True)
    actor: Mapped[str] = mapped_column(String(80))
    role: Mapped[str] = mapped_column(String(16))
    action: Mapped[str] = mapped_column(String(32))
    ticket_no: Mapped[str | None] = mapped_column(String(32), index=True)
    entity: Mapped[str | None] = mapped_column(String(16), index=True)
    entity_id: Mapped[str | None] = mapped_column(String(64))
    detail: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    client_ip: Mapped[str | None] = mapped_column(String(64))


class LookupFailure(Base):
    """A failed citizen look-up, counted per client IP and per ticket number to throttle."""

    __tablename__ = "ticket_lookup_failures"
    __table_args__ = (Index("ix_ticket_lookup_failures_scope_at", "scope", "at"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    scope: Mapped[str] = mapped_column(String(80))
    at: Mapped[dt.datetime] = mapped_column(UTCDateTime, index=True)


class ReviewEntry(Base):
    """One question a citizen asked (the question log), with the answer's lead and the
    citizen's later 有帮助/没帮助.

    Written by the action server (``bot.actions.review_log``) and by ``/api/ask``, read by
    staff through ``yiwen misses`` and the console (待改进, 统计). It lives here, not in
    the bot, because Alembic owns this database: a table created on the side with
    ``create_all`` would be invisible to migrations. Questions are masked before they are
    stored; ``yiwen purge`` clears sender and channel, and deletes rows older than
    ``question_retention_days``. Rows written before revision 0005 hold only abstentions
    and ratings (a rating was a row of its own then).
    """

    __tablename__ = "review_log"
    __table_args__ = (Index("ix_review_log_created_at", "created_at"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, nullable=False)
    sender_id: Mapped[str | None] = mapped_column(String(128))
    channel: Mapped[str | None] = mapped_column(String(64))
    question: Mapped[str] = mapped_column(Text, nullable=False)
    answer: Mapped[str | None] = mapped_column(Text)
    abstained: Mapped[bool] = mapped_column(Boolean, nullable=False, default=False)
    feedback: Mapped[str | None] = mapped_column(String(16))
    citations: Mapped[list[str] | None] = mapped_column(JSON)
    #: The document the answer's lead came from (``Hit.doc``) and its title, the topic the
    #: statistics count; empty for an abstention.
    lead_doc: Mapped[str | None] = mapped_column(String(200))
    topic: Mapped[str | None] = mapped_column(String(200))
    feedback_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    #: The review queue's decision: None (open), ``resolved`` or ``ignored``.
    review_state: Mapped[str | None] = mapped_column(String(16))
    reviewed_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    reviewed_by: Mapped[str | None] = mapped_column(String(80))


# --- knowledge console ----------------------------------------------------------------


class KbDocument(Base):
    """A document uploaded through the staff console, with the metadata staff corrected.

    The text is the loader's output, kept so that an export never needs the original
    file; ``state`` is draft → (pending →) published, or disabled.
    """

    __tablename__ = "staff_kb_documents"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    title: Mapped[str] = mapped_column(String(300))
    date: Mapped[dt.date | None] = mapped_column(Date)
    issuer: Mapped[str | None] = mapped_column(String(200))
    region: Mapped[str | None] = mapped_column(String(64))
    effective_from: Mapped[dt.date | None] = mapped_column(Date)
    repealed_on: Mapped[dt.date | None] = mapped_column(Date)
    superseded_by: Mapped[str | None] = mapped_column(String(300))
    state: Mapped[str] = mapped_column(String(16), index=True)
    kind: Mapped[str] = mapped_column(String(16))
    filename: Mapped[str] = mapped_column(String(300))
    stored_path: Mapped[str] = mapped_column(String(1000))
    text: Mapped[str] = mapped_column(Text)
    meta: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    version: Mapped[int] = mapped_column(Integer, default=1)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    updated_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    updated_by: Mapped[str] = mapped_column(String(80))

    chunks: Mapped[list[KbChunk]] = relationship(
        back_populates="document", order_by="KbChunk.position", cascade="all, delete-orphan"
    )

    @property
    def doc_id(self) -> str:
        """The id the index, citations' sources and FAQ entries use for it."""
        return f"console-{self.id}"


class KbChunk(Base):
    """One chunk the chunker made of a console document; staff may disable it alone."""

    __tablename__ = "staff_kb_chunks"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    document_id: Mapped[int] = mapped_column(ForeignKey("staff_kb_documents.id"), index=True)
    chunk_id: Mapped[str] = mapped_column(String(80))
    position: Mapped[int] = mapped_column(Integer)
    label: Mapped[str] = mapped_column(String(80))
    heading: Mapped[str] = mapped_column(String(300))
    text: Mapped[str] = mapped_column(Text)
    disabled: Mapped[bool] = mapped_column(Boolean, default=False)

    document: Mapped[KbDocument] = relationship(back_populates="chunks")


class KbFaq(Base):
    """A curated FAQ entry edited in the console: new, or overriding a seed entry by id."""

    __tablename__ = "staff_kb_faq"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    topic: Mapped[str] = mapped_column(String(64))
    questions: Mapped[list[str]] = mapped_column(JSON, default=list)
    answer: Mapped[str] = mapped_column(Text)
    sources: Mapped[list[dict[str, str]]] = mapped_column(JSON, default=list)
    date: Mapped[dt.date | None] = mapped_column(Date)
    state: Mapped[str] = mapped_column(String(16))
    overrides_seed: Mapped[bool] = mapped_column(Boolean, default=False)
    version: Mapped[int] = mapped_column(Integer, default=1)
    updated_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    updated_by: Mapped[str] = mapped_column(String(80))
    #: Two-person publishing: an editor's proposed entry (``data``), ``by`` and ``at``,
    #: waiting for an admin; the published fields above keep serving until approval.
    pending: Mapped[dict[str, Any] | None] = mapped_column(JSON, nullable=True, default=None)


class KbVersion(Base):
    """A full snapshot of a document's metadata or an FAQ entry after each change."""

    __tablename__ = "staff_kb_versions"
    __table_args__ = (Index("ix_staff_kb_versions_entity", "entity", "entity_id", "version"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    entity: Mapped[str] = mapped_column(String(16))
    entity_id: Mapped[str] = mapped_column(String(64))
    version: Mapped[int] = mapped_column(Integer)
    snapshot: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    action: Mapped[str] = mapped_column(String(32))
    at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    actor: Mapped[str] = mapped_column(String(80))


class KbJob(Base):
    """A background ingest, in the database so a restart finds and re-runs it."""

    __tablename__ = "staff_kb_jobs"

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    kind: Mapped[str] = mapped_column(String(16))
    state: Mapped[str] = mapped_column(String(16), index=True)
    progress: Mapped[float] = mapped_column(Numeric(5, 4), default=0)
    message: Mapped[str] = mapped_column(String(1000), default="")
    document_id: Mapped[int | None] = mapped_column(Integer)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    finished_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    actor: Mapped[str] = mapped_column(String(80))
