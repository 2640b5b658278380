"""Initial schema: tickets, history, notes, counters, staff tokens, audit log, throttle.

Revision ID: 0001
Revises:
Create Date: 2026-11-25
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0001"
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

UTC_DATETIME = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "tickets",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("ticket_no", sa.String(length=16), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("complainant_name", sa.String(length=64), nullable=True),
        sa.Column("complainant_phone", sa.String(length=20), nullable=True),
        sa.Column("complainant_address", sa.String(length=200), nullable=True),
        sa.Column("anonymous", sa.Boolean(), nullable=False),
        sa.Column("proxy_filing", sa.Boolean(), nullable=False),
        sa.Column("respondent_name", sa.String(length=128), nullable=True),
        sa.Column("respondent_address", sa.String(length=200), nullable=True),
        sa.Column("respondent_is_platform", sa.Boolean(), nullable=False),
        sa.Column("county", sa.String(length=16), nullable=False),
        sa.Column("county_hint", sa.String(length=16), nullable=True),
        sa.Column("routing_note", sa.String(length=500), nullable=True),
        sa.Column("incident_date", sa.Date(), nullable=True),
        sa.Column("amount", sa.Numeric(precision=14, scale=2), nullable=True),
        sa.Column("product", sa.String(length=200), nullable=True),
        sa.Column("order_no", sa.String(length=64), nullable=True),
        sa.Column("demand", sa.String(length=8), nullable=True),
        sa.Column("demand_detail", sa.String(length=1000), nullable=True),
        sa.Column("facts", sa.Text(), nullable=False),
        sa.Column("evidence", sa.JSON(), nullable=False),
        sa.Column("consent_share_contact", sa.Boolean(), nullable=False),
        sa.Column("flags", sa.JSON(), nullable=False),
        sa.Column("warnings", sa.JSON(), nullable=False),
        sa.Column("channel", sa.String(length=32), nullable=True),
        sa.Column("sender_id", sa.String(length=128), nullable=True),
        sa.Column("local_ref", sa.String(length=128), nullable=True),
        sa.Column("idempotency_key", sa.String(length=128), nullable=False),
        sa.Column("request_hash", sa.String(length=64), nullable=False),
        sa.Column("received_at", UTC_DATETIME, nullable=False),
        sa.Column("received_date", sa.Date(), nullable=False),
        sa.Column("accept_deadline", sa.Date(), nullable=False),
        sa.Column("accepted_date", sa.Date(), nullable=True),
        sa.Column("mediation_deadline", sa.Date(), nullable=True),
        sa.Column("deadline_provisional", sa.Boolean(), nullable=False),
        sa.Column("due_date", sa.Date(), nullable=True),
        sa.Column("created_at", UTC_DATETIME, nullable=False),
        sa.Column("updated_at", UTC_DATETIME, nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_tickets")),
        sa.UniqueConstraint("idempotency_key", name=op.f("uq_tickets_idempotency_key")),
        sa.UniqueConstraint("ticket_no", name=op.f("uq_tickets_ticket_no")),
    )
    op.create_index("ix_tickets_county_status_due", "tickets", ["county", "status", "due_date"])
    op.create_index(op.f("ix_tickets_deadline_provisional"), "tickets", ["deadline_provisional"])
    op.create_index(op.f("ix_tickets_due_date"), "tickets", ["due_date"])
    op.create_index(op.f("ix_tickets_status"), "tickets", ["status"])

    op.create_table(
        "ticket_status_events",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("ticket_id", sa.Integer(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("at", UTC_DATETIME, nullable=False),
        sa.Column("actor", sa.String(length=80), nullable=False),
        sa.Column("reason", sa.String(length=1000), nullable=True),
        sa.ForeignKeyConstraint(
            ["ticket_id"], ["tickets.id"], name=op.f("fk_ticket_status_events_ticket_id_tickets")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_ticket_status_events")),
    )
    op.create_index(
        op.f("ix_ticket_status_events_ticket_id"), "ticket_status_events", ["ticket_id"]
    )

    op.create_table(
        "ticket_notes",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("ticket_id", sa.Integer(), nullable=False),
        sa.Column("at", UTC_DATETIME, nullable=False),
        sa.Column("author", sa.String(length=80), nullable=False),
        sa.Column("text", sa.String(length=2000), nullable=False),
        sa.ForeignKeyConstraint(
            ["ticket_id"], ["tickets.id"], name=op.f("fk_ticket_notes_ticket_id_tickets")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_ticket_notes")),
    )
    op.create_index(op.f("ix_ticket_notes_ticket_id"), "ticket_notes", ["ticket_id"])

    op.create_table(
        "ticket_counters",
        sa.Column("year", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("last_seq", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("year", name=op.f("pk_ticket_counters")),
    )

    op.create_table(
        "ticket_lookup_failures",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("scope", sa.String(length=80), nullable=False),
        sa.Column("at", UTC_DATETIME, nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_ticket_lookup_failures")),
    )
    op.create_index("ix_ticket_lookup_failures_scope_at", "ticket_lookup_failures", ["scope", "at"])
    op.create_index(op.f("ix_ticket_lookup_failures_at"), "ticket_lookup_failures", ["at"])

    op.create_table(
        "staff_tokens",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("token_sha256", sa.String(length=64), nullable=False),
        sa.Column("role", sa.String(length=16), nullable=False),
        sa.Column("county", sa.String(length=16), nullable=True),
        sa.Column("name", sa.String(length=64), nullable=False),
        sa.Column("created_at", UTC_DATETIME, nullable=False),
        sa.Column("revoked_at", UTC_DATETIME, nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_staff_tokens")),
        sa.UniqueConstraint("token_sha256", name=op.f("uq_staff_tokens_token_sha256")),
    )

    op.create_table(
        "staff_audit_log",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("at", UTC_DATETIME, nullable=False),
        sa.Column("actor", sa.String(length=80), nullable=False),
        sa.Column("role", sa.String(length=16), nullable=False),
        sa.Column("action", sa.String(length=32), nullable=False),
        sa.Column("ticket_no", sa.String(length=32), nullable=True),
        sa.Column("detail", sa.JSON(), nullable=False),
        sa.Column("client_ip", sa.String(length=64), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_staff_audit_log")),
    )
    op.create_index(op.f("ix_staff_audit_log_at"), "staff_audit_log", ["at"])
    op.create_index(op.f("ix_staff_audit_log_ticket_no"), "staff_audit_log", ["ticket_no"])


def downgrade() -> None:
    op.drop_table("staff_audit_log")
    op.drop_table("staff_tokens")
    op.drop_table("ticket_lookup_failures")
    op.drop_table("ticket_counters")
    op.drop_table("ticket_notes")
    op.drop_table("ticket_status_events")
    op.drop_table("tickets")
