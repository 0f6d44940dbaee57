"""Lists as JSON arrays: budget thresholds and notify_user_ids, digest schedule sections.

They were comma-separated text. Upgrade parses every row's text into a list, as the
code read it (thresholds: whole percentages, ascending, each once; user ids: each once,
in order; sections: in order); downgrade joins the lists back with commas.

Revision ID: 0006
Revises: 0004
Create Date: 2026-12-02 10:00:00.000000
"""

from collections.abc import Callable, Iterable, Sequence
from typing import Any

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision: str = "0006"
down_revision: str | Sequence[str] | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _parts(text: str | None) -> list[str]:
    return [part.strip() for part in (text or "").split(",") if part.strip()]


def _percentages(text: str | None) -> list[int]:
    """Whole percentages, ascending, each once (a part that is not a number is dropped:
    no version could read it)."""
    return sorted({int(part) for part in _parts(text) if part.isdecimal()})


def _each_once(text: str | None) -> list[str]:
    return list(dict.fromkeys(_parts(text)))


def _joined(items: Iterable[Any] | None) -> str:
    return ",".join(str(item) for item in items or ())


#: (table, column, its type as text, how its text becomes a list)
COLUMNS: list[tuple[str, str, sa.types.TypeEngine[Any], Callable[[str | None], list[Any]]]] = [
    ("budget", "thresholds", sa.String(length=200), _percentages),
    ("budget", "notify_user_ids", sa.Text(), _each_once),
    ("digest_schedule", "sections", sa.String(length=200), _parts),
]


def _refuse_cascading_sqlite() -> None:
    """Batch mode copies a SQLite table and drops the old one: with foreign keys on, that
    drop would delete every alert of every budget (ON DELETE CASCADE)."""
    bind = op.get_bind()
    if bind.dialect.name == "sqlite" and bind.exec_driver_sql("PRAGMA foreign_keys").scalar():
        raise RuntimeError("run this migration with PRAGMA foreign_keys=OFF (ledger.migrate does)")


def _retype(
    table: str,
    column: str,
    old_type: sa.types.TypeEngine[Any],
    new_type: sa.types.TypeEngine[Any],
    convert: Callable[[Any], Any],
) -> None:
    """Replace ``column`` by one of ``new_type`` holding ``convert`` of each row's value."""
    staging = f"{column}_new"
    with op.batch_alter_table(table) as batch_op:
        batch_op.add_column(sa.Column(staging, new_type, nullable=True))
    rows = sa.table(
        table, sa.column("id", sa.Integer()), sa.column(column, old_type), sa.column(staging, new_type)
    )
    bind = op.get_bind()
    values = [
        {"row_id": row_id, "value": convert(value)}
        for row_id, value in bind.execute(sa.select(rows.c.id, rows.c[column]))
    ]
    if values:
        bind.execute(
            sa.update(rows)
            .where(rows.c.id == sa.bindparam("row_id"))
            .values({staging: sa.bindparam("value", type_=new_type)}),
            values,
        )
    with op.batch_alter_table(table) as batch_op:
        batch_op.drop_column(column)
        batch_op.alter_column(
            staging, new_column_name=column, existing_type=new_type, nullable=False
        )


def upgrade() -> None:
    _refuse_cascading_sqlite()
    for table, column, text_type, parse in COLUMNS:
        _retype(table, column, text_type, sa.JSON(), parse)


def downgrade() -> None:
    _refuse_cascading_sqlite()
    for table, column, text_type, _ in reversed(COLUMNS):
        _retype(table, column, sa.JSON(), text_type, _joined)
