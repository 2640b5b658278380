"""FAQ two-person publishing: an editor's change waits in ``staff_kb_faq.pending``.

Why a column and not a new state: the entry that citizens see must keep serving,
unchanged, while an editor's proposal waits for an admin; the proposal (the whole entry
as submitted, who and when) sits beside it and replaces it only on approval.

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-08
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("staff_kb_faq") as batch:
        batch.add_column(sa.Column("pending", sa.JSON(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("staff_kb_faq") as batch:
        batch.drop_column("pending")
