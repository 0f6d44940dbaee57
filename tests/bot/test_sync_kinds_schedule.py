"""Light syncs on the hour, a deep sync a day at a quiet local hour, a missed one caught up:
the plan's pure rules, then a scheduler run through a simulated day on the simulator."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest
from apscheduler.schedulers.background import BackgroundScheduler
from sqlalchemy import Engine, select

from bot.jobs.scheduler import Scheduler
from bot.jobs.sync_plan import (
    LastSyncs,
    SyncCadence,
    TickTrigger,
    cadence_notes,
    deep_due,
    deep_moment,
    due_kind,
    first_tick,
    next_deep_moment,
    next_syncs,
    tick_at_or_after,
)
from bot.testing.fake_slack import FakeSlack
from bot.usecases.alert_delivery import AlertNotifier
from bot.usecases.connect import connect_cursor
from bot.usecases.digest_delivery import DigestSender
from connectors.cursor.endpoints import MEMBERS
from ledger.db import session_scope
from ledger.models import SyncKind, SyncRun
from tests.bot.harness import ADMIN, Harness, build_harness

HOUR = timedelta(hours=1)
CADENCE = SyncCadence(light_every=HOUR, deep_hour=3)
DAY = datetime(2026, 11, 26, 0, 0, tzinfo=UTC)
KEY = "key-team-one-0000000001"


def at(hour: int, minute: int = 0, day: int = 26) -> datetime:
    return datetime(2026, 11, day, hour, minute, tzinfo=UTC)


# -- the plan ---------------------------------------------------------------------------------


def test_ticks_are_on_the_hour_and_a_tick_is_its_own_first() -> None:
    assert tick_at_or_after(at(14, 0), HOUR) == at(14, 0)
    assert tick_at_or_after(at(14, 0) + timedelta(microseconds=1), HOUR) == at(15, 0)
    assert tick_at_or_after(at(14, 59), HOUR) == at(15, 0)
    assert tick_at_or_after(at(14, 1), timedelta(hours=6)) == at(18, 0)
    trigger = TickTrigger(HOUR)
    assert trigger.get_next_fire_time(None, at(14, 20)) == at(15, 0)
    assert trigger.get_next_fire_time(at(14, 20), at(14, 20)) == at(15, 0)  # after a catch-up
    assert trigger.get_next_fire_time(at(15, 0), at(15, 0)) == at(16, 0)
    assert "on the tick" in str(trigger)


def test_a_new_job_runs_at_once_if_never_synced_or_overdue_else_on_the_next_tick() -> None:
    assert first_tick(None, at(14, 20), CADENCE) == at(14, 20)
    assert first_tick(at(14, 0), at(14, 20), CADENCE) == at(15, 0)
    assert first_tick(at(14, 30), at(14, 40), CADENCE) == at(16, 0)  # at most hourly polls
    assert first_tick(at(9, 0), at(14, 20), CADENCE) == at(14, 20)


def test_the_deep_moment_is_the_local_quiet_hour_across_a_dst_change() -> None:
    paris = LastSyncs(None, None, "Europe/Paris")
    assert deep_moment(at(12, 0), CADENCE, paris.timezone) == at(2, 0)  # 03:00 CET
    assert deep_moment(at(1, 0), CADENCE, paris.timezone) == at(2, 0, day=25)
    # New York left daylight time on Nov 1st: 03:00 is 07:00 UTC before, 08:00 after.
    summer = datetime(2026, 10, 31, 12, 0, tzinfo=UTC)
    assert deep_moment(summer, CADENCE, "America/New_York").hour == 7
    assert deep_moment(at(12, 0), CADENCE, "America/New_York").hour == 8
    assert next_deep_moment(at(12, 0), CADENCE, "UTC") == at(3, 0, day=27)
    assert next_deep_moment(at(2, 0), CADENCE, "UTC") == at(3, 0)


def test_deep_is_due_until_one_ran_since_its_moment_and_stands_for_the_light_one() -> None:
    assert due_kind(LastSyncs(None, None), at(10), CADENCE) is SyncKind.DEEP
    done = LastSyncs(at(9), at(3))
    assert due_kind(done, at(9, 30), CADENCE) is None
    assert due_kind(done, at(10), CADENCE) is SyncKind.LIGHT
    assert due_kind(LastSyncs(at(9), at(2, 58)), at(10), CADENCE) is SyncKind.LIGHT  # tolerance
    missed = LastSyncs(at(2), at(3, day=25))  # the bot was down at 03:00
    assert deep_due(missed, at(6, 30), CADENCE)
    assert due_kind(missed, at(6, 30), CADENCE) is SyncKind.DEEP


def test_the_next_light_and_deep_syncs_follow_the_job() -> None:
    done = LastSyncs(at(9), at(3))
    nxt = next_syncs(at(10), done, at(9, 30), CADENCE)
    assert (nxt.light, nxt.deep) == (at(10), at(3, day=27))
    overdue = next_syncs(at(10), LastSyncs(at(9), at(3, day=25)), at(9, 30), CADENCE)
    assert (overdue.light, overdue.deep) == (at(10), at(10))
    six_hourly = SyncCadence(light_every=timedelta(hours=6), deep_hour=3)
    late = next_syncs(at(6), LastSyncs(at(0), at(3, day=25)), at(1), six_hourly)
    assert late.deep == at(6)  # the deep moment (03:00) falls before the job's next run
    later = next_syncs(at(0, day=27), LastSyncs(at(18), at(3)), at(19), six_hourly)
    assert later.deep == at(6, day=27)  # the first 6-hour tick at or after 03:00


# -- the scheduler on the simulator ----------------------------------------------------------


@pytest.fixture
def bot(engine: Engine) -> Iterator[Harness]:
    with FakeSlack() as slack:
        harness = build_harness(engine, slack)
        harness.clock.now = DAY
        harness.sim.add_key(KEY)
        connect_cursor(
            harness.engine,
            access=harness.services.cursor_access(),
            box=harness.services.box,
            team_id="T1",
            api_key=KEY,
            connected_by=ADMIN,
            now=harness.clock.now,
        )
        yield harness
        harness.close()


def scheduler_for(bot: Harness) -> Scheduler:
    client = bot.app.client
    return Scheduler(
        bot.services,
        DigestSender(bot.services, lambda _team: client),
        alerts=AlertNotifier(bot.services, lambda _team: client),
        sync_interval=HOUR,
        deep_hour=3,
        scheduler=BackgroundScheduler(timezone=UTC),
    )


def runs(bot: Harness) -> list[str]:
    with session_scope(bot.engine) as session:
        stored = session.execute(select(SyncRun).order_by(SyncRun.started_at)).scalars()  # type: ignore[arg-type]
        return [f"{r.started_at:%H:%M} {r.kind}" for r in stored]


def test_a_missed_deep_sync_is_caught_up_and_light_ones_resume_on_the_hour(bot: Harness) -> None:
    scheduler = scheduler_for(bot)
    scheduler.apscheduler.start(paused=True)
    try:
        for hour in range(3):  # 00:00 to 02:00: the first sync (deep), then light ones
            bot.clock.now = at(hour)
            scheduler.sweep_syncs()
        # The process is down from 02:30 to 06:30: the 03:00 deep sync did not run.
        bot.clock.now = at(6, 30)
        scheduler.reconcile()
        scheduler.sweep_syncs()
        assert runs(bot)[-1] == "06:30 deep"
        # The job made at start-up was overdue, so it fires at once (and finds it done).
        assert scheduler.next_sync_at(1) == at(6, 30)
        scheduler.sync_connection(1)
        bot.clock.now = at(7, 0)
        scheduler.sync_connection(1)  # ...and at 07:00: polled 30 minutes ago, not due
        scheduler.sweep_syncs()
        bot.clock.now = at(8, 0)
        scheduler.sync_connection(1)
        scheduler.sweep_syncs()
        assert runs(bot) == [
            "00:00 deep",
            "01:00 light",
            "02:00 light",
            "06:30 deep",
            "08:00 light",
        ]
        members_reads = bot.sim.requests_per_route()[MEMBERS]
        assert members_reads == 3  # the key check at connect, then the two deep syncs
        planned = scheduler.next_syncs(1)
        assert planned is not None
        assert planned.light == at(6, 30)  # the paused scheduler's job has not fired yet
        assert planned.deep == at(3, day=27)
    finally:
        scheduler.shutdown()


def test_start_up_names_the_schedule_and_what_an_old_interval_now_means() -> None:
    (hourly,) = cadence_notes(CADENCE)
    assert hourly == "syncs: light every 1 h on the hour, deep daily at 03:00 in each " + (
        "workspace's reporting timezone"
    )
    old = cadence_notes(SyncCadence(light_every=timedelta(hours=24), deep_hour=2))
    assert "deep daily at 02:00" in old[0]
    assert old[1].startswith("STACKSPEND_SYNC_INTERVAL_HOURS=24 now sets how often the light")
    assert "STACKSPEND_SYNC_DEEP_HOUR" in old[1]


def test_the_settings_default_to_hourly_light_and_a_03_00_deep_sync() -> None:
    from bot.ledger_setup import sync_options
    from bot.settings import SettingsError, load_settings

    settings = load_settings()
    assert (settings.sync_interval_hours, settings.sync_deep_hour) == (1, 3)
    options = sync_options(settings)
    assert (options.light_overlap, options.overlap) == (2 * HOUR, 48 * HOUR)
    with pytest.raises(SettingsError, match="STACKSPEND_SYNC_DEEP_HOUR"):
        load_settings(sync_deep_hour=24)
