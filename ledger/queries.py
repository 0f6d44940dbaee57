"""Read side: totals and breakdowns for a period, from rollups only.

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

from sqlalchemy import ColumnElement, Table, func, select
from sqlmodel import Session

from connectors.records import KindClass
from ledger.accounts import find_connection
from ledger.errors import Input, InvalidValue
from ledger.import_join import History, connection_history
from ledger.models import Connection, SpendSnapshot, SyncState, UsageRollup, Workspace
from ledger.periods import Cycle, Period, month_before

ROLLUPS: Table = UsageRollup.__table__  # type: ignore[attr-defined]
SPEND: Table = SpendSnapshot.__table__  # type: ignore[attr-defined]


class Breakdown(enum.StrEnum):
    USER = "user"
    MODEL = "model"
    DAY = "day"
    KIND = "kind"

    @classmethod
    def parse(cls, text: str) -> Breakdown:
        try:
            return cls(text.strip().lower())
        except ValueError:
            raise InvalidValue(Input.BREAKDOWN, text) from None


#: The measures a report or digest sums over rollups, in the order their rows unpack:
#: cents, events, input, output, cache-read and cache-write tokens.
MEASURE_SUMS = (
    func.sum(ROLLUPS.c.charged_cents),
    func.sum(ROLLUPS.c.events),
    func.sum(ROLLUPS.c.input_tokens),
    func.sum(ROLLUPS.c.output_tokens),
    func.sum(ROLLUPS.c.cache_read_tokens),
    func.sum(ROLLUPS.c.cache_write_tokens),
)

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
    session: Session, scope: Scope, period: Period, by: Breakdown, user: str | None = None
) -> tuple[Totals, list[Row]]:
    """Both in one scan of the period's rollups: grouped by the dimension and kind class."""
    dimension = _DIMENSION[by]
    query = (
        select(
            dimension,
            ROLLUPS.c.kind_class,
            *MEASURE_SUMS,
        )
        .where(*_filters(scope, period, user))
        .group_by(dimension, ROLLUPS.c.kind_class)
    )
    rows: dict[str, list[Any]] = {}
    sums: list[Any] = [Decimal(0), 0, 0, 0, 0, 0]
    by_kind: dict[str, Decimal] = {}
    for key, kind, cents, events, tokens_in, tokens_out, cache_read, cache_write in session.execute(
        query
    ):
        label = key.isoformat() if isinstance(key, date) else str(key)
        amount = Decimal(cents or 0)
        values: list[Any] = [amount, int(events or 0), int(tokens_in or 0), int(tokens_out or 0)]
        row = rows.setdefault(label, [Decimal(0), 0, 0, 0])
        for i, value in enumerate(values):
            row[i] += value
        for i, value in enumerate([*values, int(cache_read or 0), int(cache_write or 0)]):
            sums[i] += value
        by_kind[kind] = by_kind.get(kind, Decimal(0)) + amount
    ordered = sorted(rows.items(), key=lambda item: (-item[1][0], item[0]))
    result = [Row(key, cents, events, t_in, t_out) for key, (cents, events, t_in, t_out) in ordered]
    summary = Totals(
        cents=Decimal(sums[0]),
        on_demand_cents=by_kind.get(KindClass.ON_DEMAND.value, Decimal(0)),
        included_cents=by_kind.get(KindClass.INCLUDED.value, Decimal(0)),
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
) -> Report:
    as_of, history_start = freshness(session, scope)
    summary, rows = totals_and_breakdown(session, scope, period, by, user)
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
    )
