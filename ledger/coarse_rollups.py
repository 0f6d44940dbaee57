"""Coarse rollups: ``usage_rollup`` summed per (day, user), (local month, user) and
(day, model), each with its kind class, in one table (``usage_rollup_coarse``).

Why: a report of a billing cycle by user over 1,000 users read a month of day x user x
model rows (~55,000) from ``usage_rollup``; from here it reads month rows per user and
kind, and day rows only for the days at the period's edges (``ledger.report_plan``); and
"by model" reads ~20 rows a day.

Kept in the same transaction as ``usage_rollup``: ``RollupDeltas.apply`` hands its upsert
rows (per-day deltas, possibly negative when a revised event moves) to ``add_deltas``,
which sums them per coarse key and adds them with one upsert. So a coarse row always
equals the GROUP BY of the ``usage_rollup`` rows it covers (tested), and the migration
that creates the table (0010) fills it from ``usage_rollup`` with the same sums.
"""

from __future__ import annotations

import functools
from collections.abc import Sequence
from datetime import date
from typing import Any

from sqlalchemy import Connection, Dialect, Table, bindparam
from sqlalchemy.orm import Session

from ledger.models import CoarseRollup
from ledger.statements import DriverStatement, StoredRow, insert_for

COARSE: Table = CoarseRollup.__table__  # type: ignore[attr-defined]

#: The grains: which of user and model a row keeps (the other is '').
USER_DAY = "ud"
USER_MONTH = "um"
MODEL_DAY = "md"

COARSE_KEY = ("grain", "day", "user_email", "model", "kind_class")
#: The measures summed, here and in ``usage_rollup`` (``ledger.rollups.ROLLUP_MEASURES``
#: is this tuple: the hook gets rollup rows and adds them as they are).
COARSE_MEASURES = (
    "events",
    "request_units",
    "input_tokens",
    "output_tokens",
    "cache_read_tokens",
    "cache_write_tokens",
    "charged_cents",
)

CoarseKey = tuple[Any, str, Any, str, str, str]


def month_of(day: Any) -> Any:
    """The first day of ``day``'s month, in the form it came in (stored SQLite days are
    ISO text, PostgreSQL's are dates)."""
    if isinstance(day, str):
        return day[:8] + "01"
    assert isinstance(day, date)
    return day.replace(day=1)


def coarse_rows(rows: Sequence[StoredRow]) -> list[StoredRow]:
    """Upsert rows of ``usage_rollup`` (connection_id, day, user, model, kind, *measures)
    summed into the coarse grains' upsert rows (connection_id, grain, day, user, model,
    kind, *measures), in key order (a stable lock order for concurrent writers)."""
    sums: dict[CoarseKey, list[Any]] = {}
    for connection_id, day, user, model, kind, *measures in rows:
        for key in (
            (connection_id, USER_DAY, day, user, "", kind),
            (connection_id, USER_MONTH, month_of(day), user, "", kind),
            (connection_id, MODEL_DAY, day, "", model, kind),
        ):
            total = sums.get(key)
            if total is None:
                sums[key] = list(measures)
            else:
                for i, value in enumerate(measures):
                    total[i] += value
    return [(*key, *sums[key]) for key in sorted(sums)]


@functools.lru_cache(maxsize=8)
def coarse_upsert(dialect: Dialect) -> DriverStatement:
    columns = ["connection_id", *COARSE_KEY, *COARSE_MEASURES]
    statement = insert_for(dialect)(COARSE).values({c: bindparam(c) for c in columns})
    statement = statement.on_conflict_do_update(
        index_elements=["connection_id", *COARSE_KEY],
        set_={m: COARSE.c[m] + statement.excluded[m] for m in COARSE_MEASURES},
    )
    return DriverStatement(statement, dialect, columns)


def add_deltas(connection: Connection, rows: Sequence[StoredRow]) -> None:
    """The hook ``RollupDeltas.apply`` calls with the rows it has just upserted."""
    if rows:
        coarse_upsert(connection.dialect).execute(connection, coarse_rows(rows))


def clear(session: Session, connection_id: int) -> None:
    """Forget a connection's coarse rows (a rollup rebuild re-adds them batch by batch)."""
    session.execute(COARSE.delete().where(COARSE.c.connection_id == connection_id))
