"""One sync per connection at a time: the lease, its fence, its expiry, and timezone changes."""

from __future__ import annotations

import os
import subprocess
import sys
import threading
import time
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import Engine, Table, select, update

from connectors.cursor.simulator import running_server
from ledger.accounts import set_timezone
from ledger.db import session_scope
from ledger.errors import SyncAlreadyRunning
from ledger.lease import INTERRUPTED, LEASES, wall_clock
from ledger.models import Connection, SyncRun, SyncStatus, SyncTrigger, Workspace
from ledger.rollups import ROLLUPS, rebuild_rollups
from ledger.sync import SyncOutcome
from tests.ledger.support import NOW, Team, make_team, same_cents

WORKSPACES: Table = Workspace.__table__  # type: ignore[attr-defined]
CONNECTIONS: Table = Connection.__table__  # type: ignore[attr-defined]
ZONES = ("Asia/Kolkata", "America/Los_Angeles", "Pacific/Kiritimati", "UTC")


def rollup_rows(engine: Engine, connection_id: int) -> list[tuple[Any, ...]]:
    columns = [c for c in ROLLUPS.c if c.name != "id"]
    with session_scope(engine) as session:
        rows = session.execute(
            select(*columns).where(ROLLUPS.c.connection_id == connection_id)
        ).all()
    return sorted((tuple(row) for row in rows), key=repr)


def clean_rebuild(engine: Engine, connection_id: int) -> list[tuple[Any, ...]]:
    """The rollups a rebuild from raw events gives in the workspace's current zone."""
    from zoneinfo import ZoneInfo

    with session_scope(engine) as session:
        zone = session.execute(select(WORKSPACES.c.timezone)).scalar_one()
        rebuild_rollups(session, connection_id=connection_id, tz=ZoneInfo(zone))
    return rollup_rows(engine, connection_id)


def runs(engine: Engine) -> list[SyncRun]:
    with session_scope(engine) as session:
        return list(session.execute(select(SyncRun).order_by(SyncRun.id)).scalars())  # type: ignore[arg-type]


def change_zone(engine: Engine, zone: str) -> None:
    with session_scope(engine) as session:
        workspace = session.execute(select(Workspace)).scalar_one()
        set_timezone(session, workspace, zone)


def test_a_second_sync_of_a_connection_does_not_start_while_one_runs(engine: Engine) -> None:
    team = make_team(engine)
    refusals: list[SyncAlreadyRunning] = []

    def second_sync(*_: object) -> None:
        if not refusals:
            with pytest.raises(SyncAlreadyRunning) as refused:
                team.sync(page_size=200)
            refusals.append(refused.value)

    first = team.sync(page_size=200, on_page=second_sync)
    assert first.ok and len(refusals) == 1
    assert refusals[0].trigger == SyncTrigger.MANUAL
    assert [run.status for run in runs(engine)] == [SyncStatus.OK]
    assert same_cents(team.ledger_total(), team.sim_total())
    with session_scope(engine) as session:  # released at the end
        assert session.execute(select(LEASES)).first() is None
    assert team.sync().ok  # and the next sync starts normally


def test_a_lease_left_by_a_killed_sync_expires_and_the_next_sync_takes_over(
    engine: Engine,
) -> None:
    team = make_team(engine)
    first = team.sync(page_size=200)
    assert first.ok
    now = wall_clock()
    with session_scope(engine) as session:  # what a process killed mid-run leaves behind
        session.add(
            SyncRun(connection_id=team.connection_id, trigger=SyncTrigger.SCHEDULE, started_at=NOW)
        )
        session.execute(
            LEASES.insert().values(
                connection_id=team.connection_id,
                owner="elsewhere:1:dead/1",
                trigger=SyncTrigger.SCHEDULE,
                acquired_at=now - timedelta(minutes=5),
                expires_at=now + timedelta(seconds=1),
            )
        )
    with pytest.raises(SyncAlreadyRunning):
        team.sync()
    time.sleep(1.2)
    assert team.sync().ok
    statuses = [(run.status, run.error) for run in runs(engine)]
    assert statuses == [("ok", None), ("stopped", INTERRUPTED), ("ok", None)]


def test_a_sync_that_lost_its_lease_commits_nothing_more(engine: Engine) -> None:
    team = make_team(engine, users=20)
    pages: list[int] = []

    def steal_after_first_page(*_: object) -> None:
        pages.append(1)
        if len(pages) == 1:
            with session_scope(engine) as session:
                session.execute(update(LEASES).values(owner="thief:1:x/1"))

    outcome = team.sync(page_size=100, on_page=steal_after_first_page)
    assert outcome.status is SyncStatus.STOPPED and "lost its lease" in (outcome.error or "")
    assert outcome.pages == 1
    (run,) = runs(engine)
    assert run.pages == 1 and run.status == "stopped"
    with session_scope(engine) as session:
        session.execute(LEASES.delete())
    assert team.sync(page_size=100).ok  # resumes at the page after the last one committed
    assert same_cents(team.ledger_total(), team.sim_total())


def test_a_timezone_change_between_pages_leaves_rollups_equal_to_a_clean_rebuild(
    engine: Engine,
) -> None:
    team = make_team(engine, users=15, days=21)
    changed: list[str] = []

    def change_after_second_page(*_: object) -> None:
        changed.append("page")
        if len(changed) == 2:
            change_zone(engine, "Asia/Kolkata")

    assert team.sync(page_size=150, on_page=change_after_second_page).ok
    assert len(changed) > 3
    synced = rollup_rows(engine, team.connection_id)
    assert synced == clean_rebuild(engine, team.connection_id)
    assert same_cents(team.ledger_total(), team.sim_total())


@pytest.mark.slow
def test_timezone_changes_racing_a_sync_leave_rollups_equal_to_a_clean_rebuild(
    engine: Engine,
) -> None:
    team = make_team(engine, users=15, days=21)
    done = threading.Event()
    changes: list[str] = []
    outcome: list[SyncOutcome] = []

    def sync() -> None:
        try:
            outcome.append(team.sync(page_size=100))
        finally:
            done.set()

    worker = threading.Thread(target=sync)
    worker.start()
    while not done.is_set():
        zone = ZONES[len(changes) % len(ZONES)]
        change_zone(engine, zone)
        changes.append(zone)
        time.sleep(0.05)  # SQLite's lock is not fair: leave the sync room to take it
    worker.join()
    assert outcome and outcome[0].ok and len(changes) >= 2
    synced = rollup_rows(engine, team.connection_id)
    assert synced == clean_rebuild(engine, team.connection_id)
    assert same_cents(team.ledger_total(), team.sim_total())


def _cli_env(database_url: str, team: Team, base_url: str) -> dict[str, str]:
    return {
        **os.environ,
        "STACKSPEND_DATABASE_URL": database_url,
        "STACKSPEND_SECRET_KEY": team.secret,
        "STACKSPEND_CURSOR_BASE_URL": base_url,
    }


@pytest.mark.slow
def test_two_processes_syncing_one_connection_run_exactly_one(database_url: str) -> None:
    """Two real `stackspend sync` processes at once: one syncs, the other is refused in a line."""
    from ledger.db import make_engine

    engine = make_engine(database_url)
    team = make_team(engine, users=20, days=10)
    command = [sys.executable, "-m", "bot.cli", "sync", "--now", NOW.isoformat()]
    with running_server(team.sim) as base_url:
        team.sim.faults.delay_seconds = 0.3  # the first sync is still running when the second asks
        env = _cli_env(database_url, team, base_url)
        processes = [
            subprocess.Popen(command, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
            for _ in range(2)
        ]
        results = [(p.wait(timeout=240), *p.communicate()) for p in processes]
    codes = sorted(code for code, _, _ in results)
    assert codes == [0, 75], results
    refused = next(err.decode() for code, _, err in results if code == 75)
    assert refused.count("\n") == 1 and "skipped: a sync has been running since" in refused
    assert "Traceback" not in refused
    assert [run.status for run in runs(engine)] == ["ok"]
    assert same_cents(team.ledger_total(), team.sim_total())
    engine.dispose()


def test_a_sync_that_lost_its_lease_while_cursor_failed_ends_stopped_not_with_an_error(
    engine: Engine,
) -> None:
    """Losing the lease during a Cursor call that then fails must not escape as LeaseLost."""
    from connectors.errors import UnavailableError

    team = make_team(engine, users=20)

    def steal_then_fail(*_: object) -> None:
        with session_scope(engine) as session:
            session.execute(update(LEASES).values(owner="thief:1:x/1"))
        raise UnavailableError("Cursor did not answer")

    outcome = team.sync(page_size=100, on_page=steal_then_fail)
    assert outcome.status is SyncStatus.STOPPED and "lost its lease" in (outcome.error or "")
    (run,) = runs(engine)
    assert run.status == "stopped"
    with session_scope(engine) as session:
        (status,) = session.execute(select(CONNECTIONS.c.status)).one()
    assert status == "active"  # the health of the connection is the new holder's to say
