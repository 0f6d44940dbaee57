"""Sync kinds: a sync run says whether it was light or deep and how many requests it sent.

Runs from before are deep (every sync re-read the whole overlap) and their request
count is unknown (0).

Revision ID: 0015
Revises: 0014
Create Date: 2026-11-28 19:30:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision: str = "0015"
down_revision: str | Sequence[str] | None = "0014"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("sync_run", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("kind", sa.String(length=8), server_default="deep", nullable=False)
        )
        batch_op.add_column(
            sa.Column("cursor_requests", sa.Integer(), server_default="0", nullable=False)
        )


def downgrade() -> None:
    with op.batch_alter_table("sync_run", schema=None) as batch_op:
        batch_op.drop_column("cursor_requests")
        batch_op.drop_column("kind")
