"""Sync rules: exact, idempotent, crash-safe, never forgetting."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest
from sqlalchemy import Engine, func, select
from sqlmodel import col
from sqlmodel import select as select_rows

from connectors.cursor.endpoints import USAGE_EVENTS
from connectors.cursor.source import EventPage
from connectors.cursor.windows import from_ms
from connectors.records import UNKNOWN_USER
from ledger.db import session_scope
from ledger.event_rows import EVENTS
from ledger.ingest import IngestResult
from ledger.models import Connection, ConnectionStatus, Member, SyncRun, SyncState, SyncTrigger
from ledger.rollups import ROLLUPS
from tests.ledger.support import make_team, same_cents


def event_count(engine: Engine, connection_id: int) -> int:
    with session_scope(engine) as session:
        query = (
            select(func.count()).select_from(EVENTS).where(EVENTS.c.connection_id == connection_id)
        )
        return int(session.execute(query).scalar_one())


def test_first_sync_stores_every_event_the_provider_returns(engine: Engine) -> None:
    team = make_team(engine)
    outcome = team.sync()

    assert outcome.ok, outcome.error
    assert outcome.events.new == outcome.events.seen > 0
    assert event_count(engine, team.connection_id) == outcome.events.new
    assert same_cents(team.ledger_total(), team.sim_total())
    assert outcome.history_start is not None
    assert outcome.history_start <= team.clock.now - timedelta(days=19)


def test_resync_of_the_same_window_adds_nothing(engine: Engine) -> None:
    team = make_team(engine)
    team.sync()
    before = team.ledger_total()

    again = team.sync(overlap_hours=24 * 30)

    assert again.ok and again.events.seen > 0
    assert (again.events.new, again.events.revised) == (0, 0)
    assert team.ledger_total() == before
    assert same_cents(before, team.sim_total())


def test_page_size_does_not_change_rows_or_totals(engine: Engine) -> None:
    team = make_team(engine, users=6, days=6)
    team.sync(page_size=37)
    rows = event_count(engine, team.connection_id)
    team.sync(page_size=1000, overlap_hours=24 * 10)
    assert event_count(engine, team.connection_id) == rows
    assert same_cents(team.ledger_total(), team.sim_total())


def test_incremental_sync_picks_up_new_hours(engine: Engine) -> None:
    team = make_team(engine)
    team.sync()
    first = team.ledger_total()
    team.clock.advance(hours=30)

    outcome = team.sync()

    assert outcome.ok and outcome.events.new > 0
    assert team.ledger_total() > first
    assert same_cents(team.ledger_total(), team.sim_total())
    assert outcome.window_start is not None and outcome.window_end is not None
    # Only the overlap and the new hours were read, not the whole history again.
    assert outcome.window_end - outcome.window_start < timedelta(hours=48 + 31)


def test_revised_event_in_the_overlap_replaces_the_earlier_version(engine: Engine) -> None:
    team = make_team(engine)
    team.sync()
    recent = team.sim.wire_events(team.clock.now - timedelta(hours=20), team.clock.now)[0]
    revised_charge = float(recent["chargedCents"]) + 250.0
    team.sim.revise_event(int(recent["timestamp"]), charged_cents=revised_charge)
    team.clock.advance(hours=1)

    outcome = team.sync()

    assert outcome.events.revised == 1 and outcome.events.new >= 0
    assert same_cents(team.ledger_total(), team.sim_total())
    with session_scope(engine) as session:
        stored = (
            session.execute(
                select(EVENTS.c.charged_cents).where(
                    EVENTS.c.connection_id == team.connection_id,
                    EVENTS.c.occurred_at == from_ms(int(recent["timestamp"])),
                )
            )
            .scalars()
            .all()
        )
    assert Decimal(repr(revised_charge)).quantize(Decimal("1E-8")) in stored


def test_nothing_older_than_retention_is_ever_deleted(engine: Engine) -> None:
    team = make_team(engine, retention_days=5, days=4)
    team.sync()
    stored = event_count(engine, team.connection_id)
    total = team.ledger_total()
    team.clock.advance(days=10)  # everything synced is now past the provider's retention

    outcome = team.sync()

    assert outcome.ok
    assert event_count(engine, team.connection_id) >= stored
    assert team.ledger_total() >= total


def test_removed_member_keeps_their_name_and_their_events(engine: Engine) -> None:
    team = make_team(engine)
    team.sync()
    by_user_before = _by_user(engine, team.connection_id)
    someone = max(by_user_before, key=lambda email: by_user_before[email])
    team.sim.remove_member(someone)

    team.sync(overlap_hours=24 * 30)  # re-read everything: their events now come without email

    assert _by_user(engine, team.connection_id) == by_user_before
    with session_scope(engine) as session:
        member = session.exec(select_rows(Member).where(col(Member.email) == someone)).one()
        assert member.is_removed and member.name


def _by_user(engine: Engine, connection_id: int) -> dict[str, Decimal]:
    with session_scope(engine) as session:
        rows = session.execute(
            select(ROLLUPS.c.user_email, func.sum(ROLLUPS.c.charged_cents))
            .where(ROLLUPS.c.connection_id == connection_id)
            .group_by(ROLLUPS.c.user_email)
        ).all()
    return {email: Decimal(total) for email, total in rows if total}


def test_revoked_key_mid_run_marks_the_connection_revoked_and_keeps_earlier_pages(
    engine: Engine,
) -> None:
    team = make_team(engine)
    team.sim.faults.revoke_after_calls = 4  # members, probe..., then a few pages

    outcome = team.sync(page_size=100)

    assert not outcome.ok and "revoked" in (outcome.error or "")
    with session_scope(engine) as session:
        connection = session.get(Connection, team.connection_id)
        assert connection is not None
        assert connection.status == ConnectionStatus.REVOKED
        run = session.get(SyncRun, outcome.run_id)
        assert run is not None and run.status == "failed" and run.finished_at is not None


def test_malformed_page_fails_the_run_keeps_earlier_pages_and_the_next_run_completes(
    engine: Engine,
) -> None:
    team = make_team(engine)

    def break_the_fourth_page(page: EventPage, _result: IngestResult) -> None:
        if page.page == 3:
            team.sim.faults.malform_next(1, path=USAGE_EVENTS)

    outcome = team.sync(page_size=100, on_page=break_the_fourth_page)

    assert not outcome.ok
    assert "could not be read" in (outcome.error or "")
    assert outcome.pages == 3
    assert event_count(engine, team.connection_id) == 300
    with session_scope(engine) as session:
        connection = session.get(Connection, team.connection_id)
        assert connection is not None and connection.status == ConnectionStatus.FAILING
        assert connection.failing_since is not None
        state = session.get(SyncState, team.connection_id)
        assert state is not None and state.resume_page == 4

    recovered = team.sync(page_size=100)

    assert recovered.ok, recovered.error
    assert same_cents(team.ledger_total(), team.sim_total())
    with session_scope(engine) as session:
        connection = session.get(Connection, team.connection_id)
        assert connection is not None and connection.status == ConnectionStatus.ACTIVE
        assert connection.last_error is None and connection.failing_since is None


def test_server_errors_mark_the_connection_failing_then_a_good_run_clears_it(
    engine: Engine,
) -> None:
    team = make_team(engine)
    team.sim.faults.fail_next(503, count=50)

    outcome = team.sync()

    assert not outcome.ok and "failed 2 times" in (outcome.error or "")
    team.sim.faults.reset()
    assert team.sync().ok
    assert same_cents(team.ledger_total(), team.sim_total())


def test_events_without_email_are_kept_under_the_placeholder(engine: Engine) -> None:
    team = make_team(engine, removed_fraction=0.3)
    team.sync()
    by_user = _by_user(engine, team.connection_id)
    truth = team.sim.charged_cents(team.clock.now - timedelta(days=400), team.clock.now, by="user")
    assert truth.get(UNKNOWN_USER, Decimal(0)) > 0
    assert same_cents(by_user[UNKNOWN_USER], truth[UNKNOWN_USER])


def test_sync_run_is_recorded_with_its_window_and_counts(engine: Engine) -> None:
    team = make_team(engine)
    outcome = team.sync()
    with session_scope(engine) as session:
        run = session.get(SyncRun, outcome.run_id)
        assert run is not None
        assert run.status == "ok" and run.trigger == SyncTrigger.MANUAL
        assert run.pages == outcome.pages and run.events_new == outcome.events.new
        assert run.window_start == outcome.window_start and run.window_end == outcome.window_end


@pytest.mark.parametrize("timezone", ["Asia/Kolkata", "America/New_York"])
def test_changing_the_timezone_rebuilds_rollups_by_local_day(engine: Engine, timezone: str) -> None:
    from ledger.accounts import find_workspace, set_timezone

    team = make_team(engine)
    team.sync()
    with session_scope(engine) as session:
        rebuilt = set_timezone(session, find_workspace(session, "T1"), timezone)
    assert rebuilt == event_count(engine, team.connection_id)
    assert same_cents(team.ledger_total(), team.sim_total())
    day = (team.clock.now - timedelta(days=3)).date()
    assert same_cents(team.ledger_total(day=day), team.sim_local_days(day, day, timezone))
