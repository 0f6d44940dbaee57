"""Alert rows: built from the ``Alert`` model, inserted in bulk once per dedupe key."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

from sqlalchemy import Table, bindparam, cast, func, select
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlmodel import Session, col
from sqlmodel import select as orm_select

from ledger.models import Alert

ALERTS: Table = Alert.__table__  # type: ignore[attr-defined]
#: Rows per INSERT or per ``IN (...)`` list.
CHUNK = 2000
_COLUMNS = tuple(column.name for column in ALERTS.columns if column.name != "id")

Row = dict[str, Any]


def alert_row(**fields: Any) -> Row:
    """Every column of a new alert: the model's defaults, then ``fields``."""
    alert = Alert(**fields)
    return {name: getattr(alert, name) for name in _COLUMNS}


def chunks(items: Sequence[Any], size: int = CHUNK) -> Iterable[Sequence[Any]]:
    for index in range(0, len(items), size):
        yield items[index : index + size]


def insert_rows(session: Session, rows: Sequence[Row]) -> list[int]:
    """Insert the rows whose key is still free; the ids of those inserted."""
    ids: list[int] = []
    postgresql = session.get_bind().dialect.name == "postgresql"
    for chunk in chunks(rows):
        if postgresql:
            ids.extend(session.execute(_unnest_insert(chunk)).scalars())
        else:
            statement = sqlite_insert(ALERTS).on_conflict_do_nothing(index_elements=["dedupe_key"])
            ids.extend(session.execute(statement.returning(ALERTS.c.id), list(chunk)).scalars())
    return ids


def _unnest_insert(rows: Sequence[Row]) -> Any:
    """One INSERT ... SELECT FROM unnest(arrays): one parameter a column, not one a value.

    (psycopg parses a many-row VALUES statement's placeholders in Python: seconds for
    thousands of rows; arrays go as single values.)
    """
    columns = list(rows[0])
    arrays = [
        cast(bindparam(f"rows_{name}", [row[name] for row in rows], type_=ARRAY(kind)), ARRAY(kind))
        for name in columns
        for kind in [ALERTS.c[name].type]
    ]
    source = select(*(func.unnest(array) for array in arrays))
    return (
        pg_insert(ALERTS)
        .from_select(columns, source)
        .on_conflict_do_nothing(index_elements=["dedupe_key"])
        .returning(ALERTS.c.id)
    )


def alerts_by_id(session: Session, ids: Sequence[int]) -> list[Alert]:
    """The alerts with these ids: one range read (ids of one insert are close), then kept."""
    if not ids:
        return []
    wanted = set(ids)
    query = (
        orm_select(Alert)
        .where(col(Alert.id) >= min(wanted), col(Alert.id) <= max(wanted))
        .order_by(col(Alert.id))
    )
    return [alert for alert in session.exec(query).all() if alert.id in wanted]
