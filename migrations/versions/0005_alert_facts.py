"""Alert facts: an alert keeps the figures it is about, and no words.

The title and detail columns go (digests render them from the facts); the facts
they were written from that had no column get one. Rows in place are given the
facts that can be recovered: the provider, the budget's period, a health alert's
cause (from its dedupe key) and its key hint as the subject.

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-29 09:12:40.118204
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
import ledger.types

# revision identifiers, used by Alembic.
revision: str = '0005'
down_revision: str | Sequence[str] | None = '0004'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_CAUSES = ('revoked', 'failing', 'stale')
#: The connection label ("Cursor …1234") that health alerts had as their subject.
_LABEL = 'Cursor '


def upgrade() -> None:
    with op.batch_alter_table('alert', schema=None) as batch_op:
        batch_op.add_column(sa.Column('provider', sa.String(length=32), server_default='cursor', nullable=False))
        batch_op.add_column(sa.Column('period', sa.String(length=16), nullable=True))
        batch_op.add_column(sa.Column('period_end', sa.Date(), nullable=True))
        batch_op.add_column(sa.Column('rate_weekday_cents', ledger.types.Money(), nullable=True))
        batch_op.add_column(sa.Column('rate_weekend_cents', ledger.types.Money(), nullable=True))
        batch_op.add_column(sa.Column('baseline_cents', ledger.types.Money(), nullable=True))
        batch_op.add_column(sa.Column('baseline_days', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('cause', sa.String(length=16), nullable=True))
        batch_op.add_column(sa.Column('since', ledger.types.UTCDateTime(), nullable=True))
        batch_op.add_column(sa.Column('error', sa.Text(), nullable=True))
        batch_op.add_column(sa.Column('retention_days', sa.Integer(), nullable=True))
        batch_op.drop_column('title')
        batch_op.drop_column('detail')
    alert = sa.table(
        'alert',
        sa.column('budget_id', sa.Integer()),
        sa.column('kind', sa.String()),
        sa.column('dedupe_key', sa.String()),
        sa.column('subject', sa.String()),
        sa.column('period', sa.String()),
        sa.column('cause', sa.String()),
    )
    budget = sa.table('budget', sa.column('id', sa.Integer()), sa.column('period', sa.String()))
    period = sa.select(budget.c.period).where(budget.c.id == alert.c.budget_id).scalar_subquery()
    op.execute(alert.update().where(alert.c.budget_id.is_not(None)).values(period=period))
    health = alert.c.kind == 'health'
    for cause in _CAUSES:
        op.execute(
            alert.update()
            .where(health, alert.c.dedupe_key.like(f'health:%:{cause}:%'))
            .values(cause=cause)
        )
    op.execute(
        alert.update()
        .where(health, alert.c.subject.like(f'{_LABEL}%'))
        .values(subject=sa.func.substr(alert.c.subject, len(_LABEL) + 1))
    )


def downgrade() -> None:
    with op.batch_alter_table('alert', schema=None) as batch_op:
        batch_op.add_column(sa.Column('detail', sa.Text(), server_default='', nullable=False))
        batch_op.add_column(sa.Column('title', sa.String(length=200), server_default='', nullable=False))
        batch_op.drop_column('retention_days')
        batch_op.drop_column('error')
        batch_op.drop_column('since')
        batch_op.drop_column('cause')
        batch_op.drop_column('baseline_days')
        batch_op.drop_column('baseline_cents')
        batch_op.drop_column('rate_weekend_cents')
        batch_op.drop_column('rate_weekday_cents')
        batch_op.drop_column('period_end')
        batch_op.drop_column('period')
        batch_op.drop_column('provider')
    alert = sa.table('alert', sa.column('kind', sa.String()), sa.column('subject', sa.String()))
    op.execute(
        alert.update()
        .where(alert.c.kind == 'health', alert.c.subject.not_like(f'{_LABEL}%'))
        .values(subject=_LABEL + alert.c.subject)
    )
