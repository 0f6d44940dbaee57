"""What a billing group's own digest needs: the daily digest's inputs, for its people only.

The same figures as the team's digest (``ledger.digest_data``), read from the rollups of the
group's members on the days they were in it (``ledger.group_days``): yesterday, the cycle,
its daily series (and so the forecast), the models, the chart, last cycle at the same point,
and the top people when the channel may see people. One grouped read of the members' rows
per local day, user, model and kind for the window; the rest is folded here.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import replace
from datetime import date, datetime, time
from decimal import Decimal
from typing import Any

from sqlalchemy import select
from sqlmodel import Session

from connectors.group_records import UNASSIGNED_ID
from ledger.digest_data import DigestInputs, _assemble, _Reads, _window
from ledger.digest_reads import Cell, _as_date
from ledger.group_days import DayRange, group_of
from ledger.group_ranges import member_ranges
from ledger.import_join import connection_history
from ledger.periods import Period
from ledger.queries import MEASURE_SUMS, ROLLUPS, Row, Scope, freshness
from ledger.visibility import Viewer, sees_everyone

_CHUNK = 500


def _member_rows(
    session: Session, scope: Scope, emails: list[str] | None, first: date, last: date
) -> list[tuple[Any, ...]]:
    """(day, user, model, kind, measures...) of ``emails`` (None: everyone) in the days."""
    keys = (ROLLUPS.c.day, ROLLUPS.c.user_email, ROLLUPS.c.model, ROLLUPS.c.kind_class)
    where = [
        ROLLUPS.c.connection_id == scope.connection_id,
        ROLLUPS.c.day >= first,
        ROLLUPS.c.day <= last,
    ]
    chunks = (
        [None]
        if emails is None
        else [emails[i : i + _CHUNK] for i in range(0, len(emails), _CHUNK)]
    )
    rows: list[tuple[Any, ...]] = []
    for chunk in chunks:
        query = select(*keys, *MEASURE_SUMS).where(*where).group_by(*keys)
        if chunk is not None:
            query = query.where(ROLLUPS.c.user_email.in_(chunk))
        rows.extend(tuple(row) for row in session.execute(query))
    return rows


def _mine(
    rows: list[tuple[Any, ...]], ranges: dict[str, list[DayRange]], group_id: str
) -> list[tuple[Any, ...]]:
    kept = []
    for day, user, *rest in rows:
        local = _as_date(day)
        if (group_of(ranges.get(user, []), local) or UNASSIGNED_ID) == group_id:
            kept.append((local, user, *rest))
    return kept


def _cells(rows: list[tuple[Any, ...]], first: date) -> list[Cell]:
    sums: dict[tuple[date, str, str], list[Any]] = defaultdict(lambda: [Decimal(0), 0, 0, 0, 0, 0])
    for day, _, model, kind, *values in rows:
        if day >= first:
            entry = sums[day, str(model), str(kind)]
            for index, value in enumerate(values):
                entry[index] += value or 0
    return [
        Cell(day, model, kind, Decimal(v[0]), *(int(x) for x in v[1:]))
        for (day, model, kind), v in sums.items()
    ]


def _top_users(
    rows: list[tuple[Any, ...]], first: date, last: date, top: int
) -> tuple[tuple[Row, ...], int]:
    sums: dict[str, list[Any]] = defaultdict(lambda: [Decimal(0), 0, 0, 0])
    for day, user, _, _, cents, events, tokens_in, tokens_out, *_ in rows:
        if first <= day <= last:
            entry = sums[str(user)]
            entry[0] += cents or 0
            entry[1] += events or 0
            entry[2] += tokens_in or 0
            entry[3] += tokens_out or 0
    ranked = sorted(sums.items(), key=lambda item: (-item[1][0], item[0]))
    rows_out = tuple(
        Row(u, Decimal(v[0]), int(v[1]), int(v[2]), int(v[3])) for u, v in ranked[:top]
    )
    return rows_out, len(sums)


def _group_reads(
    session: Session, scope: Scope, window: Any, rows: list[tuple[Any, ...]], top: int | None
) -> _Reads:
    """The digest's reads from the group's rows (``top`` None: people are hidden)."""
    top_users: tuple[Row, ...] = ()
    user_count = 0
    if top is not None:
        top_users, user_count = _top_users(rows, window.cycle.start, window.yesterday, top)
    last_point = sum(
        (
            Decimal(r[4] or 0)
            for r in rows
            if window.cycle.previous_start <= r[0] <= window.last_cycle_end
        ),
        Decimal(0),
    )
    as_of, history_start = freshness(session, scope)
    history = connection_history(session, scope.connection_id, history_start)
    cells = _cells(rows, window.first)
    return _Reads(cells, top_users, user_count, last_point, as_of, history_start, history)


def group_digest_inputs(
    session: Session,
    scope: Scope,
    *,
    group_id: str,
    group_name: str,
    today: date,
    top: int = 5,
    now: datetime | None = None,
    viewer: Viewer | None = None,
) -> DigestInputs:
    """``ledger.digest_data.digest_inputs`` for one billing group (its title names it)."""
    if now is None:
        now = datetime.combine(today, time(), scope.tz)
    window = _window(session, scope, today)
    first = min(window.first, window.cycle.previous_start)
    ranges = member_ranges(session, scope, Period(first, window.yesterday, "digest"))
    emails = (
        None
        if group_id == UNASSIGNED_ID
        else sorted(
            email for email, found in ranges.items() if any(r.group_id == group_id for r in found)
        )
    )
    rows = _mine(_member_rows(session, scope, emails, first, window.yesterday), ranges, group_id)
    people_hidden = viewer is not None and not sees_everyone(viewer)
    reads = _group_reads(session, scope, window, rows, None if people_hidden else top)
    inputs = _assemble(scope, window, reads, top=top, now=now, people_hidden=people_hidden)
    name = scope.workspace.name
    label = f'group "{group_name}"'
    return replace(inputs, workspace_name=f"{name} · {label}" if name else label)
