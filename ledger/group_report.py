"""Spend by billing group, from the rollups and the groups kept per cycle.

A group's total is the sum of its members' usage on the days they were in it
(``ledger.group_days``: a day counts in the group the member was in at its end). A member
in one group on every day of the period counts whole, from the same per-user rows a
report by user reads (``ledger.queries``); the few who moved, joined or left during it
are read day by day from ``usage_rollup`` through its (user, day) index. Whatever no group
covers is ``Unassigned``, so the groups add up to the team's total.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

from sqlalchemy import ColumnElement, case, func, select, type_coerce
from sqlmodel import Session

from connectors.group_records import UNASSIGNED_ID, UNASSIGNED_NAME
from connectors.records import KindClass
from ledger.group_days import DayRange, group_of, whole_group
from ledger.group_errors import GroupsUnavailable, Unavailable, UnknownGroup
from ledger.group_models import GroupSyncState
from ledger.group_ranges import CYCLES, member_ranges
from ledger.group_sync import UNAVAILABLE_PLAN
from ledger.periods import Period
from ledger.queries import ROLLUPS, Breakdown, Row, Scope, Totals, totals_and_breakdown
from ledger.types import Money

_CHUNK = 500
_ONE_DAY = timedelta(days=1)
_MONEY = Money()
_SUMS = (
    func.sum(ROLLUPS.c.charged_cents),
    func.sum(ROLLUPS.c.events),
    func.sum(ROLLUPS.c.input_tokens),
    func.sum(ROLLUPS.c.output_tokens),
    func.sum(ROLLUPS.c.cache_read_tokens),
    func.sum(ROLLUPS.c.cache_write_tokens),
    *(
        type_coerce(
            func.sum(case((ROLLUPS.c.kind_class == kind.value, ROLLUPS.c.charged_cents), else_=0)),
            _MONEY,
        )
        for kind in (KindClass.ON_DEMAND, KindClass.INCLUDED)
    ),
)
_DIMENSIONS = {Breakdown.USER: ROLLUPS.c.user_email, Breakdown.MODEL: ROLLUPS.c.model}
Measures = list[Any]  # cents, events, in, out, cache read, cache write, on-demand, included


@dataclass(frozen=True)
class Directory:
    """The groups known for a connection: newest name per id, every name ever seen."""

    names: dict[str, str]
    aliases: dict[str, str]  # lower-cased name (current or former) -> group id

    def find(self, name: str) -> tuple[str, str]:
        """(id, current name) of the group called ``name`` (case-insensitive)."""
        wanted = " ".join(name.split()).lower()
        if wanted == UNASSIGNED_NAME.lower():
            return UNASSIGNED_ID, UNASSIGNED_NAME
        group_id = self.aliases.get(wanted)
        if group_id is None:
            known = tuple(sorted(n for g, n in self.names.items() if g != UNASSIGNED_ID))
            raise UnknownGroup(name, known)
        return group_id, self.names[group_id]

    def label(self, group_id: str) -> str:
        return self.names.get(group_id, UNASSIGNED_NAME if group_id == UNASSIGNED_ID else group_id)


def require_groups(session: Session, connection_id: int) -> GroupSyncState:
    """The connection's group state, or ``GroupsUnavailable`` saying why there is none."""
    state = session.get(GroupSyncState, connection_id)
    if state is not None and state.available:
        return state
    if state is not None and state.reason == UNAVAILABLE_PLAN:
        raise GroupsUnavailable(Unavailable.PLAN, state.reason)
    raise GroupsUnavailable(Unavailable.NOT_READ, state.reason or "" if state else "")


def directory(session: Session, connection_id: int) -> Directory:
    newest = func.max(CYCLES.c.cycle_start)
    query = (
        select(CYCLES.c.group_id, CYCLES.c.name)
        .where(CYCLES.c.connection_id == connection_id)
        .group_by(CYCLES.c.group_id, CYCLES.c.name)
        .order_by(newest)
    )
    names: dict[str, str] = {}
    aliases: dict[str, str] = {}
    for group_id, name in session.connection().execute(query):
        names[group_id] = name
        aliases[" ".join(name.split()).lower()] = group_id
    for group_id, name in names.items():  # current names win over former ones
        aliases[" ".join(name.split()).lower()] = group_id
    names.setdefault(UNASSIGNED_ID, UNASSIGNED_NAME)
    return Directory(names, aliases)


def _day_rows(
    session: Session,
    scope: Scope,
    emails: list[str],
    period: Period,
    dimension: ColumnElement[Any] | None,
) -> Iterator[tuple[str, date, Any, Measures]]:
    """(email, day, key, measures) of ``emails``' rollups in the period, per day."""
    keys: list[ColumnElement[Any]] = [ROLLUPS.c.user_email, ROLLUPS.c.day]
    if dimension is not None:
        keys.append(dimension)
    for chunk in _chunks(emails):
        query = (
            select(*keys, *_SUMS)
            .where(
                ROLLUPS.c.connection_id == scope.connection_id,
                ROLLUPS.c.user_email.in_(chunk),
                ROLLUPS.c.day >= period.start,
                ROLLUPS.c.day <= period.end,
            )
            .group_by(*keys)
        )
        for row in session.connection().execute(query):
            values = list(row)
            key = values[2] if dimension is not None else None
            yield values[0], values[1], key, values[len(keys) :]


def _chunks(items: list[str]) -> Iterator[list[str]]:
    for index in range(0, len(items), _CHUNK):
        yield items[index : index + _CHUNK]


def _add(target: Measures, values: Iterable[Any]) -> None:
    for index, value in enumerate(values):
        target[index] += value or 0


def _new() -> Measures:
    return [Decimal(0), 0, 0, 0, 0, 0, Decimal(0), Decimal(0)]


def by_group(
    session: Session, scope: Scope, period: Period, names: Directory, today: date | None
) -> tuple[Totals, list[Row], dict[str, Decimal]]:
    """The team's totals, one row per group (Unassigned included), and cents per group id."""
    summary, users = totals_and_breakdown(session, scope, period, Breakdown.USER, today=today)
    ranges = member_ranges(session, scope, period)
    sums: dict[str, Measures] = defaultdict(_new)
    moved: list[str] = []
    for row in users:
        found = ranges.get(row.key)
        group_id = whole_group(found, period.start, period.end) if found else UNASSIGNED_ID
        if group_id is None:
            moved.append(row.key)
        else:
            _add(sums[group_id], (row.cents, row.events, row.input_tokens, row.output_tokens))
    _split_moved(session, scope, period, (users, ranges, moved), sums)
    rows = _rows({names.label(g): v for g, v in sums.items()})
    return summary, rows, {g: Decimal(v[0]) for g, v in sums.items()}


def _with_gaps(ranges: list[DayRange], first: date, last: date) -> list[DayRange]:
    """``ranges`` with the days between them (and around them) as Unassigned ranges."""
    out: list[DayRange] = []
    cursor = first
    for item in ranges:
        if item.first > cursor:
            out.append(DayRange(UNASSIGNED_ID, cursor, item.first - _ONE_DAY))
        out.append(item)
        cursor = item.last + _ONE_DAY
    if cursor <= last:
        out.append(DayRange(UNASSIGNED_ID, cursor, last))
    return out


def _split_moved(
    session: Session,
    scope: Scope,
    period: Period,
    found: tuple[list[Row], dict[str, list[DayRange]], list[str]],
    sums: dict[str, Measures],
) -> None:
    """Add to ``sums`` the members who were in several groups during the period: the days
    of every stretch but their longest are read day by day, and the longest gets the rest
    of their total (so a year in one group and a move last week reads one week)."""
    users, ranges, moved = found
    if not moved:
        return
    totals = {row.key: row for row in users}
    longest: dict[str, str] = {}
    shorter: dict[str, list[DayRange]] = {}
    for email in moved:
        stretches = _with_gaps(ranges[email], period.start, period.end)
        widest = max(stretches, key=lambda r: (r.last - r.first, r.first))
        longest[email] = widest.group_id
        shorter[email] = [r for r in stretches if r is not widest]
    days = [r for stretches in shorter.values() for r in stretches]
    span = Period(min(r.first for r in days), max(r.last for r in days), "moves")
    taken: dict[str, Measures] = defaultdict(_new)
    for email, day, _, values in _day_rows(session, scope, moved, span, None):
        group_id = next((r.group_id for r in shorter[email] if r.covers(day)), None)
        if group_id is not None:
            _add(sums[group_id], values[:4])
            _add(taken[email], values[:4])
    for email in moved:
        row, part = totals[email], taken[email]
        rest = (row.cents - part[0], row.events - part[1])
        _add(sums[longest[email]], (*rest, row.input_tokens - part[2], row.output_tokens - part[3]))


def one_group(
    session: Session,
    scope: Scope,
    period: Period,
    group_id: str,
    by: Breakdown,
    today: date | None,
) -> tuple[Totals, list[Row]]:
    """One group's totals, and its rows by ``by`` (user or model), for its members' days."""
    dimension = _DIMENSIONS[by]
    ranges = member_ranges(session, scope, period)
    whole: list[str] = []
    partial: list[str] = []
    if group_id == UNASSIGNED_ID:
        users = totals_and_breakdown(session, scope, period, Breakdown.USER, today=today)[1]
        for row in users:
            found = ranges.get(row.key)
            if not found:
                whole.append(row.key)
            elif whole_group(found, period.start, period.end) is None:
                partial.append(row.key)
    else:
        for email, found in ranges.items():
            if whole_group(found, period.start, period.end) == group_id:
                whole.append(email)
            elif any(r.group_id == group_id for r in found):
                partial.append(email)
    sums: dict[str, Measures] = defaultdict(_new)
    for chunk in _chunks(whole):
        query = (
            select(dimension, *_SUMS)
            .where(
                ROLLUPS.c.connection_id == scope.connection_id,
                ROLLUPS.c.user_email.in_(chunk),
                ROLLUPS.c.day >= period.start,
                ROLLUPS.c.day <= period.end,
            )
            .group_by(dimension)
        )
        for key, *values in session.connection().execute(query):
            _add(sums[str(key)], values)
    for email, day, key, values in _day_rows(session, scope, partial, period, dimension):
        if (group_of(ranges.get(email, []), day) or UNASSIGNED_ID) == group_id:
            _add(sums[str(key)], values)
    total = _new()
    for values in sums.values():
        _add(total, values)
    return _totals(total), _rows(sums)


def _totals(values: Measures) -> Totals:
    return Totals(
        cents=Decimal(values[0]),
        on_demand_cents=Decimal(values[6]),
        included_cents=Decimal(values[7]),
        events=int(values[1]),
        input_tokens=int(values[2]),
        output_tokens=int(values[3]),
        cache_read_tokens=int(values[4]),
        cache_write_tokens=int(values[5]),
    )


def _rows(sums: dict[str, Measures]) -> list[Row]:
    kept = [(key, values) for key, values in sums.items() if any(values[:4])]
    kept.sort(key=lambda item: (-item[1][0], item[0]))
    return [
        Row(key, Decimal(values[0]), int(values[1]), int(values[2]), int(values[3]))
        for key, values in kept
    ]
