"""Imported history: ``usage_event.source`` says where a row came from ('api' or 'csv').

Rows written before this revision all came from the API, hence the server default.
A partial index over the imported rows only (``source = 'csv'``) lets an API sync find
and replace the imported rows of the window it stores, and status read where imported
history starts and ends, without scanning the connection's events; API rows never
enter it, so a sync's inserts do not pay for it.

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-20 10:00:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision: str = "0009"
down_revision: str | Sequence[str] | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_IMPORTED = sa.text("source = 'csv'")


def upgrade() -> None:
    with op.batch_alter_table("usage_event") as batch_op:
        batch_op.add_column(
            sa.Column("source", sa.String(8), nullable=False, server_default="api")
        )
    op.create_index(
        "ix_usage_event_imported",
        "usage_event",
        ["connection_id", "occurred_at"],
        sqlite_where=_IMPORTED,
        postgresql_where=_IMPORTED,
    )


def downgrade() -> None:
    op.drop_index("ix_usage_event_imported", table_name="usage_event")
    with op.batch_alter_table("usage_event") as batch_op:
        batch_op.drop_column("source")
