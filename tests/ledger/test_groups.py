"""Billing groups in the ledger, against the simulator: sync, totals, moves, deletions, 403."""

from __future__ import annotations

from collections import defaultdict
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

from sqlalchemy import Engine, func, select
from sqlmodel import select as select_rows

from connectors.cursor.endpoints import GROUPS
from connectors.cursor.sim_team import DEMO_API_KEY
from connectors.cursor.simulator import wire_charge
from connectors.cursor.windows import settled_end
from connectors.group_records import UNASSIGNED_NAME
from ledger.db import session_scope
from ledger.group_errors import GroupsUnavailable, Unavailable, UnknownGroup
from ledger.group_models import BillingGroupCycle, BillingGroupStay, GroupSyncState
from ledger.group_reports import build_group_report
from ledger.models import Workspace
from ledger.periods import Period, parse_period
from ledger.queries import Breakdown, Report, current_cycle, scope_for
from tests.ledger.support import CENT_TOLERANCE, Team, make_team

CYCLE = Period(date(2026, 11, 1), date(2026, 11, 25), "this billing cycle")


def group_truth(team: Team, first: date, last: date) -> dict[str, Decimal]:
    """Each group's total from the simulator's own events and memberships (UTC days):
    a day counts in the group the member was in at its end."""
    sim = team.sim
    start = datetime.combine(first, datetime.min.time(), UTC)
    end = min(
        datetime.combine(last + timedelta(days=1), datetime.min.time(), UTC),
        settled_end(team.clock.now),
    )
    by_email = {m.email: m.index for m in sim.team.members}
    live = {g.id: g.name for g in sim.groups.live()}
    totals: dict[str, Decimal] = defaultdict(Decimal)
    for event in sim.wire_events(start, end - timedelta(milliseconds=1)):
        moment = datetime.fromtimestamp(int(event["timestamp"]) / 1000, UTC)
        day_end = datetime.combine(moment.date() + timedelta(days=1), datetime.min.time(), UTC)
        end_ms = int(day_end.timestamp() * 1000)
        member = by_email.get(event.get("userEmail", ""))
        name = UNASSIGNED_NAME
        for stay in sim.groups.memberships:
            mine = stay.member == member and stay.group_id in live
            if mine and stay.joined_ms < end_ms <= (stay.left_ms or end_ms):
                name = live[stay.group_id]
        totals[name] += wire_charge(event)
    return dict(totals)


def report(
    team: Team, period: Period = CYCLE, *, group: str | None = None, by: Breakdown = Breakdown.USER
) -> Report:
    with session_scope(team.engine) as session:
        workspace = session.exec(select_rows(Workspace)).one()
        scope = scope_for(session, workspace)
        cycle = current_cycle(session, scope, period.end)
        return build_group_report(
            session, scope=scope, period=period, cycle=cycle, by=by, group=group, today=period.end
        )


def cents_by_key(result: Report) -> dict[str, Decimal]:
    return {row.key: row.cents for row in result.rows}


def assert_close(ours: dict[str, Decimal], truth: dict[str, Decimal]) -> None:
    keys = {k for k, v in {**ours, **truth}.items() if v}
    for key in keys:
        assert abs(ours.get(key, Decimal(0)) - truth.get(key, Decimal(0))) <= CENT_TOLERANCE, key


def test_group_totals_equal_their_members_events_and_add_up_to_the_team(engine: Engine) -> None:
    team = make_team(engine, groups=4, days=40, removed_fraction=0.0)
    outcome = team.sync()
    assert outcome.ok, outcome.error

    result = report(team)

    assert result.by is Breakdown.GROUP
    assert_close(cents_by_key(result), group_truth(team, CYCLE.start, CYCLE.end))
    assert abs(sum(cents_by_key(result).values()) - result.totals.cents) <= CENT_TOLERANCE
    assert UNASSIGNED_NAME in cents_by_key(result)  # some members are in no group
    assert result.groups is not None and result.groups.reconciliation == []  # agrees with Cursor


def test_a_member_moved_mid_cycle_counts_in_each_group_for_their_own_days(engine: Engine) -> None:
    team = make_team(engine, groups=3, days=40, removed_fraction=0.0)
    sim = team.sim
    team.clock.now = datetime(2026, 11, 12, 15, 0, tzinfo=UTC)
    mover = next(m for m in sim.team.members if sim.groups.current_of(m.index) is not None)
    old = sim.groups.get(sim.groups.current_of(mover.index).group_id).name  # type: ignore[union-attr]
    new = next(g.name for g in sim.groups.live() if g.name != old)
    sim.move_to_group(mover.email, new)
    team.clock.now = datetime(2026, 11, 25, 14, 30, tzinfo=UTC)
    assert team.sync().ok

    before = sim.charged_cents(
        datetime(2026, 11, 1, tzinfo=UTC),
        datetime(2026, 11, 12, tzinfo=UTC) - timedelta(milliseconds=1),
        by="user",
    ).get(mover.email, Decimal(0))
    after = sim.charged_cents(
        datetime(2026, 11, 12, tzinfo=UTC), settled_end(team.clock.now), by="user"
    ).get(mover.email, Decimal(0))
    assert before > 0 and after > 0
    old_rows = cents_by_key(report(team, group=old))
    new_rows = cents_by_key(report(team, group=new))

    assert abs(old_rows[mover.email] - before) <= CENT_TOLERANCE  # Nov 1-11
    assert abs(new_rows[mover.email] - after) <= CENT_TOLERANCE  # the day of the move on
    assert_close(cents_by_key(report(team)), group_truth(team, CYCLE.start, CYCLE.end))


def test_a_deleted_groups_usage_lands_in_unassigned(engine: Engine) -> None:
    team = make_team(engine, groups=3, days=40)
    assert team.sync().ok
    first = cents_by_key(report(team))
    doomed = next(g.name for g in team.sim.groups.live())
    assert first[doomed] > 0

    team.sim.delete_group(doomed)
    assert team.sync().ok
    second = cents_by_key(report(team))

    assert doomed not in second
    assert abs(second[UNASSIGNED_NAME] - first[UNASSIGNED_NAME] - first[doomed]) <= CENT_TOLERANCE
    assert_close(second, group_truth(team, CYCLE.start, CYCLE.end))


def test_older_cycles_keep_what_was_known_when_cursor_no_longer_serves_them(
    engine: Engine,
) -> None:
    team = make_team(engine, groups=2, days=70)
    assert team.sync().ok  # backfills September, October, November
    september = Period(date(2026, 9, 1), date(2026, 9, 30), "september")
    known = cents_by_key(report(team, september))
    team.sim.delete_group(next(g.name for g in team.sim.groups.live()))
    assert team.sync().ok  # reads November and October only

    assert cents_by_key(report(team, september)) == known
    with session_scope(engine) as session:
        cycles = session.execute(
            select(func.count(func.distinct(BillingGroupCycle.cycle_start)))
        ).scalar_one()
    assert cycles == 3


def test_sync_of_groups_is_idempotent_and_asks_two_cycles_per_run(engine: Engine) -> None:
    team = make_team(engine, groups=3, days=40)
    assert team.sync().ok
    with session_scope(engine) as session:
        stays = sorted(
            (s.group_id, s.email, s.joined_at) for s in session.exec(select_rows(BillingGroupStay))
        )
    asked = len(team.sim.requests)
    assert team.sync().ok
    with session_scope(engine) as session:
        again = sorted(
            (s.group_id, s.email, s.joined_at) for s in session.exec(select_rows(BillingGroupStay))
        )
        state = session.get(GroupSyncState, team.connection_id)
    group_calls = [r for r in team.sim.requests[asked:] if r.path.startswith(GROUPS)]

    assert again == stays and stays
    assert [r.path for r in group_calls] == [
        f"{GROUPS}?billingCycle=2026-11-25",
        f"{GROUPS}?billingCycle=2026-10-31",
    ]
    assert state is not None and state.available and state.requests == 2


def test_a_team_without_groups_keeps_syncing_and_says_why(engine: Engine) -> None:
    team = make_team(engine, groups=2, days=20)
    team.sim.add_key(DEMO_API_KEY, "non-enterprise")  # the connection's key

    outcome = team.sync()

    assert outcome.ok, outcome.error
    assert outcome.events.new > 0
    with session_scope(engine) as session:
        state = session.get(GroupSyncState, team.connection_id)
    assert state is not None and not state.available
    assert "Enterprise" in (state.reason or "")
    try:
        report(team)
    except GroupsUnavailable as error:
        assert error.why is Unavailable.PLAN
    else:
        raise AssertionError("a report by group was served without groups")


def test_an_unknown_group_is_refused_with_the_names_there_are(engine: Engine) -> None:
    team = make_team(engine, groups=2, days=20)
    assert team.sync().ok
    try:
        report(team, group="Nope")
    except UnknownGroup as error:
        assert set(error.known) == {g.name for g in team.sim.groups.live()}
    else:
        raise AssertionError("an unknown group was answered")


def test_reconciliation_lists_groups_that_differ_from_cursor(engine: Engine) -> None:
    team = make_team(engine, groups=3, days=40, timezone="America/Los_Angeles")
    assert team.sync().ok
    with session_scope(engine) as session:
        workspace = session.exec(select_rows(Workspace)).one()
        scope = scope_for(session, workspace)
        today = team.clock.now.astimezone(scope.tz).date()
        period = parse_period("cycle", today=today, cycle=current_cycle(session, scope, today))
    # Cursor's cycle runs from midnight UTC, this report from midnight in Los Angeles.
    assert period.start == date(2026, 10, 31)
    result = report(team, period)
    assert result.groups is not None
    differing = result.groups.reconciliation
    assert differing, "local days and Cursor's UTC cycle should not agree to the cent"
    for item in differing:
        assert abs(item.difference_cents) >= 1
        assert item.difference_cents == item.ledger_cents - item.cursor_cents


def test_a_report_after_the_next_sync_sees_a_move_made_since(engine: Engine) -> None:
    team = make_team(engine, groups=3, days=40, removed_fraction=0.0)
    assert team.sync().ok
    sim = team.sim
    today = datetime(2026, 11, 25, tzinfo=UTC)
    spent_today = sim.charged_cents(today, settled_end(team.clock.now), by="user")
    mover = next(
        m
        for m in sim.team.members
        if sim.groups.current_of(m.index) is not None and spent_today.get(m.email)
    )
    stay = sim.groups.current_of(mover.index)
    assert stay is not None
    old = sim.groups.get(stay.group_id).name
    new = next(g.name for g in sim.groups.live() if g.name != old)
    before = cents_by_key(report(team, group=old))[mover.email]  # cached for this period

    sim.move_to_group(mover.email, new)  # at the same instant as the last sync
    assert team.sync().ok

    after = cents_by_key(report(team, group=old))[mover.email]
    assert abs(before - after - spent_today[mover.email]) <= CENT_TOLERANCE  # today: the new
    assert abs(cents_by_key(report(team, group=new))[mover.email] - spent_today[mover.email]) <= (
        CENT_TOLERANCE
    )
    assert_close(cents_by_key(report(team)), group_truth(team, CYCLE.start, CYCLE.end))


def test_groups_failing_to_read_never_fail_the_sync_and_the_last_ones_are_kept(
    engine: Engine,
) -> None:
    team = make_team(engine, groups=2, days=20)
    team.sim.faults.fail_next(503, count=2, path=GROUPS)  # the team support retries once
    outcome = team.sync()
    assert outcome.ok, outcome.error
    with session_scope(engine) as session:
        state = session.get(GroupSyncState, team.connection_id)
    assert state is not None and "next sync tries again" in (state.reason or "")
    try:
        report(team)
    except GroupsUnavailable as error:
        assert error.why is Unavailable.NOT_READ and "503" in error.detail
    else:
        raise AssertionError("groups were reported before any were read")

    assert team.sync().ok
    known = cents_by_key(report(team))
    team.sim.faults.fail_next(503, count=2, path=GROUPS)
    assert team.sync().ok
    assert cents_by_key(report(team)) == known  # what was read before still answers
