"""Which days of a period each member spent in which billing group, from the stays kept.

Cursor lists a stay again in every cycle it spans; ``read_member_ranges`` folds the copies
in SQL and turns each stay into local days (``ledger.group_days``). The answer depends only
on what the last sync stored, so ``member_ranges`` keeps it until a sync stores groups again.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from datetime import UTC, datetime, time, timedelta
from typing import Any
from weakref import WeakKeyDictionary

from sqlalchemy import String, and_, func, select, type_coerce
from sqlmodel import Session

from ledger.group_days import DayRange, StayRow, member_days
from ledger.group_models import BillingGroupCycle, BillingGroupStay
from ledger.periods import Period
from ledger.queries import Scope

CYCLES: Any = BillingGroupCycle.__table__  # type: ignore[attr-defined]
STAYS: Any = BillingGroupStay.__table__  # type: ignore[attr-defined]


def _bounds(scope: Scope, period: Period) -> tuple[datetime, datetime]:
    tz = scope.tz
    start = datetime.combine(period.start, time(), tz)
    end = datetime.combine(period.end + timedelta(days=1), time(), tz)
    return start, end


class _RangeCache:
    """Members' day ranges per (connection, timezone, period, groups as last read): the
    stays change only when a sync stores a cycle (which sets its ``read_at``), so reports
    of the same period between two syncs share them. Bounded, thread-safe."""

    def __init__(self, size: int = 64) -> None:
        self._items: OrderedDict[tuple[Any, ...], dict[str, list[DayRange]]] = OrderedDict()
        self._size = size
        self._lock = threading.Lock()

    def get(self, key: tuple[Any, ...]) -> dict[str, list[DayRange]] | None:
        with self._lock:
            found = self._items.get(key)
            if found is not None:
                self._items.move_to_end(key)
            return found

    def put(self, key: tuple[Any, ...], ranges: dict[str, list[DayRange]]) -> None:
        with self._lock:
            self._items[key] = ranges
            while len(self._items) > self._size:
                self._items.popitem(last=False)


#: One cache per database (engine): entries go with their engine.
_CACHES: WeakKeyDictionary[Any, _RangeCache] = WeakKeyDictionary()
_CACHES_LOCK = threading.Lock()


def _cache(session: Session) -> _RangeCache:
    bind = session.get_bind()
    engine = getattr(bind, "engine", bind)
    with _CACHES_LOCK:
        cache = _CACHES.get(engine)
        if cache is None:
            cache = _CACHES[engine] = _RangeCache()
        return cache


def member_ranges(session: Session, scope: Scope, period: Period) -> dict[str, list[DayRange]]:
    """Per member, the days of ``period`` in each group (Unassigned days left out); the
    same answer is reused until a sync stores groups again (one cache per database)."""
    version = _version(session, scope.connection_id)
    key = (scope.connection_id, scope.workspace.timezone, period.start, period.end, *version)
    cache = _cache(session)
    found = cache.get(key)
    if found is None:
        found = read_member_ranges(session, scope, period)
        cache.put(key, found)
    return found


def read_member_ranges(session: Session, scope: Scope, period: Period) -> dict[str, list[DayRange]]:
    """Per member, the days of ``period`` in each group, read from the stays kept.

    Cursor lists a stay again in every cycle it spans: the copies are folded in SQL into one
    row, from the first cycle listing it to the end of the last (a year in one group is one
    row, not thirteen). A group deleted from the cycles Cursor still serves keeps its stays
    in the older cycles only, so its copies end with them.
    """
    start, end = _bounds(scope, period)
    sqlite = session.connection().dialect.name == "sqlite"
    keys = (STAYS.c.group_id, STAYS.c.email, STAYS.c.joined_at, STAYS.c.left_at)
    instants = [
        type_coerce(column, String()) if sqlite else column
        for column in (func.min(CYCLES.c.cycle_start), func.max(CYCLES.c.cycle_end), *keys[2:])
    ]  # the stored text, parsed by ``_instant`` (SQLAlchemy's own parsing is far slower)
    query = (
        select(*instants[:2], *keys[:2], *instants[2:])
        .join(
            STAYS,
            and_(
                STAYS.c.connection_id == CYCLES.c.connection_id,
                STAYS.c.cycle_start == CYCLES.c.cycle_start,
                STAYS.c.group_id == CYCLES.c.group_id,
            ),
        )
        .where(
            CYCLES.c.connection_id == scope.connection_id,
            CYCLES.c.cycle_start < end,
            CYCLES.c.cycle_end > start,
        )
        .group_by(*keys)
    )
    read = _instant if sqlite else _aware
    stays = [
        StayRow(read(r[0]), read(r[1]), r[2], r[3], read(r[4]), read(r[5]) if r[5] else None)
        for r in session.connection().execute(query)
    ]
    return member_days(stays, scope.tz, period.start, period.end)


def _instant(stored: str) -> datetime:
    return datetime.fromisoformat(stored).replace(tzinfo=UTC)


def _aware(moment: datetime) -> datetime:
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment


def _version(session: Session, connection_id: int) -> tuple[Any, ...]:
    """What changes whenever a sync stores groups: the newest read, and how many cycles and
    stays there are, and the latest departure (a move adds a stay and ends another)."""
    connection = session.connection()
    cycles = connection.execute(
        select(func.max(CYCLES.c.read_at), func.count()).where(
            CYCLES.c.connection_id == connection_id
        )
    ).one()
    stays = connection.execute(
        select(func.count(), func.max(STAYS.c.left_at)).where(
            STAYS.c.connection_id == connection_id
        )
    ).one()
    return (*cycles, *stays)
