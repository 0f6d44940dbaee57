"""What a daily digest needs, read from rollups, spend snapshots and sync state.

``digest_inputs`` reads the rollups in three grouped queries: one scan grouped by
local day x model x kind class (yesterday, the trailing week, the cycle, its models,
the chart's 30 days all come from it), one grouped by user for the top list, one sum
for last cycle at the same point. It returns plain frozen values; composing and
rendering the digest is ``digests.daily``'s job and never touches the database.

Every day here is a local calendar day in the workspace's reporting timezone; the
digest for ``today`` is about ``today - 1`` ("yesterday") and the billing cycle up
to and including yesterday.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from typing import Any

from sqlalchemy import ColumnElement, func, select
from sqlmodel import Session

from connectors.records import KindClass
from ledger.periods import TRAILING_DAYS, Cycle, month_before
from ledger.queries import ROLLUPS, Row, Scope, Totals, current_cycle, freshness
from ledger.visibility import Viewer, sees_everyone

#: Days of spend by model the digest's chart shows (ending yesterday).
CHART_DAYS = 30


@dataclass(frozen=True)
class DigestInputs:
    """Everything the daily digest is composed from; no database behind it."""

    provider: str
    team_id: str
    workspace_name: str
    timezone: str
    #: The local day the digest is for; it reports on ``yesterday`` (today - 1).
    today: date
    #: The instant the digest was prepared (freshness is judged against it).
    now: datetime
    yesterday_totals: Totals
    #: Cents of the 7 local days before yesterday, oldest first; no usage counts as 0.
    trailing_cents: tuple[Decimal, ...]
    #: The billing cycle that contains yesterday.
    cycle: Cycle
    #: Days in that cycle (its start up to the next cycle's start).
    cycle_days: int
    #: cycle.start .. yesterday.
    cycle_totals: Totals
    #: Last cycle's spend from its start to the same point (as many days as this cycle has had).
    last_cycle_same_point_cents: Decimal
    #: Cents per local day from cycle.start to yesterday, oldest first; no usage counts as 0.
    cycle_daily_cents: tuple[Decimal, ...]
    #: Cycle-to-date rows by user and by model, largest first, at most ``top`` of each.
    top_users: tuple[Row, ...]
    top_models: tuple[Row, ...]
    #: How many users and models spent anything this cycle (the top lists may show fewer).
    user_count: int
    model_count: int
    #: (local day, model, cents) for the last 30 days ending yesterday; only non-empty cells.
    daily_by_model: tuple[tuple[date, str, Decimal], ...]
    connection_status: str
    last_error: str | None
    last_success_at: datetime | None
    failing_since: datetime | None
    #: Every event up to this instant has been synced (None: never synced).
    as_of: datetime | None
    #: The oldest instant the provider had when the connection was first synced.
    history_start: datetime | None
    budget_lines: tuple[str, ...] = ()
    alert_lines: tuple[str, ...] = ()
    #: Per-person spend is left out for the digest's readers: ``top_users`` is empty.
    people_hidden: bool = False

    @property
    def yesterday(self) -> date:
        return self.today - timedelta(days=1)

    @property
    def cycle_end(self) -> date:
        """The cycle's last local day."""
        return self.cycle.start + timedelta(days=self.cycle_days - 1)

    @property
    def chart_start(self) -> date:
        return self.yesterday - timedelta(days=CHART_DAYS - 1)


def month_after(day: date) -> date:
    """The same day of the next month, or the month's last usable day (like month_before)."""
    year, month = (day.year, day.month + 1) if day.month < 12 else (day.year + 1, 1)
    for candidate_day in (day.day, 30, 29, 28):
        try:
            return date(year, month, candidate_day)
        except ValueError:
            continue
    raise AssertionError("unreachable")  # pragma: no cover


def cycle_containing(cycle: Cycle, day: date) -> Cycle:
    """The cycle that contains ``day``, stepping from ``cycle`` by whole months.

    The newest spend snapshot may already be for a cycle that starts today (the
    digest then reports on the cycle that just ended), or be weeks old when syncs
    fail (the cycle is then carried forward month by month).
    """
    while day < cycle.start:
        cycle = Cycle(
            start=cycle.previous_start,
            previous_start=month_before(cycle.previous_start),
            assumed=cycle.assumed,
        )
    while month_after(cycle.start) <= day:
        cycle = Cycle(start=month_after(cycle.start), previous_start=cycle.start, assumed=True)
    return cycle


def _where(scope: Scope, first: date, last: date) -> list[ColumnElement[bool]]:
    return [
        ROLLUPS.c.connection_id == scope.connection_id,
        ROLLUPS.c.day >= first,
        ROLLUPS.c.day <= last,
    ]


def _as_date(value: object) -> date:
    # SQLite hands back dates as ISO strings when they come out of an aggregate query.
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    return date.fromisoformat(str(value))


@dataclass(frozen=True)
class _Cell:
    """Rollups of one local day x model x kind class, summed over users."""

    day: date
    model: str
    kind_class: str
    cents: Decimal
    events: int
    input_tokens: int
    output_tokens: int
    cache_read_tokens: int
    cache_write_tokens: int


def _cells(session: Session, scope: Scope, first: date, last: date) -> list[_Cell]:
    """One scan of the rollups for ``first .. last``; every day-based figure comes from it."""
    query = (
        select(
            ROLLUPS.c.day,
            ROLLUPS.c.model,
            ROLLUPS.c.kind_class,
            func.sum(ROLLUPS.c.charged_cents),
            func.sum(ROLLUPS.c.events),
            func.sum(ROLLUPS.c.input_tokens),
            func.sum(ROLLUPS.c.output_tokens),
            func.sum(ROLLUPS.c.cache_read_tokens),
            func.sum(ROLLUPS.c.cache_write_tokens),
        )
        .where(*_where(scope, first, last))
        .group_by(ROLLUPS.c.day, ROLLUPS.c.model, ROLLUPS.c.kind_class)
    )
    return [
        _Cell(
            day=_as_date(day),
            model=str(model),
            kind_class=str(kind),
            cents=Decimal(cents or 0),
            events=int(events or 0),
            input_tokens=int(tokens_in or 0),
            output_tokens=int(tokens_out or 0),
            cache_read_tokens=int(cache_read or 0),
            cache_write_tokens=int(cache_write or 0),
        )
        for day, model, kind, cents, events, tokens_in, tokens_out, cache_read, cache_write in (
            session.execute(query)
        )
    ]


def _totals(cells: list[_Cell]) -> Totals:
    def cents(kind: KindClass) -> Decimal:
        return sum((c.cents for c in cells if c.kind_class == kind.value), Decimal(0))

    return Totals(
        cents=sum((c.cents for c in cells), Decimal(0)),
        on_demand_cents=cents(KindClass.ON_DEMAND),
        included_cents=cents(KindClass.INCLUDED),
        events=sum(c.events for c in cells),
        input_tokens=sum(c.input_tokens for c in cells),
        output_tokens=sum(c.output_tokens for c in cells),
        cache_read_tokens=sum(c.cache_read_tokens for c in cells),
        cache_write_tokens=sum(c.cache_write_tokens for c in cells),
    )


def _model_rows(cells: list[_Cell], top: int) -> tuple[tuple[Row, ...], int]:
    """The ``top`` models by cents (ties by name), and how many models appear at all."""
    sums: dict[str, list[Any]] = {}
    for cell in cells:
        entry = sums.setdefault(cell.model, [Decimal(0), 0, 0, 0])
        entry[0] += cell.cents
        entry[1] += cell.events
        entry[2] += cell.input_tokens
        entry[3] += cell.output_tokens
    ranked = sorted(sums.items(), key=lambda item: (-item[1][0], item[0]))
    rows = tuple(
        Row(key=model, cents=cents, events=events, input_tokens=tin, output_tokens=tout)
        for model, (cents, events, tin, tout) in ranked[:top]
    )
    return rows, len(sums)


def _daily(cells: list[_Cell]) -> dict[date, Decimal]:
    days: dict[date, Decimal] = defaultdict(Decimal)
    for cell in cells:
        days[cell.day] += cell.cents
    return days


def _daily_by_model(cells: list[_Cell], first: date) -> tuple[tuple[date, str, Decimal], ...]:
    sums: dict[tuple[date, str], Decimal] = defaultdict(Decimal)
    for cell in cells:
        if cell.day >= first:
            sums[cell.day, cell.model] += cell.cents
    return tuple((day, model, cents) for (day, model), cents in sorted(sums.items()) if cents)


def _sum_cents(session: Session, scope: Scope, first: date, last: date) -> Decimal:
    if last < first:
        return Decimal(0)
    query = select(func.sum(ROLLUPS.c.charged_cents)).where(*_where(scope, first, last))
    return Decimal(session.execute(query).scalar() or 0)


def _top(
    session: Session, scope: Scope, first: date, last: date, column: str, top: int
) -> tuple[tuple[Row, ...], int]:
    """The ``top`` largest rows by ``column`` and how many distinct keys spent at all."""
    dimension = ROLLUPS.c[column]
    cents = func.sum(ROLLUPS.c.charged_cents)
    query = (
        select(
            dimension,
            cents,
            func.sum(ROLLUPS.c.events),
            func.sum(ROLLUPS.c.input_tokens),
            func.sum(ROLLUPS.c.output_tokens),
            func.count().over(),
        )
        .where(*_where(scope, first, last))
        .group_by(dimension)
        .order_by(cents.desc(), dimension)
        .limit(max(top, 1))
    )
    rows: list[Row] = []
    count = 0
    for key, total, events, tokens_in, tokens_out, groups in session.execute(query):
        count = int(groups)
        rows.append(
            Row(
                key=str(key),
                cents=Decimal(total or 0),
                events=int(events or 0),
                input_tokens=int(tokens_in or 0),
                output_tokens=int(tokens_out or 0),
            )
        )
    return tuple(rows[:top]), count


def _series(values: dict[date, Decimal], first: date, last: date) -> tuple[Decimal, ...]:
    days = (last - first).days + 1
    return tuple(values.get(first + timedelta(days=i), Decimal(0)) for i in range(max(days, 0)))


def digest_inputs(
    session: Session,
    scope: Scope,
    *,
    today: date,
    top: int = 5,
    now: datetime | None = None,
    viewer: Viewer | None = None,
) -> DigestInputs:
    """Read what the digest for local day ``today`` needs (it reports on today - 1).

    ``now`` is the instant freshness is judged against; it defaults to the start of
    ``today`` in the workspace's timezone. Callers that know the time should pass it.
    ``viewer`` is who reads the digest (a channel, for posted digests): when they may not
    see every person's spend (``ledger.visibility``), no per-person figure is read at all.
    None reads everything (an admin's or the terminal's own preview).
    """
    tz = scope.tz
    yesterday = today - timedelta(days=1)
    if now is None:
        now = datetime.combine(today, time(), tz)
    cycle = cycle_containing(current_cycle(session, scope, yesterday), yesterday)
    cycle_days = (month_after(cycle.start) - cycle.start).days
    elapsed = yesterday - cycle.start  # days of this cycle before yesterday

    trailing_first = yesterday - timedelta(days=TRAILING_DAYS)
    chart_first = yesterday - timedelta(days=CHART_DAYS - 1)
    cells = _cells(session, scope, min(trailing_first, cycle.start, chart_first), yesterday)
    in_cycle = [cell for cell in cells if cell.day >= cycle.start]
    daily = _daily(cells)
    top_models, model_count = _model_rows(in_cycle, top)
    people_hidden = viewer is not None and not sees_everyone(viewer)
    top_users: tuple[Row, ...] = ()
    user_count = 0
    if not people_hidden:
        top_users, user_count = _top(session, scope, cycle.start, yesterday, "user_email", top)

    last_cycle_end = min(cycle.previous_start + elapsed, cycle.start - timedelta(days=1))
    last_point = _sum_cents(session, scope, cycle.previous_start, last_cycle_end)

    as_of, history_start = freshness(session, scope)
    connection = scope.connection
    return DigestInputs(
        provider=connection.provider,
        team_id=scope.workspace.slack_team_id,
        workspace_name=scope.workspace.name,
        timezone=scope.workspace.timezone,
        today=today,
        now=now,
        yesterday_totals=_totals([cell for cell in cells if cell.day == yesterday]),
        trailing_cents=_series(daily, trailing_first, yesterday - timedelta(days=1)),
        cycle=cycle,
        cycle_days=cycle_days,
        cycle_totals=_totals(in_cycle),
        last_cycle_same_point_cents=last_point,
        cycle_daily_cents=_series(daily, cycle.start, yesterday),
        top_users=top_users,
        top_models=top_models,
        user_count=user_count,
        model_count=model_count,
        daily_by_model=_daily_by_model(cells, chart_first),
        connection_status=connection.status,
        last_error=connection.last_error,
        last_success_at=connection.last_success_at,
        failing_since=connection.failing_since,
        as_of=as_of,
        history_start=history_start,
        people_hidden=people_hidden,
    )
