"""Seats and adoption from a simulated team whose members join, leave and go idle."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal

import pytest

from ledger.accounts import find_workspace
from ledger.adoption import adoption_report
from ledger.db import session_scope
from ledger.periods import Period, parse_period
from ledger.queries import current_cycle, scope_for
from ledger.seats import SeatReport, seat_report
from tests.ledger.seat_support import END, changing_team, seat_days, spread_cost, truth
from tests.ledger.support import Team

pytestmark = pytest.mark.slow

PRICE = 4000  # $40 a month
CYCLES = [date(2026, 9, 15), date(2026, 10, 15), date(2026, 11, 15), date(2026, 12, 15)]


@pytest.fixture(scope="module")
def team(tmp_path_factory: pytest.TempPathFactory) -> Team:
    from ledger import migrate
    from ledger.db import make_engine

    url = f"sqlite:///{tmp_path_factory.mktemp('seats') / 'ledger.db'}"
    migrate.upgrade(url)
    return changing_team(make_engine(url))


def _report(
    team: Team, period_text: str, *, idle_days: int = 14, price: int | None = PRICE
) -> SeatReport:
    with session_scope(team.engine) as session:
        scope = scope_for(session, find_workspace(session, "T1"))
        today = END.date()
        cycle = current_cycle(session, scope, today)
        period = parse_period(period_text, today=today, cycle=cycle)
        return seat_report(
            session, scope, period=period, cycle=cycle, today=today, price_cents=price,
            idle_days=idle_days,
        )  # fmt: skip


def test_the_cycle_comes_from_the_spend_snapshot(team: Team) -> None:
    report = _report(team, "cycle")
    assert report.cycle.start == date(2026, 11, 15)
    assert report.period == Period(date(2026, 11, 15), END.date(), "this billing cycle")


@pytest.mark.parametrize("period_text", ["cycle", "last-cycle", "2026-10-20..2026-11-20", "60d"])
def test_seat_counts_joins_and_departures_match_the_team(team: Team, period_text: str) -> None:
    report = _report(team, period_text)
    first, reference = report.period.start, min(report.period.end, END.date())
    held = seat_days(team)
    paid = {
        email
        for email, (joined, removed) in held.items()
        if (joined is None or joined <= reference) and (removed is None or removed >= first)
    }
    facts = truth(team, first - timedelta(days=90), reference)
    active = {e for e in paid if any(first <= d <= reference for d in facts.active_days.get(e, ()))}
    assert report.seats_paid == len(paid)
    assert report.active_seats == len(active)
    joined = {e for e, (j, _) in held.items() if j is not None and first <= j <= reference}
    left = {e for e, (_, r) in held.items() if r is not None and first <= r <= reference}
    assert {f.email for f in report.joined} == joined
    assert {f.email for f in report.left} == left
    assert joined or left or period_text == "cycle"  # the periods do see people come and go


@pytest.mark.parametrize("period_text", ["cycle", "last-cycle", "2026-10-20..2026-11-20"])
def test_seat_cost_spreads_the_price_over_each_cycle_and_cost_per_active_seat_adds_usage(
    team: Team, period_text: str
) -> None:
    report = _report(team, period_text)
    reference = min(report.period.end, END.date())
    held = {
        e: days
        for e, days in seat_days(team).items()
        if (days[0] is None or days[0] <= reference)
        and (days[1] is None or days[1] >= report.period.start)
    }
    expected = spread_cost(held, report.period.start, reference, PRICE, CYCLES)
    assert report.seat_cost_cents is not None
    assert abs(report.seat_cost_cents - expected) <= 1
    truth_usage = team.sim_local_days(report.period.start, report.period.end, "UTC")
    assert abs(report.usage_cost_cents - truth_usage) < Decimal("0.01")
    per_seat = (report.usage_cost_cents + report.seat_cost_cents) / report.active_seats
    assert report.cost_per_active_seat_cents == int(per_seat.to_integral_value("ROUND_HALF_UP"))


def test_seats_cost_a_thirtieth_a_day_of_a_30_day_cycle_from_where_history_starts(
    team: Team,
) -> None:
    report = _report(team, "2026-09-15..2026-10-04")  # before anyone came or went
    # history starts Sep 26: 9 days (Sep 26 - Oct 4) of the cycle's 30 (Sep 15 - Oct 14)
    assert report.seat_cost_cents == round(Decimal(report.seats_paid * PRICE * 9) / 30)
    hostile = _report(team, "0001-01-01..2026-10-04")  # centuries are not walked
    assert hostile.seat_cost_cents == report.seat_cost_cents


def test_idle_seats_are_the_settled_seats_without_activity_in_the_window(team: Team) -> None:
    for idle_days in (14, 7):
        report = _report(team, "cycle", idle_days=idle_days)
        reference = END.date()
        facts = truth(team, reference - timedelta(days=89), reference)
        expected = {}
        for email, (joined, removed) in seat_days(team).items():
            if removed is not None and removed < reference:
                continue
            if joined is not None and joined > reference - timedelta(days=idle_days - 1):
                continue  # too new to judge
            days = facts.active_days.get(email, set())
            last = max(days) if days else None
            if last is None or last <= reference - timedelta(days=idle_days):
                expected[email] = last
        assert {i.email: i.last_active for i in report.idle} == expected
        assert report.idle_cost_per_month_cents == PRICE * len(expected)
    assert _report(team, "cycle").idle, "the simulated idle members show up"


def test_idle_members_of_the_simulator_are_listed(team: Team) -> None:
    idle = {m.email for m in team.sim.team.members if m.idle_from_ms is not None}
    report = _report(team, "cycle")
    assert idle <= {i.email for i in report.idle}


def test_without_a_seat_price_there_is_no_seat_cost(team: Team) -> None:
    report = _report(team, "cycle", price=None)
    assert report.seat_cost_cents is None
    assert report.cost_per_active_seat_cents is None
    assert report.idle_cost_per_month_cents is None
    assert report.usage_per_active_seat_cents is not None


@pytest.mark.parametrize("period_text", ["cycle", "last-cycle", "2026-10-20..2026-11-20"])
def test_adoption_figures_equal_the_simulators_daily_usage_data(
    team: Team, period_text: str
) -> None:
    with session_scope(team.engine) as session:
        scope = scope_for(session, find_workspace(session, "T1"))
        cycle = current_cycle(session, scope, END.date())
        period = parse_period(period_text, today=END.date(), cycle=cycle)
        report = adoption_report(session, scope, period=period)
    facts = truth(team, period.start, period.end)
    rows = {row.email: row for row in report.rows}
    assert {e for e, days in facts.active_days.items() if days} <= rows.keys()
    for email, row in rows.items():
        sums = facts.sums.get(email, {})
        assert row.usage.active_days == len(facts.active_days.get(email, ()))
        assert row.usage.accepted_lines == sums.get("acceptedLinesAdded", 0)
        assert row.usage.lines_added == sums.get("totalLinesAdded", 0)
        requests = sum(
            sums.get(f, 0)
            for f in ("composerRequests", "chatRequests", "agentRequests", "cmdkUsages")
        )
        assert row.usage.requests == requests
        assert row.usage.agent_requests == sums.get("agentRequests", 0)
    spend = team.sim.charged_cents(*_utc_bounds(period.start, period.end, team), by="user")
    for email, cents in spend.items():
        assert abs(rows[email].spend_cents - cents) < Decimal("0.0001")
    assert abs(report.team.spend_cents - sum(spend.values())) < Decimal("0.001")


def _utc_bounds(first: date, last: date, team: Team) -> tuple[datetime, datetime]:
    from connectors.cursor.windows import settled_end

    start = datetime.combine(first, time(), UTC)
    end = min(datetime.combine(last + timedelta(days=1), time(), UTC), settled_end(team.clock.now))
    return start, end - timedelta(milliseconds=1) if end.microsecond == 0 else end


@pytest.mark.postgres
def test_postgresql_gives_the_same_seats_and_adoption(team: Team, postgres_schema_url: str) -> None:
    from ledger import migrate
    from ledger.db import make_engine

    migrate.upgrade(postgres_schema_url)
    engine = make_engine(postgres_schema_url)
    try:
        other = changing_team(engine)
        for period_text in ("cycle", "last-cycle", "2026-10-20..2026-11-20"):
            assert _report(other, period_text) == _report(team, period_text)
            with session_scope(engine) as pg, session_scope(team.engine) as lite:
                reports = []
                for session in (pg, lite):
                    scope = scope_for(session, find_workspace(session, "T1"))
                    cycle = current_cycle(session, scope, END.date())
                    period = parse_period(period_text, today=END.date(), cycle=cycle)
                    reports.append(adoption_report(session, scope, period=period))
            assert reports[0] == reports[1]
    finally:
        engine.dispose()


def test_members_cursor_leaves_out_entirely_are_seen_leaving_too(
    tmp_path_factory: pytest.TempPathFactory,
) -> None:
    from ledger import migrate
    from ledger.db import make_engine

    url = f"sqlite:///{tmp_path_factory.mktemp('omit') / 'ledger.db'}"
    migrate.upgrade(url)
    engine = make_engine(url)
    try:
        omitting = changing_team(engine, omit_removed_members=True)
        report = _report(omitting, "60d")
        held = seat_days(omitting)
        left = {e for e, (_, removed) in held.items() if removed is not None}
        assert left and {f.email for f in report.left} == left
        assert report.seats_at_reference == sum(1 for _, r in held.values() if r is None)
    finally:
        engine.dispose()
