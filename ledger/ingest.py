"""Writing usage events and the rollups they change, idempotently.

``ingest_events`` takes one page of neutral events and, inside the caller's
transaction, inserts the new ones, replaces revised ones and adjusts the
rollups by exactly the difference. Reading the same page again changes nothing.

This is a sync's hot path, so rows go to the driver in the backend's stored form
(``ledger.types.StoredForm``): values are converted once, compared with stored rows
as they are, and summed into rollups without passing through SQLAlchemy per value.
"""

from __future__ import annotations

import functools
import operator
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import Connection, Dialect, Table, bindparam, text, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from connectors.records import UNKNOWN_USER, UsageEvent
from ledger.models import UsageEventRow, UsageRollup
from ledger.types import StoredForm, stored_form

EVENTS: Table = UsageEventRow.__table__  # type: ignore[attr-defined]
ROLLUPS: Table = UsageRollup.__table__  # type: ignore[attr-defined]

#: Event columns whose change makes an event "revised", in the order of a stored row.
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
#: A stored row: the event's columns as its ``usage_event`` row holds them, in this order.
EVENT_COLUMNS = ("connection_id", "natural_key", *VALUE_COLUMNS)
_VALUES_FROM = EVENT_COLUMNS.index(VALUE_COLUMNS[0])
_AT = EVENT_COLUMNS.index("occurred_at")
_EMAIL = EVENT_COLUMNS.index("user_email")

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
#: Where, in a stored row, the dimensions after ``day`` and the summed measures are.
_KEY_AT = tuple(EVENT_COLUMNS.index(c) for c in ROLLUP_KEY[1:])
_summed = operator.itemgetter(*(EVENT_COLUMNS.index(c) for c in ROLLUP_MEASURES[1:]))

StoredRow = tuple[Any, ...]
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


def stored_rows(
    form: StoredForm, connection_id: int, events: Iterable[UsageEvent]
) -> list[StoredRow]:
    """Each event's ``EVENT_COLUMNS`` in ``form``: what its row holds once written."""
    money, instant = form.money, form.instant
    return [
        (
            connection_id,
            e.natural_key,
            instant(e.occurred_at),
            e.user_email,
            e.model,
            e.kind,
            e.kind_class,
            e.max_mode,
            e.is_chargeable,
            e.is_headless,
            e.is_token_based,
            money(e.request_units),
            e.input_tokens,
            e.output_tokens,
            e.cache_read_tokens,
            e.cache_write_tokens,
            money(e.model_cost_cents),
            money(e.token_fee_cents),
            money(e.charged_cents),
            e.conversation_id,
            e.service_account_id,
            e.cloud_agent_id,
        )
        for e in events
    ]


class RollupDeltas:
    """Stored rows grouped by the rollup row they count in, added or taken away.

    Measures are summed per group at the end (in C, by ``sum``), in the stored form:
    integers of 1e-8 cents on SQLite, exact decimals elsewhere.
    """

    def __init__(self, tz: ZoneInfo) -> None:
        self._tz = tz
        self._added: dict[RollupKey, list[StoredRow]] = {}
        self._removed: dict[RollupKey, list[StoredRow]] = {}

    def add(self, moments: Iterable[datetime], rows: Iterable[StoredRow]) -> None:
        self._group(self._added, moments, rows)

    def remove(self, moments: Iterable[datetime], rows: Iterable[StoredRow]) -> None:
        self._group(self._removed, moments, rows)

    def _group(
        self,
        groups: dict[RollupKey, list[StoredRow]],
        moments: Iterable[datetime],
        rows: Iterable[StoredRow],
    ) -> None:
        tz = self._tz
        email_at, model_at, class_at = _KEY_AT
        for moment, row in zip(moments, rows, strict=True):
            key = (moment.astimezone(tz).date(), row[email_at], row[model_at], row[class_at])
            group = groups.get(key)
            if group is None:
                groups[key] = [row]
            else:
                group.append(row)

    def totals(self) -> list[tuple[RollupKey, list[Any]]]:
        """(key, measures in ``ROLLUP_MEASURES`` order), in key order, non-zero only."""
        totals = {key: _sums(rows) for key, rows in self._added.items()}
        for key, rows in self._removed.items():
            taken = _sums(rows)
            kept = totals.get(key, [0] * len(taken))
            totals[key] = [a - b for a, b in zip(kept, taken, strict=True)]
        return [(key, totals[key]) for key in sorted(totals) if any(totals[key])]

    def apply(self, connection: Connection, connection_id: int) -> None:
        day = stored_form(connection.dialect).day
        rows = [
            (connection_id, day(key[0]), *key[1:], *measures) for key, measures in self.totals()
        ]
        if rows:
            rollup_upsert(connection.dialect).execute(connection, rows)
        self._added.clear()
        self._removed.clear()


def _sums(rows: list[StoredRow]) -> list[Any]:
    return [len(rows), *map(sum, zip(*map(_summed, rows), strict=True))]


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


@functools.lru_cache(maxsize=8)
def event_insert(dialect: Dialect) -> DriverStatement:
    statement = EVENTS.insert().values({c: bindparam(c) for c in EVENT_COLUMNS})
    return DriverStatement(statement, dialect, EVENT_COLUMNS)


@functools.lru_cache(maxsize=8)
def event_update(dialect: Dialect) -> DriverStatement:
    statement = (
        update(EVENTS)
        .where(EVENTS.c.id == bindparam("_id"))
        .values({c: bindparam(f"v_{c}") for c in VALUE_COLUMNS})
    )
    return DriverStatement(statement, dialect, [*(f"v_{c}" for c in VALUE_COLUMNS), "_id"])


@functools.lru_cache(maxsize=8)
def rollup_upsert(dialect: Dialect) -> DriverStatement:
    columns = ["connection_id", *ROLLUP_KEY, *ROLLUP_MEASURES]
    statement = insert_for(dialect)(ROLLUPS).values({c: bindparam(c) for c in columns})
    statement = statement.on_conflict_do_update(
        index_elements=["connection_id", *ROLLUP_KEY],
        set_={m: ROLLUPS.c[m] + statement.excluded[m] for m in ROLLUP_MEASURES},
    )
    return DriverStatement(statement, dialect, columns)


def insert_for(dialect: Dialect) -> Any:
    """The dialect's ``insert`` (it has ``on_conflict_do_update``)."""
    return postgresql.insert if dialect.name == "postgresql" else sqlite.insert


def dialect_insert(session: Session) -> Any:
    return insert_for(session.get_bind().dialect)


_STORED_EVENTS = text(
    f"SELECT id, {', '.join(EVENT_COLUMNS)} FROM usage_event"
    " WHERE connection_id = :connection_id AND natural_key IN :keys"
).bindparams(bindparam("keys", expanding=True))

_ANY_STORED_BETWEEN = text(
    "SELECT 1 FROM usage_event WHERE connection_id = :connection_id"
    " AND natural_key BETWEEN :lowest AND :highest LIMIT 1"
)


def stored_events(
    connection: Connection, connection_id: int, keys: Sequence[str]
) -> dict[str, tuple[int, StoredRow]]:
    """natural key -> (id, stored row) of those ``keys`` the ledger already holds."""
    if connection.dialect.name == "sqlite" and keys:
        # SQLite compares text bytewise, as Python orders these keys: when one index probe
        # finds nothing stored between the page's lowest and highest key (a first sync, new
        # hours), no key of the page is stored. PostgreSQL's collation may order keys
        # otherwise, so there every key is looked up.
        probe = {"connection_id": connection_id, "lowest": min(keys), "highest": max(keys)}
        if connection.execute(_ANY_STORED_BETWEEN, probe).first() is None:
            return {}
    found: dict[str, tuple[int, StoredRow]] = {}
    for i in range(0, len(keys), _KEY_CHUNK):
        chunk = keys[i : i + _KEY_CHUNK]
        params = {"connection_id": connection_id, "keys": chunk}
        for row_id, *values in connection.execute(_STORED_EVENTS, params):
            row = tuple(values)
            found[row[1]] = (row_id, row)
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
    connection = session.connection()
    form = stored_form(connection.dialect)
    rows = stored_rows(form, connection_id, latest.values())
    stored = stored_events(connection, connection_id, list(latest))
    deltas = RollupDeltas(tz)
    inserts, updates = _changes(latest.values(), rows, stored, form, deltas)
    if inserts:
        event_insert(connection.dialect).execute(connection, inserts)
    if updates:
        event_update(connection.dialect).execute(connection, updates)
    deltas.apply(connection, connection_id)
    result.new, result.revised = len(inserts), len(updates)
    return result


def _changes(
    events: Iterable[UsageEvent],
    rows: list[StoredRow],
    stored: dict[str, tuple[int, StoredRow]],
    form: StoredForm,
    deltas: RollupDeltas,
) -> tuple[list[StoredRow], list[StoredRow]]:
    """(rows to insert, rows to update) for a page; their rollup changes go to ``deltas``."""
    if not stored:  # the common case of a first sync and of new hours: every row is new
        deltas.add((event.occurred_at for event in events), rows)
        return rows, []
    inserts: list[StoredRow] = []
    updates: list[StoredRow] = []
    added: list[tuple[datetime, StoredRow]] = []
    removed: list[tuple[datetime, StoredRow]] = []
    for event, row in zip(events, rows, strict=True):
        found = stored.get(event.natural_key)
        if found is None:
            inserts.append(row)
            added.append((event.occurred_at, row))
            continue
        row_id, old = found
        if event.email_missing and old[_EMAIL] != UNKNOWN_USER:
            # The provider forgot who it was; the ledger did not.
            row = (*row[:_EMAIL], old[_EMAIL], *row[_EMAIL + 1 :])
        if row == old:
            continue
        removed.append((form.moment(old[_AT]), old))
        added.append((event.occurred_at, row))
        updates.append((*row[_VALUES_FROM:], row_id))
    deltas.add((moment for moment, _ in added), (row for _, row in added))
    deltas.remove((moment for moment, _ in removed), (row for _, row in removed))
    return inserts, updates


_ALL_STORED_EVENTS = text(
    f"SELECT {', '.join(EVENT_COLUMNS)} FROM usage_event WHERE connection_id = :connection_id"
)


def rebuild_rollups(
    session: Session, *, connection_id: int, tz: ZoneInfo, batch_size: int = 20_000
) -> int:
    """Recompute a connection's rollups from its raw events (after a timezone change)."""
    session.execute(ROLLUPS.delete().where(ROLLUPS.c.connection_id == connection_id))
    connection = session.connection()
    moment = stored_form(connection.dialect).moment
    result = connection.execute(
        _ALL_STORED_EVENTS,
        {"connection_id": connection_id},
        execution_options={"stream_results": True},
    )
    count = 0
    for batch in result.partitions(batch_size):
        rows = [tuple(row) for row in batch]
        deltas = RollupDeltas(tz)  # applied per batch: the upsert adds to what is there
        deltas.add((moment(row[_AT]) for row in rows), rows)
        deltas.apply(connection, connection_id)
        count += len(rows)
    return count
