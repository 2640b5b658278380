"""Review log: the action server's feedback and unanswered questions, now under Alembic.

Until this revision the action server created ``review_log`` itself (``create_all``), so
a database that already served chats has the table: it is adopted as it is (same
columns), and only a database without it gets a new one.

Revision ID: 0002
Revises: 0001
Create Date: 2026-12-02
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    if "review_log" in sa.inspect(op.get_bind()).get_table_names():
        return
    op.create_table(
        "review_log",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("sender_id", sa.String(length=128), nullable=True),
        sa.Column("channel", sa.String(length=64), nullable=True),
        sa.Column("question", sa.Text(), nullable=False),
        sa.Column("answer", sa.Text(), nullable=True),
        sa.Column("abstained", sa.Boolean(), nullable=False),
        sa.Column("feedback", sa.String(length=16), nullable=True),
        sa.Column("citations", sa.JSON(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_review_log")),
    )


def downgrade() -> None:
    op.drop_table("review_log")
