"""SQL statements compiled once per dialect and run on the driver with positional rows.

The ledger's hot paths (``ledger.ingest``, ``ledger.rollups``) hand rows to the driver in
the backend's stored form; ``insert_for`` gives the dialect's ``insert`` with
``on_conflict_do_update`` for the upserts elsewhere.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import Connection, Dialect
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

StoredRow = tuple[Any, ...]


class DriverStatement:
    """A statement compiled once per dialect, executed on the driver with positional rows.

    Rows are tuples in ``order``, which must be the order of the compiled parameters."""

    def __init__(self, statement: Any, dialect: Dialect, order: Sequence[str]) -> None:
        compiled = statement.compile(dialect=_positional(dialect))
        self.sql = str(compiled)
        names = list(compiled.positiontup or ())
        if names != list(order):
            raise ValueError(f"statement parameters {names} are not in the order {list(order)}")

    def execute(self, connection: Connection, rows: list[StoredRow]) -> None:
        connection.exec_driver_sql(self.sql, rows)


def _positional(dialect: Dialect) -> Dialect:
    """The same dialect, compiling positional parameters (``?`` or ``%s``)."""
    if dialect.positional:
        return dialect
    compiling_dialect: Any = type(dialect)  # every SQLAlchemy dialect takes a paramstyle
    return compiling_dialect(paramstyle="format")  # type: ignore[no-any-return]


def insert_for(dialect: Dialect) -> Any:
    """The dialect's ``insert`` (it has ``on_conflict_do_update``)."""
    return postgresql.insert if dialect.name == "postgresql" else sqlite.insert


def dialect_insert(session: Session) -> Any:
    return insert_for(session.get_bind().dialect)
