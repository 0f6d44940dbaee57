"""Every connection always has its sync scheduled, and a running sync is never started twice."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, date, datetime, time, timedelta

import pytest
from apscheduler.schedulers.background import BackgroundScheduler
from sqlalchemy import select

from bot.jobs.scheduler import Scheduler
from bot.jobs.sync_plan import DUE_TOLERANCE, tick_at_or_after
from bot.slack import ids
from bot.slack.errors import SORRY
from bot.testing.signed_requests import block_actions_body, bolt_request
from bot.usecases.digest_delivery import DigestSender
from connectors.cursor.sim_team import DEMO_API_KEY
from digests.format import local_time
from ledger.accounts import find_connection, find_workspace
from ledger.db import session_scope
from ledger.lease import LEASES, wall_clock
from ledger.models import Connection, ConnectionStatus, SyncRun
from ledger.schedules import add_schedule
from tests.bot.harness import ADMIN, Harness
from tests.bot.test_slack_app import submit_key


@pytest.fixture
def scheduler(bot: Harness) -> Iterator[Scheduler]:
    """The process's scheduler, running (paused, so that no job fires during a test)."""
    client = bot.app.client
    scheduler = Scheduler(
        bot.services,
        DigestSender(bot.services, lambda _team: client),
        alerts=bot.services.alerts,
        scheduler=BackgroundScheduler(timezone=UTC),
    )
    scheduler.apscheduler.start(paused=True)
    bot.services.jobs = scheduler
    yield scheduler
    scheduler.shutdown()


def connection_id(bot: Harness) -> int:
    with session_scope(bot.engine) as session:
        connection = find_connection(session, find_workspace(session, "T1"))
        assert connection is not None and connection.id is not None
        return connection.id


def sync_jobs(scheduler: Scheduler) -> list[str]:
    return [job.id for job in scheduler.apscheduler.get_jobs() if job.id.startswith("sync:")]


def hold_lease(bot: Harness, connection: int, *, since: datetime) -> None:
    """What a sync running in another process looks like from here."""
    with session_scope(bot.engine) as session:
        session.execute(
            LEASES.insert().values(
                connection_id=connection,
                owner="replica-2:77:abc/1",
                trigger="schedule",
                acquired_at=since,
                expires_at=wall_clock() + timedelta(minutes=5),
            )
        )


def test_connecting_through_the_modal_schedules_the_sync_without_a_restart(
    bot: Harness, scheduler: Scheduler
) -> None:
    assert sync_jobs(scheduler) == []
    status, _ = submit_key(bot, DEMO_API_KEY)
    assert status == 200
    confirmations = bot.slack.wait_for("chat.postEphemeral", count=2, timeout=30)
    assert "days of history" in confirmations[1].all_text()
    connection = connection_id(bot)
    assert sync_jobs(scheduler) == [f"sync:{connection}"]
    next_sync = scheduler.next_sync_at(connection)
    with session_scope(bot.engine) as session:
        first_run = session.execute(select(SyncRun)).scalars().one()
    # Not a second sync now: the first hour on the hour at least an interval (less the
    # tolerance) after the first one started, as Cursor asks clients to poll at most hourly.
    assert next_sync == tick_at_or_after(
        first_run.started_at + scheduler.sync_interval - DUE_TOLERANCE, scheduler.sync_interval
    )
    assert next_sync is not None and next_sync.minute == 0

    _, key = bot.command("cursor status")
    assert f"*Next scheduled sync:* {local_time(next_sync, 'UTC')}" in bot.reply_text(key)


def test_status_says_plainly_when_no_sync_is_scheduled_and_why(bot: Harness) -> None:
    bot.connect_and_sync()
    _, key = bot.command("cursor status")
    assert "*Next scheduled sync:* none: the scheduler is not running" in bot.reply_text(key)
    with session_scope(bot.engine) as session:
        stored = session.get(Connection, connection_id(bot))
        assert stored is not None
        stored.status = ConnectionStatus.REVOKED
    _, key = bot.command("cursor status")
    assert "*Next scheduled sync:* none: Cursor rejected the key" in bot.reply_text(key)


def test_disconnecting_removes_the_sync_job_at_once(bot: Harness, scheduler: Scheduler) -> None:
    bot.connect_and_sync()
    scheduler.reconcile()
    assert sync_jobs(scheduler) == [f"sync:{connection_id(bot)}"]
    body = block_actions_body(
        ids.DISCONNECT_CONFIRM, "cursor", user_id=ADMIN, response_url=bot.slack.response_url("d")
    )
    assert bot.app.dispatch(bolt_request(body)).status == 200
    assert "disconnected" in bot.replies("d")[0].all_text()
    assert sync_jobs(scheduler) == []


def test_a_missing_sync_job_is_restored_by_the_periodic_reconcile(
    bot: Harness, scheduler: Scheduler
) -> None:
    bot.connect_and_sync()
    scheduler.reconcile()
    job_id = f"sync:{connection_id(bot)}"
    planned = scheduler.next_sync_at(connection_id(bot))
    scheduler.apscheduler.remove_job(job_id)
    scheduler.reconcile()
    assert sync_jobs(scheduler) == [job_id]
    assert scheduler.next_sync_at(connection_id(bot)) == planned
    scheduler.reconcile()  # an unchanged job keeps its time
    assert scheduler.next_sync_at(connection_id(bot)) == planned


def test_a_manual_sync_while_another_runs_says_since_when_and_starts_nothing(
    bot: Harness,
) -> None:
    bot.connect_and_sync()
    since = datetime(2026, 11, 25, 13, 5, tzinfo=UTC)
    hold_lease(bot, connection_id(bot), since=since)
    _, key = bot.command("cursor sync")
    text = bot.reply_text(key)
    assert "A sync has been running since 2026-11-25 13:05 UTC (schedule)" in text
    assert SORRY not in text
    with session_scope(bot.engine) as session:
        assert len(session.execute(select(SyncRun)).all()) == 1  # only connect_and_sync's
    _, key = bot.command("cursor status")
    assert "*Syncing now:* since 2026-11-25 13:05 UTC (schedule)" in bot.reply_text(key)


def test_a_digest_whose_pre_sync_cannot_start_is_sent_on_the_data_there_is(
    bot: Harness,
) -> None:
    bot.connect_and_sync()
    bot.slack.add_channel("CDIGEST", "eng-spend")
    bot.clock.advance(hours=30)  # stale enough for a pre-sync
    hold_lease(bot, connection_id(bot), since=bot.clock.now - timedelta(minutes=3))
    with session_scope(bot.engine) as session:
        schedule = add_schedule(
            session,
            find_workspace(session, "T1"),
            channel_id="CDIGEST",
            local_time=time(20, 30),
            cadence="daily",
            created_by=ADMIN,
            now=bot.clock.now,
        )
        assert schedule.id is not None
        schedule_id = schedule.id
    client = bot.app.client
    sender = DigestSender(bot.services, lambda _team: client)
    due = datetime.combine(date(2026, 11, 26), time(20, 31), UTC)
    assert sender.deliver_due(schedule_id, now=due) == "sent"
    (post,) = [
        c for c in bot.slack.calls_to("chat.postMessage") if c.params["channel"] == "CDIGEST"
    ]
    assert "data is 30 hours old (synced up to" in post.all_text()  # the freshness line says so
    with session_scope(bot.engine) as session:
        assert len(session.execute(select(SyncRun)).all()) == 1  # no second sync was started
