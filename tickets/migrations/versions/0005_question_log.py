"""Question log: ``review_log`` now records every question asked, not only misses.

New columns: the answer's lead document and topic (for 统计), when the citizen rated it,
and the review queue's decision (待改进: resolved or ignored, by whom, when). An index on
``created_at`` serves the date-range statistics and the retention purge. Existing rows
keep their meaning and get NULLs.

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-07
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_COLUMNS = (
    sa.Column("lead_doc", sa.String(length=200), nullable=True),
    sa.Column("topic", sa.String(length=200), nullable=True),
    sa.Column("feedback_at", sa.DateTime(timezone=True), nullable=True),
    sa.Column("review_state", sa.String(length=16), nullable=True),
    sa.Column("reviewed_at", sa.DateTime(timezone=True), nullable=True),
    sa.Column("reviewed_by", sa.String(length=80), nullable=True),
)


def upgrade() -> None:
    with op.batch_alter_table("review_log") as batch:
        for column in _COLUMNS:
            batch.add_column(column.copy())
        batch.create_index("ix_review_log_created_at", ["created_at"])


def downgrade() -> None:
    with op.batch_alter_table("review_log") as batch:
        batch.drop_index("ix_review_log_created_at")
        for column in reversed(_COLUMNS):
            batch.drop_column(column.name)
