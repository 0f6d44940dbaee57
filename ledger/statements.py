"""SQL statements compiled once per dialect and run on the driver with positional rows.

The ledger's hot paths (``ledger.ingest``, ``ledger.rollups``) hand rows to the driver in
the backend's stored form; ``insert_for`` gives the dialect's ``insert`` with
``on_conflict_do_update`` for the upserts elsewhere.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import Connection, Dialect, Table
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


class ManyRowsInsert:
    """``INSERT INTO table (columns)`` of many rows, the fastest way the backend takes them.

    On PostgreSQL the rows go by ``COPY`` (psycopg formats them in C), straight into the
    table, or, when ``suffix`` is given (an ``ON CONFLICT`` clause), into a temporary
    table first and from there with one ``INSERT ... SELECT ... suffix``: psycopg's
    ``executemany`` costs a statement's Python machinery per row, which was most of an
    ingest's time there. On SQLite (in process) it is the driver's ``executemany`` of
    ``INSERT ... VALUES (...) suffix``. Rows are tuples in ``columns`` order.
    """

    def __init__(
        self, table: Table, columns: Sequence[str], dialect: Dialect, suffix: str = ""
    ) -> None:
        names = ", ".join(columns)
        self.copying = dialect.name == "postgresql"
        self.staging: tuple[str, ...] = ()
        if not self.copying:
            marks = ", ".join("?" * len(columns))
            self.sql = f"INSERT INTO {table.name} ({names}) VALUES ({marks}){suffix}"
        elif not suffix:
            self.sql = f"COPY {table.name} ({names}) FROM STDIN"
        else:
            temporary = f"ledger_staged_{table.name}"
            self.staging = (
                f"CREATE TEMPORARY TABLE IF NOT EXISTS {temporary}"
                f" AS SELECT {names} FROM {table.name} WITH NO DATA",
                f"TRUNCATE {temporary}",
            )
            self.sql = f"COPY {temporary} ({names}) FROM STDIN"
            self.staged = (
                f"INSERT INTO {table.name} ({names}) SELECT {names} FROM {temporary}{suffix}"
            )

    def execute(self, connection: Connection, rows: list[StoredRow]) -> None:
        if not rows:
            return
        if not self.copying:
            connection.exec_driver_sql(self.sql, rows)
            return
        for statement in self.staging:
            connection.exec_driver_sql(statement)
        driver: Any = connection.connection.driver_connection
        with driver.cursor() as cursor, cursor.copy(self.sql) as copy:
            write = copy.write_row
            for row in rows:
                write(row)
        if self.staging:
            connection.exec_driver_sql(self.staged)


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
