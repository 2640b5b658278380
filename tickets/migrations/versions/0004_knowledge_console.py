"""Knowledge console: uploaded documents and their chunks, FAQ overlay, versions, jobs.

The audit log gains ``entity`` and ``entity_id`` so knowledge changes (with their
before/after snapshots in ``detail``) can be listed per document or FAQ entry.

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-06
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

UTC_DATETIME = sa.DateTime(timezone=True)

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "staff_kb_documents",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("title", sa.String(length=300), nullable=False),
        sa.Column("date", sa.Date(), nullable=True),
        sa.Column("issuer", sa.String(length=200), nullable=True),
        sa.Column("region", sa.String(length=64), nullable=True),
        sa.Column("effective_from", sa.Date(), nullable=True),
        sa.Column("repealed_on", sa.Date(), nullable=True),
        sa.Column("superseded_by", sa.String(length=300), nullable=True),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("filename", sa.String(length=300), nullable=False),
        sa.Column("stored_path", sa.String(length=1000), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("meta", sa.JSON(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("created_at", UTC_DATETIME, nullable=False),
        sa.Column("updated_at", UTC_DATETIME, nullable=False),
        sa.Column("updated_by", sa.String(length=80), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_staff_kb_documents")),
    )
    with op.batch_alter_table("staff_kb_documents", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_staff_kb_documents_state"), ["state"], unique=False)

    op.create_table(
        "staff_kb_faq",
        sa.Column("id", sa.String(length=64), nullable=False),
        sa.Column("topic", sa.String(length=64), nullable=False),
        sa.Column("questions", sa.JSON(), nullable=False),
        sa.Column("answer", sa.Text(), nullable=False),
        sa.Column("sources", sa.JSON(), nullable=False),
        sa.Column("date", sa.Date(), nullable=True),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("overrides_seed", sa.Boolean(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("updated_at", UTC_DATETIME, nullable=False),
        sa.Column("updated_by", sa.String(length=80), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_staff_kb_faq")),
    )
    op.create_table(
        "staff_kb_jobs",
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("progress", sa.Numeric(precision=5, scale=4), nullable=False),
        sa.Column("message", sa.String(length=1000), nullable=False),
        sa.Column("document_id", sa.Integer(), nullable=True),
        sa.Column("created_at", UTC_DATETIME, nullable=False),
        sa.Column("finished_at", UTC_DATETIME, nullable=True),
        sa.Column("actor", sa.String(length=80), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_staff_kb_jobs")),
    )
    with op.batch_alter_table("staff_kb_jobs", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_staff_kb_jobs_state"), ["state"], unique=False)

    op.create_table(
        "staff_kb_versions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("entity", sa.String(length=16), nullable=False),
        sa.Column("entity_id", sa.String(length=64), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("snapshot", sa.JSON(), nullable=False),
        sa.Column("action", sa.String(length=32), nullable=False),
        sa.Column("at", UTC_DATETIME, nullable=False),
        sa.Column("actor", sa.String(length=80), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_staff_kb_versions")),
    )
    with op.batch_alter_table("staff_kb_versions", schema=None) as batch_op:
        batch_op.create_index(
            "ix_staff_kb_versions_entity", ["entity", "entity_id", "version"], unique=False
        )

    op.create_table(
        "staff_kb_chunks",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("document_id", sa.Integer(), nullable=False),
        sa.Column("chunk_id", sa.String(length=80), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("label", sa.String(length=80), nullable=False),
        sa.Column("heading", sa.String(length=300), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("disabled", sa.Boolean(), nullable=False),
        sa.ForeignKeyConstraint(
            ["document_id"],
            ["staff_kb_documents.id"],
            name=op.f("fk_staff_kb_chunks_document_id_staff_kb_documents"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_staff_kb_chunks")),
    )
    with op.batch_alter_table("staff_kb_chunks", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_staff_kb_chunks_document_id"), ["document_id"], unique=False
        )

    with op.batch_alter_table("staff_audit_log", schema=None) as batch_op:
        batch_op.add_column(sa.Column("entity", sa.String(length=16), nullable=True))
        batch_op.add_column(sa.Column("entity_id", sa.String(length=64), nullable=True))
        batch_op.create_index(batch_op.f("ix_staff_audit_log_entity"), ["entity"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("staff_audit_log", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_staff_audit_log_entity"))
        batch_op.drop_column("entity_id")
        batch_op.drop_column("entity")

    with op.batch_alter_table("staff_kb_chunks", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_staff_kb_chunks_document_id"))

    op.drop_table("staff_kb_chunks")
    with op.batch_alter_table("staff_kb_versions", schema=None) as batch_op:
        batch_op.drop_index("ix_staff_kb_versions_entity")

    op.drop_table("staff_kb_versions")
    with op.batch_alter_table("staff_kb_jobs", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_staff_kb_jobs_state"))

    op.drop_table("staff_kb_jobs")
    op.drop_table("staff_kb_faq")
    with op.batch_alter_table("staff_kb_documents", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_staff_kb_documents_state"))

    op.drop_table("staff_kb_documents")
