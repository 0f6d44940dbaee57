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
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from typing import Any

from sqlalchemy import ColumnElement, and_, case, func, select, type_coerce
from sqlmodel import Session

from connectors.group_records import UNASSIGNED_ID, UNASSIGNED_NAME
from connectors.records import KindClass
from ledger.group_days import DayRange, StayRow, group_of, member_days, whole_group
from ledger.group_errors import GroupsUnavailable, Unavailable, UnknownGroup
from ledger.group_facts import Reconciled
from ledger.group_models import BillingGroupCycle, BillingGroupStay, GroupSyncState
from ledger.group_sync import UNAVAILABLE_PLAN
from ledger.periods import Period
from ledger.queries import ROLLUPS, Breakdown, Row, Scope, Totals, totals_and_breakdown
from ledger.types import Money

CYCLES: Any = BillingGroupCycle.__table__  # type: ignore[attr-defined]
STAYS: Any = BillingGroupStay.__table__  # type: ignore[attr-defined]
_CHUNK = 500
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
    query = (
        select(CYCLES.c.group_id, CYCLES.c.name)
        .where(CYCLES.c.connection_id == connection_id)
        .order_by(CYCLES.c.cycle_start)
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


def _bounds(scope: Scope, period: Period) -> tuple[datetime, datetime]:
    tz = scope.tz
    start = datetime.combine(period.start, time(), tz)
    end = datetime.combine(period.end + timedelta(days=1), time(), tz)
    return start, end


def member_ranges(session: Session, scope: Scope, period: Period) -> dict[str, list[DayRange]]:
    """Per member, the days of ``period`` in each group (Unassigned days left out)."""
    start, end = _bounds(scope, period)
    query = (
        select(
            CYCLES.c.cycle_start,
            CYCLES.c.cycle_end,
            STAYS.c.group_id,
            STAYS.c.email,
            STAYS.c.joined_at,
            STAYS.c.left_at,
        )
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
    )
    stays = [StayRow(*row) for row in session.connection().execute(query)]
    return member_days(stays, scope.tz, period.start, period.end)


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
    for email, day, _, values in _day_rows(session, scope, moved, period, None):
        group_id = group_of(ranges[email], day) or UNASSIGNED_ID
        _add(sums[group_id], values[:4])
    rows = _rows({names.label(g): v for g, v in sums.items()})
    return summary, rows, {g: Decimal(v[0]) for g, v in sums.items()}


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


def reconcile(
    session: Session,
    scope: Scope,
    period: Period,
    ledger_cents: dict[str, Decimal],
    names: Directory,
    *,
    only: str | None = None,
) -> list[Reconciled]:
    """Groups whose total differs from Cursor's by a cent or more, when the period starts
    on a billing cycle Cursor's groups were read for; empty otherwise."""
    tz = scope.tz
    query = select(CYCLES.c.cycle_start, CYCLES.c.group_id, CYCLES.c.spend_cents, CYCLES.c.read_at)
    query = query.where(CYCLES.c.connection_id == scope.connection_id)
    differing: list[Reconciled] = []
    for cycle_start, group_id, cursor_cents, read_at in session.connection().execute(query):
        if cycle_start.astimezone(tz).date() != period.start or only not in (None, group_id):
            continue
        ours = ledger_cents.get(group_id, Decimal(0))
        if abs(ours - Decimal(cursor_cents)) >= 1:
            differing.append(Reconciled(names.label(group_id), ours, cursor_cents, read_at))
    differing.sort(key=lambda item: -abs(item.difference_cents))
    return differing
