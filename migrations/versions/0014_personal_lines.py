"""Personal lines: who asked for their own daily or weekly spend in a DM.

Revision ID: 0014
Revises: 0013
Create Date: 2026-11-28 19:20:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import ledger.types

# revision identifiers, used by Alembic.
revision: str = "0014"
down_revision: str | Sequence[str] | None = "0013"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "personal_subscription",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("workspace_id", sa.Integer(), nullable=False),
        sa.Column("slack_user_id", sa.String(length=32), nullable=False),
        sa.Column("cadence", sa.String(length=8), nullable=False),
        sa.Column("local_time", sa.Time(), nullable=False),
        sa.Column("timezone", sa.String(length=64), nullable=False),
        sa.Column("subscribed_at", ledger.types.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["workspace_id"],
            ["workspace.id"],
            name=op.f("fk_personal_subscription_workspace_id_workspace"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_personal_subscription")),
        sa.UniqueConstraint(
            "workspace_id", "slack_user_id", name=op.f("uq_personal_subscription_workspace_id")
        ),
    )
    with op.batch_alter_table("personal_subscription", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_personal_subscription_workspace_id"), ["workspace_id"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("personal_subscription", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_personal_subscription_workspace_id"))
    op.drop_table("personal_subscription")
