"""Read side: totals and breakdowns for a period, from rollups only (coarse ones where
they answer: ``ledger.report_plan``).

Every query is scoped to one workspace's connection; nothing here reads raw
events, so answers stay fast however long the history grows.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import (
    BigInteger,
    ColumnElement,
    FromClause,
    Select,
    Table,
    case,
    func,
    select,
    type_coerce,
    union_all,
)
from sqlmodel import Session

from connectors.records import KindClass
from ledger import report_plan
from ledger.accounts import find_connection
from ledger.coarse_rollups import COARSE
from ledger.errors import Input, InvalidValue
from ledger.group_facts import GroupFacts
from ledger.import_join import History, connection_history
from ledger.models import Connection, SpendSnapshot, SyncState, UsageRollup, Workspace
from ledger.periods import Cycle, Period, month_before
from ledger.types import Money

ROLLUPS: Table = UsageRollup.__table__  # type: ignore[attr-defined]
SPEND: Table = SpendSnapshot.__table__  # type: ignore[attr-defined]


class Breakdown(enum.StrEnum):
    USER = "user"
    MODEL = "model"
    DAY = "day"
    KIND = "kind"
    #: Billing groups: answered by ``ledger.group_reports``, never by the rollup reads here.
    GROUP = "group"

    @classmethod
    def parse(cls, text: str) -> Breakdown:
        try:
            return cls(text.strip().lower())
        except ValueError:
            raise InvalidValue(Input.BREAKDOWN, text) from None


#: The measures a report or digest sums over rollups, in the order their rows unpack:
#: cents, events, input, output, cache-read and cache-write tokens.
_SUMMED = (
    "charged_cents",
    "events",
    "input_tokens",
    "output_tokens",
    "cache_read_tokens",
    "cache_write_tokens",
)
MEASURE_SUMS = tuple(func.sum(ROLLUPS.c[m]) for m in _SUMMED)


def _report_sums(table: FromClause) -> tuple[ColumnElement[Any], ...]:
    """``MEASURE_SUMS`` of ``table``, then its on-demand and included cents: one row per
    key, the kind classes folded in the database rather than per row in Python."""
    cents = table.c.charged_cents
    return (
        *(func.sum(table.c[m]) for m in _SUMMED),
        *(  # in the stored form: only their totals are converted (``_fold``)
            type_coerce(
                func.sum(case((table.c.kind_class == kind.value, cents), else_=0)), BigInteger()
            )
            for kind in (KindClass.ON_DEMAND, KindClass.INCLUDED)
        ),
    )


_MONEY = Money()
_FINE_SUMS = _report_sums(ROLLUPS)
_COARSE_SUMS = _report_sums(COARSE)

_DIMENSION = {
    Breakdown.USER: ROLLUPS.c.user_email,
    Breakdown.MODEL: ROLLUPS.c.model,
    Breakdown.DAY: ROLLUPS.c.day,
    Breakdown.KIND: ROLLUPS.c.kind_class,
}


@dataclass(frozen=True)
class Row:
    key: str
    cents: Decimal
    events: int
    input_tokens: int
    output_tokens: int


@dataclass(frozen=True)
class Totals:
    cents: Decimal = Decimal(0)
    on_demand_cents: Decimal = Decimal(0)
    included_cents: Decimal = Decimal(0)
    events: int = 0
    input_tokens: int = 0
    output_tokens: int = 0
    cache_read_tokens: int = 0
    cache_write_tokens: int = 0


@dataclass(frozen=True)
class Report:
    provider: str
    workspace: str
    timezone: str
    period: Period
    by: Breakdown
    user: str | None
    as_of: datetime | None
    history_start: datetime | None
    cycle: Cycle
    totals: Totals
    rows: list[Row]
    #: Where history starts and from which source (imported CSV, the API).
    history: History | None = None
    #: The local day the report was asked on (freshness is said against it).
    today: date | None = None
    #: Set on reports by billing group (``ledger.group_reports``).
    groups: GroupFacts | None = None


@dataclass(frozen=True)
class Scope:
    """What a query may see: one connection, in one timezone."""

    workspace: Workspace
    connection: Connection

    @property
    def connection_id(self) -> int:
        assert self.connection.id is not None
        return self.connection.id

    @property
    def tz(self) -> ZoneInfo:
        return ZoneInfo(self.workspace.timezone)


def scope_for(session: Session, workspace: Workspace, provider: str = "cursor") -> Scope:
    connection = find_connection(session, workspace, provider)
    assert connection is not None
    return Scope(workspace=workspace, connection=connection)


def current_cycle(session: Session, scope: Scope, today: date) -> Cycle:
    """The billing cycle from the newest spend snapshots (calendar month if none yet)."""
    starts = (
        session.execute(
            select(SPEND.c.cycle_start)
            .where(SPEND.c.connection_id == scope.connection_id)
            .group_by(SPEND.c.cycle_start)
            .order_by(SPEND.c.cycle_start.desc())
            .limit(2)
        )
        .scalars()
        .all()
    )
    if not starts:
        return Cycle(
            start=today.replace(day=1),
            previous_start=month_before(today.replace(day=1)),
            assumed=True,
        )
    tz = scope.tz
    start = starts[0].astimezone(tz).date()
    previous = starts[1].astimezone(tz).date() if len(starts) > 1 else month_before(start)
    return Cycle(start=start, previous_start=previous)


def _filters(scope: Scope, period: Period, user: str | None) -> list[ColumnElement[bool]]:
    conditions = [
        ROLLUPS.c.connection_id == scope.connection_id,
        ROLLUPS.c.day >= period.start,
        ROLLUPS.c.day <= period.end,
    ]
    if user is not None:
        conditions.append(ROLLUPS.c.user_email == user.lower())
    return conditions


def totals(session: Session, scope: Scope, period: Period, user: str | None = None) -> Totals:
    return totals_and_breakdown(session, scope, period, Breakdown.KIND, user)[0]


def breakdown(
    session: Session, scope: Scope, period: Period, by: Breakdown, user: str | None = None
) -> list[Row]:
    return totals_and_breakdown(session, scope, period, by, user)[1]


def totals_and_breakdown(
    session: Session,
    scope: Scope,
    period: Period,
    by: Breakdown,
    user: str | None = None,
    *,
    today: date | None = None,
) -> tuple[Totals, list[Row]]:
    """Both at once, from the coarse rollups where they answer (``ledger.report_plan``).
    ``today`` (local; the clock if None) only steers which rows are cheaper to read, never
    the answer."""
    if user is not None:
        return fine_totals_and_breakdown(session, scope, period, by, user)
    if by is Breakdown.USER:
        today = today or datetime.now(scope.tz).date()
        pieces = report_plan.user_pieces(period.start, period.end, today)
    else:
        pieces = report_plan.team_pieces(period.start, period.end)
    column = COARSE.c[_DIMENSION[by].name]

    def where(piece: report_plan.Piece) -> list[ColumnElement[bool]]:
        return [
            COARSE.c.connection_id == scope.connection_id,
            COARSE.c.grain == piece.grain,
            *(  # one block: rows come in key order, grouped without sorting
                (COARSE.c.day == piece.first,)
                if piece.first == piece.last
                else (COARSE.c.day >= piece.first, COARSE.c.day <= piece.last)
            ),
        ]

    if len(pieces) == 1 and pieces[0].sign > 0:
        query = select(column, *_COARSE_SUMS).where(*where(pieces[0])).group_by(column)
        return _fold(session, [(1, query)])
    # Several pieces: their rows (negated where taken away) summed in one statement, so
    # Python folds one row per key, not one per key and piece.
    parts = [
        select(
            column.label("key"),
            COARSE.c.kind_class,
            *(
                (
                    COARSE.c[m] if piece.sign > 0 else type_coerce(-COARSE.c[m], COARSE.c[m].type)
                ).label(m)
                for m in _SUMMED
            ),
        ).where(*where(piece))
        for piece in pieces
    ]
    rows = union_all(*parts).subquery()
    query = select(rows.c.key, *_report_sums(rows)).group_by(rows.c.key)
    return _fold(session, [(1, query)])


def fine_totals_and_breakdown(
    session: Session, scope: Scope, period: Period, by: Breakdown, user: str | None = None
) -> tuple[Totals, list[Row]]:
    """The same answer from ``usage_rollup`` alone: one person's reports (through the
    (user, day) index), and the reference the coarse path is tested and measured against."""
    dimension = _DIMENSION[by]
    query = select(dimension, *_FINE_SUMS).where(*_filters(scope, period, user)).group_by(dimension)
    return _fold(session, [(1, query)])


def _fold(session: Session, grouped: list[tuple[int, Select[Any]]]) -> tuple[Totals, list[Row]]:
    """Rows (key, cents, events, in, out, cache read, cache write, on-demand cents, included
    cents) of each query, times its sign, summed per key; keys whose measures all sum to zero
    are left out (a month row minus its days outside the period leaves such keys). Plain
    loops: this runs once per row of a 1,000-member answer."""
    connection = session.connection()
    rows: dict[Any, list[Any]] = {}
    for sign, query in grouped:
        for key, *values in connection.execute(query):
            row = rows.get(key)
            if row is None:
                rows[key] = values if sign > 0 else [-value for value in values]
            else:
                for i, value in enumerate(values):
                    row[i] += value if sign > 0 else -value
    sums = [sum(column) for column in zip(*rows.values(), strict=True)] or [0] * 8
    kept = [
        (key.isoformat() if isinstance(key, date) else str(key), row)
        for key, row in rows.items()
        if any(row[:6])
    ]
    kept.sort(key=lambda item: (-item[1][0], item[0]))
    result = [
        Row(label, Decimal(row[0]), int(row[1]), int(row[2]), int(row[3])) for label, row in kept
    ]
    summary = Totals(
        cents=Decimal(sums[0]),
        on_demand_cents=_MONEY.process_result_value(sums[6], connection.dialect) or Decimal(0),
        included_cents=_MONEY.process_result_value(sums[7], connection.dialect) or Decimal(0),
        events=int(sums[1]),
        input_tokens=int(sums[2]),
        output_tokens=int(sums[3]),
        cache_read_tokens=int(sums[4]),
        cache_write_tokens=int(sums[5]),
    )
    return summary, result


def freshness(session: Session, scope: Scope) -> tuple[datetime | None, datetime | None]:
    """(newest instant whose data is synced, oldest day the provider had) for a scope."""
    state = session.get(SyncState, scope.connection_id)
    return (state.events_synced_to if state else None), scope.connection.history_start


def build_report(
    session: Session,
    *,
    scope: Scope,
    period: Period,
    by: Breakdown,
    cycle: Cycle,
    user: str | None = None,
    today: date | None = None,
) -> Report:
    as_of, history_start = freshness(session, scope)
    summary, rows = totals_and_breakdown(session, scope, period, by, user, today=today)
    return Report(
        provider=scope.connection.provider,
        workspace=scope.workspace.slack_team_id,
        timezone=scope.workspace.timezone,
        period=period,
        by=by,
        user=user.lower() if user else None,
        as_of=as_of,
        history_start=history_start,
        cycle=cycle,
        totals=summary,
        rows=rows,
        history=connection_history(session, scope.connection_id, history_start),
        today=today,
    )
