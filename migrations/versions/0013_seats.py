"""Seats: a workspace's seat price, when members joined or left the team, and an index of
each person's daily usage rows by day (their last active day).

Revision ID: 0013
Revises: 0012
Create Date: 2026-11-28 19:10:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import ledger.types

# revision identifiers, used by Alembic.
revision: str = "0013"
down_revision: str | Sequence[str] | None = "0012"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "seat_setting",
        sa.Column("workspace_id", sa.Integer(), nullable=False),
        sa.Column("seat_price_cents", sa.BigInteger(), nullable=True),
        sa.Column("updated_by", sa.String(length=32), nullable=False),
        sa.Column("updated_at", ledger.types.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["workspace_id"],
            ["workspace.id"],
            name=op.f("fk_seat_setting_workspace_id_workspace"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("workspace_id", name=op.f("pk_seat_setting")),
    )
    op.create_table(
        "seat_change",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("connection_id", sa.Integer(), nullable=False),
        sa.Column("email", sa.String(length=320), nullable=False),
        sa.Column("kind", sa.String(length=8), nullable=False),
        sa.Column("at", ledger.types.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["connection_id"],
            ["connection.id"],
            name=op.f("fk_seat_change_connection_id_connection"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_seat_change")),
        sa.UniqueConstraint(
            "connection_id", "email", "at", "kind", name=op.f("uq_seat_change_connection_id")
        ),
    )
    op.create_index("ix_seat_change_connection_at", "seat_change", ["connection_id", "at"])
    op.create_index(
        "ix_daily_activity_email_day", "daily_activity", ["connection_id", "email", "day"]
    )


def downgrade() -> None:
    op.drop_index("ix_daily_activity_email_day", table_name="daily_activity")
    op.drop_index("ix_seat_change_connection_at", table_name="seat_change")
    op.drop_table("seat_change")
    op.drop_table("seat_setting")
