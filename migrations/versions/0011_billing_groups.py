"""Billing groups: groups and stays per billing cycle, whether groups can be read, and the
group a budget or a digest schedule covers (``ledger.group_models``).

Revision ID: 0011
Revises: 0010
Create Date: 2026-11-28 19:10:40.914568
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
import ledger.types

# revision identifiers, used by Alembic.
revision: str = "0011"
down_revision: str | Sequence[str] | None = "0010"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "billing_group_cycle",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("connection_id", sa.Integer(), nullable=False),
        sa.Column("cycle_start", ledger.types.UTCDateTime(), nullable=False),
        sa.Column("cycle_end", ledger.types.UTCDateTime(), nullable=False),
        sa.Column("group_id", sa.String(length=64), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("spend_cents", ledger.types.Money(), nullable=False),
        sa.Column("read_at", ledger.types.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["connection_id"],
            ["connection.id"],
            name=op.f("fk_billing_group_cycle_connection_id_connection"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_billing_group_cycle")),
        sa.UniqueConstraint(
            "connection_id",
            "cycle_start",
            "group_id",
            name=op.f("uq_billing_group_cycle_connection_id"),
        ),
    )
    op.create_table(
        "billing_group_stay",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("connection_id", sa.Integer(), nullable=False),
        sa.Column("cycle_start", ledger.types.UTCDateTime(), nullable=False),
        sa.Column("group_id", sa.String(length=64), nullable=False),
        sa.Column("email", sa.String(length=320), nullable=False),
        sa.Column("joined_at", ledger.types.UTCDateTime(), nullable=False),
        sa.Column("left_at", ledger.types.UTCDateTime(), nullable=True),
        sa.ForeignKeyConstraint(
            ["connection_id"],
            ["connection.id"],
            name=op.f("fk_billing_group_stay_connection_id_connection"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_billing_group_stay")),
        sa.UniqueConstraint(
            "connection_id",
            "cycle_start",
            "group_id",
            "email",
            "joined_at",
            name=op.f("uq_billing_group_stay_connection_id"),
        ),
    )
    with op.batch_alter_table("billing_group_stay", schema=None) as batch_op:
        batch_op.create_index(
            "ix_billing_group_stay_cycle", ["connection_id", "cycle_start"], unique=False
        )

    op.create_table(
        "group_budget",
        sa.Column("budget_id", sa.Integer(), nullable=False),
        sa.Column("group_id", sa.String(length=64), nullable=False),
        sa.Column("group_name", sa.String(length=200), nullable=False),
        sa.ForeignKeyConstraint(
            ["budget_id"],
            ["budget.id"],
            name=op.f("fk_group_budget_budget_id_budget"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("budget_id", name=op.f("pk_group_budget")),
    )
    op.create_table(
        "group_digest",
        sa.Column("schedule_id", sa.Integer(), nullable=False),
        sa.Column("group_id", sa.String(length=64), nullable=False),
        sa.Column("group_name", sa.String(length=200), nullable=False),
        sa.ForeignKeyConstraint(
            ["schedule_id"],
            ["digest_schedule.id"],
            name=op.f("fk_group_digest_schedule_id_digest_schedule"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("schedule_id", name=op.f("pk_group_digest")),
    )
    op.create_table(
        "group_sync_state",
        sa.Column("connection_id", sa.Integer(), nullable=False),
        sa.Column("available", sa.Boolean(), nullable=False),
        sa.Column("reason", sa.Text(), nullable=True),
        sa.Column("checked_at", ledger.types.UTCDateTime(), nullable=False),
        sa.Column("synced_at", ledger.types.UTCDateTime(), nullable=True),
        sa.Column("cycles_read", sa.Integer(), nullable=False),
        sa.Column("requests", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["connection_id"],
            ["connection.id"],
            name=op.f("fk_group_sync_state_connection_id_connection"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("connection_id", name=op.f("pk_group_sync_state")),
    )


def downgrade() -> None:
    op.drop_table("group_sync_state")
    op.drop_table("group_digest")
    op.drop_table("group_budget")
    with op.batch_alter_table("billing_group_stay", schema=None) as batch_op:
        batch_op.drop_index("ix_billing_group_stay_cycle")

    op.drop_table("billing_group_stay")
    op.drop_table("billing_group_cycle")
