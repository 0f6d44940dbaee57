"""Reports equal the provider's own totals to the cent, for every period, in any timezone."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import Engine

from bot.usecases.reports import report_for
from digests.errors import error_text
from ledger.errors import LedgerError, PeriodError
from tests.ledger.support import Clock, Team, make_team, same_cents

PERIODS = [
    "today",
    "yesterday",
    "7d",
    "30d",
    "week",
    "month",
    "cycle",
    "last-cycle",
    "2026-11-10",
    "2026-10-28..2026-11-03",
]


@pytest.fixture(params=["UTC", "America/New_York", "Asia/Kolkata"])
def synced(request: pytest.FixtureRequest, engine: Engine) -> Team:
    team = make_team(engine, timezone=request.param, users=10, days=70)
    assert team.sync().ok
    return team


def test_report_totals_equal_the_simulator_for_every_period(synced: Team) -> None:
    team = synced
    for period in PERIODS:
        report = report_for(
            team.engine, workspace_ref="T1", period_text=period, by="user", now=team.clock.now
        )
        truth = team.sim_local_days(report.period.start, report.period.end, report.timezone)
        assert truth > 0, period
        assert same_cents(report.totals.cents, truth), (period, report.period)
        rows_total = sum((row.cents for row in report.rows), Decimal(0))
        assert same_cents(rows_total, report.totals.cents)
        split = report.totals.on_demand_cents + report.totals.included_cents
        assert split <= report.totals.cents + Decimal("0.0001")


def test_the_billing_cycle_comes_from_the_spend_snapshot(synced: Team) -> None:
    team = synced
    report = report_for(
        team.engine, workspace_ref="T1", period_text="cycle", by="kind", now=team.clock.now
    )
    cycle_start = team.sim.cycle_start().astimezone(ZoneInfo(report.timezone))
    assert report.period.start == cycle_start.date()
    assert not report.cycle.assumed
    kinds = {row.key for row in report.rows}
    assert kinds <= {"on_demand", "included", "other"}


def test_a_range_across_the_dst_change_counts_every_local_day_once(engine: Engine) -> None:
    team = make_team(engine, timezone="America/New_York", users=8, days=40)
    team.sync()
    # US clocks fell back on 2026-11-01: that local day has 25 hours.
    report = report_for(
        team.engine,
        workspace_ref="T1",
        period_text="2026-10-31..2026-11-02",
        by="day",
        now=team.clock.now,
    )
    assert [row.key for row in sorted(report.rows, key=lambda r: r.key)] == [
        "2026-10-31",
        "2026-11-01",
        "2026-11-02",
    ]
    for row in report.rows:
        day = date.fromisoformat(row.key)
        assert same_cents(row.cents, team.sim_local_days(day, day, "America/New_York"))
    assert same_cents(
        report.totals.cents,
        team.sim_local_days(date(2026, 10, 31), date(2026, 11, 2), "America/New_York"),
    )


def test_one_persons_view_and_breakdowns_agree(synced: Team) -> None:
    team = synced
    by_user = report_for(
        team.engine, workspace_ref="T1", period_text="30d", by="user", now=team.clock.now
    )
    person = by_user.rows[0]
    mine = report_for(
        team.engine,
        workspace_ref="T1",
        period_text="30d",
        by="model",
        user=person.key,
        now=team.clock.now,
    )
    assert mine.user == person.key
    assert same_cents(mine.totals.cents, person.cents)
    assert mine.totals.events == person.events
    by_model = report_for(
        team.engine, workspace_ref="T1", period_text="30d", by="model", now=team.clock.now
    )
    assert same_cents(sum((r.cents for r in by_model.rows), Decimal(0)), by_user.totals.cents)
    assert [r.cents for r in by_model.rows] == sorted(
        (r.cents for r in by_model.rows), reverse=True
    )


def test_every_answer_says_as_of_and_history_start(synced: Team) -> None:
    team = synced
    report = report_for(
        team.engine, workspace_ref="T1", period_text="7d", by="day", now=team.clock.now
    )
    assert report.as_of == datetime(2026, 11, 25, 13, 59, 59, 999000, tzinfo=UTC)
    assert report.history_start is not None
    assert report.history_start < team.clock.now - timedelta(days=60)


def test_one_workspace_never_sees_anothers_data(engine: Engine) -> None:
    clock = Clock()
    first = make_team(engine, team_id="TA", clock=clock, seed=1)
    second = make_team(engine, team_id="TB", clock=clock, seed=2, users=3)
    first.sync()
    second.sync()
    a = report_for(engine, workspace_ref="TA", period_text="30d", by="user", now=clock.now)
    b = report_for(engine, workspace_ref="TB", period_text="30d", by="user", now=clock.now)
    assert a.totals.cents != b.totals.cents
    assert not {row.key for row in a.rows} & {row.key for row in b.rows} - {"(removed user)"}
    assert same_cents(b.totals.cents, second.sim_local_days(b.period.start, b.period.end, "UTC"))


def test_unknown_workspace_and_missing_connection_say_what_to_do(engine: Engine) -> None:
    with pytest.raises(LedgerError) as refused:
        report_for(engine, workspace_ref="T9", period_text="7d", by="user", now=datetime.now(UTC))
    assert "No workspace 'T9'" in error_text(refused.value)
    make_team(engine, team_id="T1")
    with pytest.raises(PeriodError) as refused:
        report_for(
            engine, workspace_ref="T1", period_text="someday", by="user", now=datetime.now(UTC)
        )
    assert "Unknown period" in error_text(refused.value)
    with pytest.raises(LedgerError) as refused:
        report_for(engine, workspace_ref="T1", period_text="7d", by="colour", now=datetime.now(UTC))
    assert "Unknown breakdown" in error_text(refused.value)
