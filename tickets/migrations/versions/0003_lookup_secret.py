"""Lookup secret: the random part of the citizen's lookup code (``JM2026-000123-7KQ2XM``).

Ticket numbers are sequential, so the public look-up now needs the number plus six random
characters (``core.ticket_ref``). Tickets filed before this revision get a secret of their
own here; their citizens hold only the number and learn the code through the bot (a
``LOCAL-…`` look-up) or from staff.

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-06
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from core.ticket_ref import new_lookup_secret

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column("tickets", sa.Column("lookup_secret", sa.String(length=8), nullable=True))
    tickets = sa.table("tickets", sa.column("id", sa.Integer), sa.column("lookup_secret"))
    bind = op.get_bind()
    ids = bind.execute(sa.select(tickets.c.id).where(tickets.c.lookup_secret.is_(None))).scalars()
    for ticket_id in list(ids):
        bind.execute(
            tickets.update()
            .where(tickets.c.id == ticket_id)
            .values(lookup_secret=new_lookup_secret())
        )
    with op.batch_alter_table("tickets") as batch:
        batch.alter_column("lookup_secret", existing_type=sa.String(length=8), nullable=False)


def downgrade() -> None:
    with op.batch_alter_table("tickets") as batch:
        batch.drop_column("lookup_secret")
