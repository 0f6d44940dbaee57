"""Light and deep syncs against the simulator: light ones keep every hour's totals exact,
the deep one corrects what Cursor revised after the light overlap, each run counts its
requests."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

from sqlalchemy import Engine
from sqlmodel import col, select

from connectors.cursor.endpoints import DAILY_USAGE, GROUPS, MEMBERS, SPEND, USAGE_EVENTS
from ledger.db import session_scope
from ledger.errors import SyncNotDue
from ledger.models import SyncKind, SyncRun, SyncState, SyncTrigger
from ledger.sync import SyncOptions, SyncOutcome, sync_connection
from tests.ledger.support import Team, make_team, same_cents

LIGHT_OVERLAP = timedelta(hours=2)


def run(team: Team, kind: SyncKind, **kwargs: object) -> SyncOutcome:
    access = team.access()
    try:
        outcome = sync_connection(
            team.engine,
            connection_id=team.connection_id,
            source_for_key=access.source,
            box=team.box,
            now=team.clock.now,
            trigger=SyncTrigger.SCHEDULE,
            options=SyncOptions(light_overlap=LIGHT_OVERLAP),
            kind=kind,
            **kwargs,  # type: ignore[arg-type]
        )
    finally:
        access.close()
    assert outcome.ok, outcome.error
    return outcome


def stored_run(team: Team, run_id: int) -> SyncRun:
    with session_scope(team.engine) as session:
        stored = session.get(SyncRun, run_id)
        assert stored is not None
        return stored


def on_the_hour(team: Team) -> None:
    team.clock.now = team.clock.now.replace(minute=0, second=0, microsecond=0)


def test_a_first_sync_asked_light_is_deep_it_has_a_history_to_read(engine: Engine) -> None:
    team = make_team(engine, users=4, days=5)
    outcome = run(team, SyncKind.LIGHT)
    assert outcome.kind is SyncKind.DEEP
    assert stored_run(team, outcome.run_id).kind is SyncKind.DEEP
    assert same_cents(team.ledger_total(), team.sim_total())


def test_hourly_light_syncs_keep_the_totals_equal_to_cursor_s_at_every_hour(
    engine: Engine,
) -> None:
    team = make_team(engine, users=8, days=4)
    on_the_hour(team)
    run(team, SyncKind.DEEP)
    for hour in range(1, 25):  # a simulated day, a light sync on each hour
        team.clock.advance(hours=1)
        before = len(team.sim.calls)
        outcome = run(team, SyncKind.LIGHT)
        assert outcome.kind is SyncKind.LIGHT
        assert same_cents(team.ledger_total(), team.sim_total()), f"hour {hour}"
        sent = team.sim.calls[before:]
        # Events only, and only the overlap and the new hour: one window, one page here.
        assert {path for _, path, _ in sent} == {USAGE_EVENTS}
        assert outcome.window_start is not None and outcome.window_end is not None
        assert outcome.window_end - outcome.window_start <= LIGHT_OVERLAP + timedelta(hours=1)
        stored = stored_run(team, outcome.run_id)
        assert (stored.kind, stored.cursor_requests) == (SyncKind.LIGHT, len(sent))


def test_a_deep_sync_reads_members_spend_groups_and_daily_usage_and_counts_its_requests(
    engine: Engine,
) -> None:
    team = make_team(engine, users=4, days=5)
    run(team, SyncKind.DEEP)
    team.clock.advance(hours=5)
    before = len(team.sim.calls)
    outcome = run(team, SyncKind.DEEP)
    sent = team.sim.calls[before:]
    assert {path.partition("?")[0] for _, path, _ in sent} == {
        MEMBERS, USAGE_EVENTS, SPEND, GROUPS, DAILY_USAGE
    }  # fmt: skip
    assert outcome.window_start is not None and outcome.window_end is not None
    assert outcome.window_end - outcome.window_start > timedelta(hours=48)
    assert stored_run(team, outcome.run_id).cursor_requests == len(sent) == outcome.requests
    assert team.sim.requests_per_route()[MEMBERS] == 2
    with session_scope(engine) as session:
        state = session.get(SyncState, team.connection_id)
        assert state is not None and state.members_synced_at == team.clock.now


def test_an_event_revised_30_hours_later_is_corrected_by_the_deep_sync_not_the_light_ones(
    engine: Engine,
) -> None:
    team = make_team(engine, users=8, days=4)
    on_the_hour(team)
    run(team, SyncKind.DEEP)
    happened = team.clock.now - timedelta(hours=3)
    event = team.sim.wire_events(happened - timedelta(hours=1), happened)[0]
    team.clock.advance(hours=30)  # 30 hours of light syncs, all correct...
    for _ in range(30):
        run(team, SyncKind.LIGHT)
    assert same_cents(team.ledger_total(), team.sim_total())
    revised = float(event["chargedCents"]) + 400.0
    team.sim.revise_event(int(event["timestamp"]), charged_cents=revised)  # ...then revised
    gap = team.sim_total() - team.ledger_total()
    assert same_cents(gap, Decimal(400))

    for _ in range(3):  # light syncs re-read two hours: the revision is a day older
        team.clock.advance(hours=1)
        light = run(team, SyncKind.LIGHT)
        assert light.events.revised == 0
        assert same_cents(team.sim_total() - team.ledger_total(), Decimal(400))

    team.clock.advance(hours=1)
    deep = run(team, SyncKind.DEEP)
    assert deep.events.revised == 1
    assert same_cents(team.ledger_total(), team.sim_total())


def test_a_deep_sync_is_not_due_again_after_one_ran_but_a_light_one_does_not_count(
    engine: Engine,
) -> None:
    team = make_team(engine, users=4, days=3)
    on_the_hour(team)
    first = run(team, SyncKind.DEEP)
    team.clock.advance(hours=1)
    run(team, SyncKind.LIGHT)
    # A deep sync due since before the light one runs: the light one does not stand for it.
    assert first.kind is SyncKind.DEEP
    team.clock.advance(minutes=10)
    deep = run(team, SyncKind.DEEP, unless_synced_since=team.clock.now - timedelta(minutes=30))
    assert deep.kind is SyncKind.DEEP
    # Another replica's deep job a moment later finds it done.
    try:
        run(team, SyncKind.DEEP, unless_synced_since=team.clock.now - timedelta(minutes=30))
    except SyncNotDue:
        pass
    else:  # pragma: no cover - the assertion below explains
        raise AssertionError("a second deep sync ran for the same turn")
    with session_scope(engine) as session:
        kinds = session.exec(
            select(SyncRun.kind).order_by(col(SyncRun.started_at), col(SyncRun.id))
        ).all()
    assert kinds == [SyncKind.DEEP, SyncKind.LIGHT, SyncKind.DEEP]
