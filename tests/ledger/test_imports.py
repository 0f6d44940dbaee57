"""Imported history and the API's, joined by one rule: exact per day, in either order."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import Engine

from connectors.cursor.windows import settled_end
from connectors.records import UsageEvent
from ledger.alerts.spend import history_day
from ledger.db import session_scope
from ledger.import_join import imported_span
from ledger.imports import import_events
from ledger.models import Connection, Workspace
from ledger.queries import Scope
from tests.ledger.import_support import (
    exported_events,
    ledger_by_day,
    raw_by_source,
    sync_a_week,
    truth_by_day,
)
from tests.ledger.support import Team, make_team


def export_batches(team: Team, size: int = 700) -> list[list[UsageEvent]]:
    end = settled_end(team.clock.now)
    events = exported_events(team.sim, end - timedelta(days=40), end)
    return [events[i : i + size] for i in range(0, len(events), size)]


def history_start(team: Team) -> datetime | None:
    with session_scope(team.engine) as session:
        connection = session.get(Connection, team.connection_id)
        assert connection is not None
        return connection.history_start


def test_import_then_sync_replaces_the_imported_rows_of_the_api_range(engine: Engine) -> None:
    team = make_team(engine, users=6, days=20)
    batches = export_batches(team)
    rows = sum(map(len, batches))

    totals = import_events(
        engine, connection_id=team.connection_id, batches=batches, transaction_rows=1000
    )
    assert (totals.rows, totals.imported, totals.skipped, totals.duplicates) == (rows, rows, 0, 0)
    assert ledger_by_day(team) == truth_by_day(team)  # never synced: everything imports

    outcome = sync_a_week(team)

    assert outcome.ok, outcome.error
    start = history_start(team)
    assert start is not None and start > team.clock.now - timedelta(days=8)
    assert ledger_by_day(team) == truth_by_day(team)  # no day counted twice, none lost
    by_source = raw_by_source(team)
    assert 0 < by_source["csv"][0] < rows and by_source["api"][0] > 0
    with session_scope(engine) as session:
        span = imported_span(session, team.connection_id)
    assert span is not None and span.end < start  # imports hold only what the API lacks


def test_sync_then_import_skips_the_api_range(engine: Engine) -> None:
    team = make_team(engine, users=6, days=20)
    assert sync_a_week(team).ok
    start = history_start(team)
    assert start is not None
    batches = export_batches(team)
    in_api_range = sum(1 for b in batches for e in b if e.occurred_at >= start)

    totals = import_events(engine, connection_id=team.connection_id, batches=batches)

    assert totals.skipped == in_api_range > 0
    assert totals.imported == totals.rows - in_api_range > 0
    assert totals.history_start == start
    assert ledger_by_day(team) == truth_by_day(team)
    assert totals.first_day == min(truth_by_day(team))
    with session_scope(engine) as session:  # forecasts and alerts know the older days too
        connection = session.get(Connection, team.connection_id)
        assert connection is not None
        workspace = session.get(Workspace, connection.workspace_id)
        assert workspace is not None
        known_from = history_day(session, Scope(workspace, connection), ZoneInfo("UTC"))
    assert known_from == totals.first_day < start.date()


def test_reimport_adds_nothing_and_dry_run_writes_nothing(engine: Engine) -> None:
    team = make_team(engine, users=4, days=10)
    batches = export_batches(team)
    dry = import_events(engine, connection_id=team.connection_id, batches=batches, dry_run=True)
    assert raw_by_source(team) == {}
    first = import_events(engine, connection_id=team.connection_id, batches=batches)
    assert (dry.imported, dry.days, dry.dollars_by_month()) == (
        first.imported,
        first.days,
        first.dollars_by_month(),
    )
    held = raw_by_source(team)

    again = import_events(engine, connection_id=team.connection_id, batches=batches)

    assert (again.imported, again.revised, again.duplicates) == (0, 0, first.rows)
    assert raw_by_source(team) == held
    assert ledger_by_day(team) == truth_by_day(team)
    assert sum(first.dollars_by_month().values()) * 100 == sum(truth_by_day(team).values())


@pytest.mark.parametrize("tz", ["America/Los_Angeles"])
def test_days_and_months_are_the_workspace_s_local_ones(engine: Engine, tz: str) -> None:
    team = make_team(engine, users=3, days=5, timezone=tz)
    totals = import_events(engine, connection_id=team.connection_id, batches=export_batches(team))
    assert ledger_by_day(team) == truth_by_day(team, tz)
    assert set(totals.cents_by_day) == set(truth_by_day(team, tz))


def test_a_first_sync_between_two_import_transactions_counts_no_day_twice(engine: Engine) -> None:
    team = make_team(engine, users=6, days=20)
    batches = export_batches(team, size=300)
    synced: list[bool] = []

    def sync_after_the_first_transaction() -> Iterator[list[UsageEvent]]:
        for index, batch in enumerate(batches):
            if index == 2:  # the first transaction (of 2 batches) is committed
                assert sync_a_week(team).ok
                synced.append(True)
            yield batch

    totals = import_events(
        engine,
        connection_id=team.connection_id,
        batches=sync_after_the_first_transaction(),
        transaction_rows=600,
    )

    assert synced and totals.history_start is not None and totals.skipped > 0
    assert ledger_by_day(team) == truth_by_day(team)


def test_the_collector_is_paused_only_inside_the_block_and_restored_as_it_was() -> None:
    import gc

    from ledger.imports import collector_paused

    assert gc.isenabled()
    with collector_paused():
        assert not gc.isenabled()
    assert gc.isenabled()
    gc.disable()
    try:
        with collector_paused():
            pass
        assert not gc.isenabled()  # it was off before: it stays off
    finally:
        gc.enable()
