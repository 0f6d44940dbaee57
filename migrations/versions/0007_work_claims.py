"""Work claims: each unit of scheduled work is done by one replica at a time.

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-28 14:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
import ledger.types

# revision identifiers, used by Alembic.
revision: str = '0007'
down_revision: str | Sequence[str] | None = '0006'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('work_claim',
    sa.Column('key', sa.String(length=160), nullable=False),
    sa.Column('owner', sa.String(length=128), nullable=False),
    sa.Column('claimed_at', ledger.types.UTCDateTime(), nullable=False),
    sa.Column('expires_at', ledger.types.UTCDateTime(), nullable=True),
    sa.Column('finished_at', ledger.types.UTCDateTime(), nullable=True),
    sa.PrimaryKeyConstraint('key', name=op.f('pk_work_claim'))
    )


def downgrade() -> None:
    op.drop_table('work_claim')
