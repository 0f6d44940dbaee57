"""Coarse rollups: usage_rollup summed per (day, user), (local month, user), (day, model).

Reports of a cycle by user or 30 days by model read these instead of a month of
day x user x model rows (``ledger.coarse_rollups``). Filled here from usage_rollup with
the same sums the ingest path keeps adding to them.

Revision ID: 0010
Revises: 0009
(The import branch adds 0009: once merged, this revises 0009 instead.)
Create Date: 2026-11-28 17:00:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import ledger.types

# revision identifiers, used by Alembic.
revision: str = "0010"
down_revision: str | Sequence[str] | None = "0009"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

MEASURES = (
    "events",
    "request_units",
    "input_tokens",
    "output_tokens",
    "cache_read_tokens",
    "cache_write_tokens",
    "charged_cents",
)


def _backfill(month: str) -> list[str]:
    """INSERT ... SELECT per grain; ``month`` is the dialect's first day of ``day``'s month."""
    sums = ", ".join(f"SUM({m})" for m in MEASURES)
    target = (
        "INSERT INTO usage_rollup_coarse (connection_id, grain, day, user_email, model, "
        f"kind_class, {', '.join(MEASURES)}) "
    )
    return [
        f"{target}SELECT connection_id, 'ud', day, user_email, '', kind_class, {sums} "
        "FROM usage_rollup GROUP BY connection_id, day, user_email, kind_class",
        f"{target}SELECT connection_id, 'um', {month}, user_email, '', kind_class, {sums} "
        f"FROM usage_rollup GROUP BY connection_id, {month}, user_email, kind_class",
        f"{target}SELECT connection_id, 'md', day, '', model, kind_class, {sums} "
        "FROM usage_rollup GROUP BY connection_id, day, model, kind_class",
    ]


def upgrade() -> None:
    op.create_table(
        "usage_rollup_coarse",
        sa.Column("connection_id", sa.Integer(), nullable=False),
        sa.Column("grain", sa.String(length=2), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("user_email", sa.String(length=320), nullable=False),
        sa.Column("model", sa.String(length=128), nullable=False),
        sa.Column("kind_class", sa.String(length=16), nullable=False),
        sa.Column("events", sa.Integer(), nullable=False),
        sa.Column("request_units", ledger.types.Money(), nullable=False),
        sa.Column("input_tokens", sa.BigInteger(), nullable=False),
        sa.Column("output_tokens", sa.BigInteger(), nullable=False),
        sa.Column("cache_read_tokens", sa.BigInteger(), nullable=False),
        sa.Column("cache_write_tokens", sa.BigInteger(), nullable=False),
        sa.Column("charged_cents", ledger.types.Money(), nullable=False),
        sa.ForeignKeyConstraint(
            ["connection_id"],
            ["connection.id"],
            name=op.f("fk_usage_rollup_coarse_connection_id_connection"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint(
            "connection_id",
            "grain",
            "day",
            "user_email",
            "model",
            "kind_class",
            name=op.f("pk_usage_rollup_coarse"),
        ),
        sqlite_with_rowid=False,
    )
    sqlite = op.get_bind().dialect.name == "sqlite"
    month = "substr(day, 1, 8) || '01'" if sqlite else "CAST(date_trunc('month', day) AS date)"
    for statement in _backfill(month):
        op.execute(statement)


def downgrade() -> None:
    op.drop_table("usage_rollup_coarse")
