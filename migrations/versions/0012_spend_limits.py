"""Spend limits: the audit of changes asked of Cursor, and the limits the spend snapshot shows.

``spend_limit_change`` records each change (who, whom, old, new, when, Cursor's answer);
``spend_snapshot`` gains the person's own limit (``monthlyLimitDollars``) and the hard-limit
override beside the enforced limit it already kept (``limit_dollars``).

Revision ID: 0012
Revises: 0011
Create Date: 2026-11-28 19:30:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import ledger.types

# revision identifiers, used by Alembic.
revision: str = "0012"
down_revision: str | Sequence[str] | None = "0011"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "spend_limit_change",
        sa.Column("workspace_id", sa.Integer(), nullable=False),
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("provider", sa.String(length=32), nullable=False),
        sa.Column("requested_by", sa.String(length=64), nullable=False),
        sa.Column("email", sa.String(length=320), nullable=False),
        sa.Column("old_dollars", sa.Integer(), nullable=True),
        sa.Column("old_effective_dollars", sa.Integer(), nullable=True),
        sa.Column("new_dollars", sa.Integer(), nullable=True),
        sa.Column("requested_at", ledger.types.UTCDateTime(), nullable=False),
        sa.Column("answered_at", ledger.types.UTCDateTime(), nullable=True),
        sa.Column("outcome", sa.String(length=16), nullable=False),
        sa.Column("message", sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(
            ["workspace_id"],
            ["workspace.id"],
            name=op.f("fk_spend_limit_change_workspace_id_workspace"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_spend_limit_change")),
    )
    with op.batch_alter_table("spend_limit_change", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_spend_limit_change_workspace_id"), ["workspace_id"], unique=False
        )
    with op.batch_alter_table("spend_snapshot", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("monthly_limit_dollars", ledger.types.Money(), nullable=True)
        )
        batch_op.add_column(
            sa.Column("limit_override_dollars", ledger.types.Money(), nullable=True)
        )


def downgrade() -> None:
    with op.batch_alter_table("spend_snapshot", schema=None) as batch_op:
        batch_op.drop_column("limit_override_dollars")
        batch_op.drop_column("monthly_limit_dollars")
    with op.batch_alter_table("spend_limit_change", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_spend_limit_change_workspace_id"))
    op.drop_table("spend_limit_change")
