"""Daily rollups of usage events: the deltas a page of events makes, and full rebuilds.

Measures are summed in the backend's stored form (``ledger.types.StoredForm``) and
written with one upsert that adds to what is there.
"""

from __future__ import annotations

import functools
import operator
from collections.abc import Iterable
from datetime import UTC, date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import Connection, Dialect, Table, text
from sqlalchemy.orm import Session

from ledger import coarse_rollups
from ledger.event_rows import EVENT_COLUMNS
from ledger.models import UsageRollup
from ledger.statements import ManyRowsInsert, StoredRow
from ledger.types import ONE_HOUR, stored_form

ROLLUPS: Table = UsageRollup.__table__  # type: ignore[attr-defined]

#: Rollup dimensions after ``connection_id``, and the measures summed into them.
ROLLUP_KEY = ("day", "user_email", "model", "kind_class")
ROLLUP_MEASURES = coarse_rollups.COARSE_MEASURES
#: Where, in a stored row, the dimensions after ``day`` and the summed measures are.
_KEY_AT = tuple(EVENT_COLUMNS.index(c) for c in ROLLUP_KEY[1:])
_summed = operator.itemgetter(*(EVENT_COLUMNS.index(c) for c in ROLLUP_MEASURES[1:]))
_AT = EVENT_COLUMNS.index("occurred_at")

RollupKey = tuple[date, str, str, str]


class RollupDeltas:
    """Stored rows grouped by the rollup row they count in, added or taken away.

    Measures are summed per group at the end (in C, by ``sum``), in the stored form:
    integers of 1e-8 cents on SQLite, exact decimals elsewhere.
    """

    def __init__(self, tz: ZoneInfo) -> None:
        self._tz = tz
        self._added: dict[RollupKey, list[StoredRow]] = {}
        self._removed: dict[RollupKey, list[StoredRow]] = {}
        self._days = local_days(tz)

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
        day = self._days.day
        email_at, model_at, class_at = _KEY_AT
        for moment, row in zip(moments, rows, strict=True):
            key = (day(moment), row[email_at], row[model_at], row[class_at])
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
            coarse_rollups.add_deltas(connection, rows)
        self._added.clear()
        self._removed.clear()


class LocalDays:
    """The local date of instants in one timezone, remembered for the last UTC hour seen.

    Events come in time order, so most fall in the hour before them: two comparisons
    instead of ``astimezone(tz).date()``. An hour is remembered only when the zone's
    offset is the same at its first and last microsecond and both fall on the same local
    date (no transition and no local midnight inside it: every hour of zones whose
    offsets are whole hours, outside transitions); other instants are converted alone.
    """

    def __init__(self, tz: ZoneInfo) -> None:
        self._tz = tz
        self._last: tuple[datetime, datetime, date] = (_NEVER, _NEVER, date.min)

    def day(self, moment: datetime) -> date:
        start, end, day = self._last  # one tuple, read once: threads may replace it
        if start <= moment < end:
            return day
        tz = self._tz
        local = moment.astimezone(tz)
        start = moment.astimezone(UTC).replace(minute=0, second=0, microsecond=0)
        if _FIRST_HOUR < start < _LAST_HOUR:  # both ends and their local times exist
            end = start + ONE_HOUR
            first, last = start.astimezone(tz), (end - _ONE_MICROSECOND).astimezone(tz)
            if first.utcoffset() == last.utcoffset() and first.date() == last.date():
                self._last = (start, end, first.date())
        return local.date()


_NEVER = datetime.min.replace(tzinfo=UTC)
_ONE_MICROSECOND = timedelta(microseconds=1)
#: Hours within a day of the ends of ``datetime``'s range are never remembered.
_FIRST_HOUR = _NEVER + timedelta(days=1)
_LAST_HOUR = datetime.max.replace(tzinfo=UTC) - timedelta(days=1)


@functools.lru_cache(maxsize=64)
def local_days(tz: ZoneInfo) -> LocalDays:
    """One ``LocalDays`` per zone, kept across pages."""
    return LocalDays(tz)


def _sums(rows: list[StoredRow]) -> list[Any]:
    return [len(rows), *map(sum, zip(*map(_summed, rows), strict=True))]


@functools.lru_cache(maxsize=8)
def rollup_upsert(dialect: Dialect) -> ManyRowsInsert:
    """Adds each row's measures to its rollup row (made at zero if missing)."""
    columns = ["connection_id", *ROLLUP_KEY, *ROLLUP_MEASURES]
    added = ", ".join(f"{m} = {ROLLUPS.name}.{m} + excluded.{m}" for m in ROLLUP_MEASURES)
    conflict = f" ON CONFLICT ({', '.join(['connection_id', *ROLLUP_KEY])}) DO UPDATE SET {added}"
    return ManyRowsInsert(ROLLUPS, columns, dialect, conflict)


_ALL_STORED_EVENTS = text(
    f"SELECT {', '.join(EVENT_COLUMNS)} FROM usage_event WHERE connection_id = :connection_id"
)


def rebuild_rollups(
    session: Session, *, connection_id: int, tz: ZoneInfo, batch_size: int = 20_000
) -> int:
    """Recompute a connection's rollups from its raw events (after a timezone change)."""
    session.execute(ROLLUPS.delete().where(ROLLUPS.c.connection_id == connection_id))
    coarse_rollups.clear(session, connection_id)
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
