"""Writing usage events and the rollups they change, idempotently.

``ingest_events`` takes one page of neutral events and, inside the caller's
transaction, inserts the new ones, replaces revised ones and adjusts the
rollups by exactly the difference. Reading the same page again changes nothing.
"""

from __future__ import annotations

import functools
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import Connection, Dialect, Table, bindparam, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from connectors.records import UNKNOWN_USER, UsageEvent
from ledger.models import UsageEventRow, UsageRollup
from ledger.types import (
    Money,
    UTCDateTime,
    datetime_to_sqlite,
    money_to_sqlite,
    quantize_money,
)

EVENTS: Table = UsageEventRow.__table__  # type: ignore[attr-defined]
ROLLUPS: Table = UsageRollup.__table__  # type: ignore[attr-defined]

#: Event columns whose change makes an event "revised".
VALUE_COLUMNS = (
    "occurred_at",
    "user_email",
    "model",
    "kind",
    "kind_class",
    "max_mode",
    "is_chargeable",
    "is_headless",
    "is_token_based",
    "request_units",
    "input_tokens",
    "output_tokens",
    "cache_read_tokens",
    "cache_write_tokens",
    "model_cost_cents",
    "token_fee_cents",
    "charged_cents",
    "conversation_id",
    "service_account_id",
    "cloud_agent_id",
)
_MONEY_COLUMNS = frozenset(
    {"request_units", "model_cost_cents", "token_fee_cents", "charged_cents"}
)

#: Rollup dimensions after ``connection_id``, and the measures summed into them.
ROLLUP_KEY = ("day", "user_email", "model", "kind_class")
ROLLUP_MEASURES = (
    "events",
    "request_units",
    "input_tokens",
    "output_tokens",
    "cache_read_tokens",
    "cache_write_tokens",
    "charged_cents",
)

RollupKey = tuple[date, str, str, str]
_KEY_CHUNK = 500


@dataclass
class IngestResult:
    seen: int = 0
    new: int = 0
    revised: int = 0

    def add(self, other: IngestResult) -> None:
        self.seen += other.seen
        self.new += other.new
        self.revised += other.revised


class RollupDeltas:
    """Measures to add to rollup rows, accumulated in memory then applied at once."""

    def __init__(self, tz: ZoneInfo) -> None:
        self._tz = tz
        self._deltas: dict[RollupKey, list[Any]] = {}

    def add(self, values: dict[str, Any], sign: int) -> None:
        day = values["occurred_at"].astimezone(self._tz).date()
        key = (day, values["user_email"], values["model"], values["kind_class"])
        delta = self._deltas.get(key)
        if delta is None:
            delta = self._deltas[key] = [0, Decimal(0), 0, 0, 0, 0, Decimal(0)]
        delta[0] += sign
        delta[1] += sign * values["request_units"]
        delta[2] += sign * values["input_tokens"]
        delta[3] += sign * values["output_tokens"]
        delta[4] += sign * values["cache_read_tokens"]
        delta[5] += sign * values["cache_write_tokens"]
        delta[6] += sign * values["charged_cents"]

    def rows(self, connection_id: int) -> list[dict[str, Any]]:
        return [
            {
                "connection_id": connection_id,
                **dict(zip(ROLLUP_KEY, key, strict=True)),
                **dict(zip(ROLLUP_MEASURES, delta, strict=True)),
            }
            for key, delta in self._deltas.items()
            if any(delta)
        ]

    def apply(self, session: Session, connection_id: int) -> None:
        rows = self.rows(connection_id)
        if rows:
            session.execute(_rollup_upsert(session), rows)
        self._deltas.clear()


class BulkInsert:
    """A many-row INSERT sent straight to the driver, each value bound by its column type.

    SQLAlchemy's ``executemany`` spends most of an ingest's time preparing parameters;
    here the statement is compiled once per dialect and the values of each row go
    through the same bind processors (``Money``, ``UTCDateTime``, dates) in one pass.
    """

    def __init__(self, table: Table, columns: Sequence[str], dialect: Dialect) -> None:
        statement = table.insert().values({c: bindparam(c, type_=table.c[c].type) for c in columns})
        compiled = statement.compile(dialect=dialect)
        self.sql = str(compiled)
        self.names: list[str] = list(compiled.positiontup or columns)
        self.positional = bool(compiled.positional)
        self.processors = [self._processor(table.c[name].type, dialect) for name in self.names]

    @staticmethod
    def _processor(column_type: Any, dialect: Dialect) -> Any:
        if dialect.name == "sqlite" and isinstance(column_type, Money):
            return money_to_sqlite  # rows come from event_values: already quantized
        if dialect.name == "sqlite" and isinstance(column_type, UTCDateTime):
            return datetime_to_sqlite
        return column_type.dialect_impl(dialect).bind_processor(dialect)

    def execute(self, connection: Connection, rows: Sequence[dict[str, Any]]) -> None:
        pairs = list(zip(self.names, self.processors, strict=True))
        bound = [
            [row[name] if process is None else process(row[name]) for name, process in pairs]
            for row in rows
        ]
        if self.positional:
            connection.exec_driver_sql(self.sql, [tuple(values) for values in bound])
        else:
            connection.exec_driver_sql(
                self.sql, [dict(zip(self.names, values, strict=True)) for values in bound]
            )


@functools.lru_cache(maxsize=8)
def event_insert(dialect: Dialect) -> BulkInsert:
    return BulkInsert(EVENTS, ["connection_id", "natural_key", *VALUE_COLUMNS], dialect)


def dialect_insert(session: Session) -> Any:
    name = session.get_bind().dialect.name
    return postgresql.insert if name == "postgresql" else sqlite.insert


def _rollup_upsert(session: Session) -> Any:
    stmt = dialect_insert(session)(ROLLUPS)
    return stmt.on_conflict_do_update(
        index_elements=["connection_id", *ROLLUP_KEY],
        set_={m: ROLLUPS.c[m] + stmt.excluded[m] for m in ROLLUP_MEASURES},
    )


def event_values(event: UsageEvent) -> dict[str, Any]:
    values = {column: getattr(event, column) for column in VALUE_COLUMNS}
    for column in _MONEY_COLUMNS:
        values[column] = quantize_money(values[column])
    return values


def _existing(
    session: Session, connection_id: int, keys: Sequence[str]
) -> dict[str, dict[str, Any]]:
    found: dict[str, dict[str, Any]] = {}
    columns = [EVENTS.c.id, EVENTS.c.natural_key, *(EVENTS.c[c] for c in VALUE_COLUMNS)]
    for i in range(0, len(keys), _KEY_CHUNK):
        chunk = keys[i : i + _KEY_CHUNK]
        query = select(*columns).where(
            EVENTS.c.connection_id == connection_id, EVENTS.c.natural_key.in_(chunk)
        )
        for row in session.execute(query).mappings():
            found[row["natural_key"]] = dict(row)
    return found


def ingest_events(
    session: Session, *, connection_id: int, tz: ZoneInfo, events: Iterable[UsageEvent]
) -> IngestResult:
    """Upsert one batch of events and the rollups they change. The caller commits."""
    latest: dict[str, UsageEvent] = {}
    for event in events:
        latest[event.natural_key] = event  # a page may repeat an event: the last copy wins
    result = IngestResult(seen=len(latest))
    if not latest:
        return result
    existing = _existing(session, connection_id, list(latest))
    deltas = RollupDeltas(tz)
    inserts: list[dict[str, Any]] = []
    updates: list[dict[str, Any]] = []
    for key, event in latest.items():
        values = event_values(event)
        old = existing.get(key)
        if old is None:
            deltas.add(values, +1)
            inserts.append({"connection_id": connection_id, "natural_key": key, **values})
            continue
        if event.email_missing and old["user_email"] != UNKNOWN_USER:
            values["user_email"] = old["user_email"]  # the provider forgot who it was; we did not
        if all(old[c] == values[c] for c in VALUE_COLUMNS):
            continue
        deltas.add(old, -1)
        deltas.add(values, +1)
        updates.append({"_id": old["id"], **{f"v_{c}": v for c, v in values.items()}})
    if inserts:
        connection = session.connection()
        event_insert(connection.dialect).execute(connection, inserts)
    if updates:
        statement = (
            update(EVENTS)
            .where(EVENTS.c.id == bindparam("_id"))
            .values({c: bindparam(f"v_{c}") for c in VALUE_COLUMNS})
        )
        session.connection().execute(statement, updates)
    deltas.apply(session, connection_id)
    result.new, result.revised = len(inserts), len(updates)
    return result


def rebuild_rollups(
    session: Session, *, connection_id: int, tz: ZoneInfo, batch_size: int = 20_000
) -> int:
    """Recompute a connection's rollups from its raw events (after a timezone change)."""
    session.execute(ROLLUPS.delete().where(ROLLUPS.c.connection_id == connection_id))
    columns = [
        EVENTS.c[c]
        for c in (
            "occurred_at",
            "user_email",
            "model",
            "kind_class",
            "request_units",
            "input_tokens",
            "output_tokens",
            "cache_read_tokens",
            "cache_write_tokens",
            "charged_cents",
        )
    ]
    query = (
        select(*columns)
        .where(EVENTS.c.connection_id == connection_id)
        .execution_options(yield_per=batch_size)
    )
    deltas = RollupDeltas(tz)
    count = 0
    for row in session.execute(query).mappings():
        deltas.add(dict(row), +1)
        count += 1
    deltas.apply(session, connection_id)
    return count
