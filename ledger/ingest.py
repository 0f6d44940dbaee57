"""Writing usage events and the rollups they change, idempotently.

``ingest_events`` takes one page of neutral events and, inside the caller's
transaction, inserts the new ones, replaces revised ones and adjusts the
rollups by exactly the difference. Reading the same page again changes nothing.

This is a sync's hot path, so rows go to the driver in the backend's stored form
(``ledger.event_rows``, ``ledger.statements``): values are converted once, compared with
stored rows as they are, and summed into rollups (``ledger.rollups``) without passing
through SQLAlchemy per value. On PostgreSQL new rows go by ``COPY`` and a page's stored
keys are looked up as one array (``ledger.statements.ManyRowsInsert``).

Any batch size works: an import may pass 20,000 events in one transaction (one call) and
gets the same path, with fewer statements and rollup upserts per event.
"""

from __future__ import annotations

import functools
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from zoneinfo import ZoneInfo

from sqlalchemy import Connection, Dialect, bindparam, text, update
from sqlalchemy.orm import Session

from connectors.records import UNKNOWN_USER, UsageEvent
from ledger.event_rows import EVENT_COLUMNS, EVENTS, SOURCES, VALUE_COLUMNS, stored_rows
from ledger.rollups import RollupDeltas
from ledger.statements import DriverStatement, ManyRowsInsert, StoredRow
from ledger.types import StoredForm, stored_form

_VALUES_FROM = EVENT_COLUMNS.index(VALUE_COLUMNS[0])
_AT = EVENT_COLUMNS.index("occurred_at")
_EMAIL = EVENT_COLUMNS.index("user_email")
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


@functools.lru_cache(maxsize=8)
def event_insert(dialect: Dialect) -> ManyRowsInsert:
    return ManyRowsInsert(EVENTS, EVENT_COLUMNS, dialect)


@functools.lru_cache(maxsize=8)
def event_update(dialect: Dialect) -> DriverStatement:
    statement = (
        update(EVENTS)
        .where(EVENTS.c.id == bindparam("_id"))
        .values({c: bindparam(f"v_{c}") for c in VALUE_COLUMNS})
    )
    return DriverStatement(statement, dialect, [*(f"v_{c}" for c in VALUE_COLUMNS), "_id"])


_STORED_EVENTS = text(
    f"SELECT id, {', '.join(EVENT_COLUMNS)} FROM usage_event"
    " WHERE connection_id = :connection_id AND natural_key IN :keys"
).bindparams(bindparam("keys", expanding=True))

#: PostgreSQL: a page's keys as one array, looked up in one statement.
_STORED_EVENTS_ANY = (
    f"SELECT id, {', '.join(EVENT_COLUMNS)} FROM usage_event"
    " WHERE connection_id = %s AND natural_key = ANY(%b::varchar[])"
)

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
    if connection.dialect.name == "postgresql":
        for row_id, *values in connection.exec_driver_sql(
            _STORED_EVENTS_ANY, (connection_id, list(keys))
        ):
            row = tuple(values)
            found[row[1]] = (row_id, row)
        return found
    for i in range(0, len(keys), _KEY_CHUNK):
        chunk = keys[i : i + _KEY_CHUNK]
        params = {"connection_id": connection_id, "keys": chunk}
        for row_id, *values in connection.execute(_STORED_EVENTS, params):
            row = tuple(values)
            found[row[1]] = (row_id, row)
    return found


def ingest_events(
    session: Session,
    *,
    connection_id: int,
    tz: ZoneInfo,
    events: Iterable[UsageEvent],
    source: str = "api",
) -> IngestResult:
    """Upsert one batch of events and the rollups they change. The caller commits.

    ``source`` ('api' or 'csv', ``ledger.event_rows.SOURCES``) is stored in each row."""
    if source not in SOURCES:
        raise ValueError(f"unknown event source {source!r}")
    latest: dict[str, UsageEvent] = {}
    for event in events:
        latest[event.natural_key] = event  # a page may repeat an event: the last copy wins
    result = IngestResult(seen=len(latest))
    if not latest:
        return result
    connection = session.connection()
    form = stored_form(connection.dialect)
    rows = stored_rows(form, connection_id, latest.values(), source)
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
