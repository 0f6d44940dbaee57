"""What a daily digest needs, read from rollups, spend snapshots and sync state.

``digest_inputs`` reads the rollups in three grouped queries (``ledger.digest_reads``):
one scan grouped by local day x model x kind class (yesterday, the trailing week, the
cycle, its models, the chart's 30 days all come from it), one grouped by user for the
top list, one sum for last cycle at the same point. It returns plain frozen values; composing and
rendering the digest is ``digests.daily``'s job and never touches the database.

Every day here is a local calendar day in the workspace's reporting timezone; the
digest for ``today`` is about ``today - 1`` ("yesterday") and the billing cycle up
to and including yesterday.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from decimal import Decimal

from sqlmodel import Session

from ledger import calendar_math as cal
from ledger.digest_reads import (
    Cell,
    daily_by_model,
    daily_cents,
    model_rows,
    read_cells,
    series,
    sum_cents,
    top_rows,
    totals_of,
)
from ledger.import_join import History, connection_history
from ledger.periods import TRAILING_DAYS, Cycle
from ledger.queries import Row, Scope, Totals, current_cycle, freshness
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
    #: Where history starts and from which source (imported CSV, the API).
    history: History | None = None
    #: Seats idle on yesterday (``ledger.seats``) and the seat price, when the bot adds them.
    idle_seats: int = 0
    seat_price_cents: int | None = None

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


def _anchor_day(cycle: Cycle) -> int:
    """The day of the month ``cycle``'s cycles start on: a start clamped to a short month's
    end (Feb 28) keeps the later day of the start before it (Jan 31)."""
    start, previous = cycle.start, cycle.previous_start
    return max(start.day, previous.day) if start.day >= 28 else start.day


def _nth_start(cycle: Cycle, months: int) -> date:
    """The start of the cycle ``months`` after ``cycle`` (before it if negative)."""
    first = cal.add_months(cycle.start.replace(day=1), months)
    return first.replace(day=min(_anchor_day(cycle), cal.month_end(first.year, first.month).day))


def next_cycle_start(cycle: Cycle) -> date:
    """The day after ``cycle`` ends: Jan 31, Feb 28, Mar 31 for cycles starting on the 31st."""
    return _nth_start(cycle, 1)


def cycle_containing(cycle: Cycle, day: date) -> Cycle:
    """The cycle that contains ``day``, stepping from ``cycle`` by whole months (on its
    anchor day, so a cycle of the 31st never drifts to the 28th after February).

    The newest spend snapshot may already be for a cycle that starts today (the
    digest then reports on the cycle that just ended), or be weeks old when syncs
    fail (the cycle is then carried forward month by month).
    """
    months = (day.year - cycle.start.year) * 12 + day.month - cycle.start.month
    if _nth_start(cycle, months) > day:
        months -= 1
    if months == 0:
        return cycle
    return Cycle(
        start=_nth_start(cycle, months),
        previous_start=_nth_start(cycle, months - 1),
        assumed=True if months > 0 else cycle.assumed,
    )


@dataclass(frozen=True)
class _Window:
    """The local days a digest reads: yesterday, its cycle, the trailing week, the chart."""

    today: date
    #: The billing cycle that contains yesterday, and its length in days.
    cycle: Cycle
    cycle_days: int

    @property
    def yesterday(self) -> date:
        return self.today - timedelta(days=1)

    @property
    def trailing_first(self) -> date:
        return self.yesterday - timedelta(days=TRAILING_DAYS)

    @property
    def chart_first(self) -> date:
        return self.yesterday - timedelta(days=CHART_DAYS - 1)

    @property
    def first(self) -> date:
        """The first day the one scan of the rollups needs."""
        return min(self.trailing_first, self.cycle.start, self.chart_first)

    @property
    def last_cycle_end(self) -> date:
        """Last cycle's day at the same point as yesterday is in this one (within it)."""
        elapsed = self.yesterday - self.cycle.start  # days of this cycle before yesterday
        return min(self.cycle.previous_start + elapsed, self.cycle.start - timedelta(days=1))


def _window(session: Session, scope: Scope, today: date) -> _Window:
    yesterday = today - timedelta(days=1)
    cycle = cycle_containing(current_cycle(session, scope, yesterday), yesterday)
    return _Window(
        today=today, cycle=cycle, cycle_days=(next_cycle_start(cycle) - cycle.start).days
    )


@dataclass(frozen=True)
class _Reads:
    """What the database gives for one digest, before it is folded into figures."""

    cells: list[Cell]
    top_users: tuple[Row, ...]
    user_count: int
    last_cycle_same_point_cents: Decimal
    as_of: datetime | None
    history_start: datetime | None
    history: History


def _read(
    session: Session, scope: Scope, window: _Window, top: int, *, people_hidden: bool
) -> _Reads:
    """The rollup scan, the top users (none when people are hidden), last cycle's sum
    and the sync state."""
    cells = read_cells(session, scope, window.first, window.yesterday)
    top_users: tuple[Row, ...] = ()
    user_count = 0
    if not people_hidden:
        first, last = window.cycle.start, window.yesterday
        top_users, user_count = top_rows(session, scope, first, last, "user_email", top)
    last_point = sum_cents(session, scope, window.cycle.previous_start, window.last_cycle_end)
    as_of, history_start = freshness(session, scope)
    history = connection_history(session, scope.connection_id, history_start)
    return _Reads(cells, top_users, user_count, last_point, as_of, history_start, history)


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
    if now is None:
        now = datetime.combine(today, time(), scope.tz)
    window = _window(session, scope, today)
    people_hidden = viewer is not None and not sees_everyone(viewer)
    reads = _read(session, scope, window, top, people_hidden=people_hidden)
    return _assemble(scope, window, reads, top=top, now=now, people_hidden=people_hidden)


def _assemble(
    scope: Scope, window: _Window, reads: _Reads, *, top: int, now: datetime, people_hidden: bool
) -> DigestInputs:
    """The figures folded from ``reads``, with the workspace and connection they are for."""
    yesterday, cycle, cells = window.yesterday, window.cycle, reads.cells
    in_cycle = [cell for cell in cells if cell.day >= cycle.start]
    daily = daily_cents(cells)
    top_models, model_count = model_rows(in_cycle, top)
    connection = scope.connection
    return DigestInputs(
        provider=connection.provider,
        team_id=scope.workspace.slack_team_id,
        workspace_name=scope.workspace.name,
        timezone=scope.workspace.timezone,
        today=window.today,
        now=now,
        yesterday_totals=totals_of([cell for cell in cells if cell.day == yesterday]),
        trailing_cents=series(daily, window.trailing_first, yesterday - timedelta(days=1)),
        cycle=cycle,
        cycle_days=window.cycle_days,
        cycle_totals=totals_of(in_cycle),
        last_cycle_same_point_cents=reads.last_cycle_same_point_cents,
        cycle_daily_cents=series(daily, cycle.start, yesterday),
        top_users=reads.top_users,
        top_models=top_models,
        user_count=reads.user_count,
        model_count=model_count,
        daily_by_model=daily_by_model(cells, window.chart_first),
        connection_status=connection.status,
        last_error=connection.last_error,
        last_success_at=connection.last_success_at,
        failing_since=connection.failing_since,
        as_of=reads.as_of,
        history_start=reads.history_start,
        people_hidden=people_hidden,
        history=reads.history,
    )
