"""Three replicas' schedulers on one database through a simulated day: the work is shared,
nothing is done twice, nothing is missed (SQLite and PostgreSQL).

Each replica is a ``Scheduler`` with its own digest sender and alert notifier; their jobs
are run at the same simulated moments from three threads, as three processes' clocks
would fire them. The real-process version (``stackspend serve --http`` ×3, kill -9) is in
``test_fleet.py``.
"""

from __future__ import annotations

import threading
from collections import Counter
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, time, timedelta
from functools import partial
from typing import Any

import pytest
from apscheduler.schedulers.background import BackgroundScheduler
from sqlalchemy import Engine, select

from bot.jobs.scheduler import ALERT_RETRIES, ALERT_RETRY_JOB, Scheduler
from bot.testing.fake_slack import FakeSlack
from bot.usecases import alert_delivery
from bot.usecases.alert_delivery import AlertNotifier
from bot.usecases.connect import connect_cursor
from bot.usecases.digest_delivery import DigestSender
from bot.usecases.syncs import sync_for_bot
from connectors.cursor.endpoints import USAGE_EVENTS
from ledger import claims
from ledger.accounts import find_workspace
from ledger.alerts.evaluate import evaluate
from ledger.alerts.pending import pending_evaluations
from ledger.budgets import add_budget
from ledger.db import session_scope
from ledger.models import SyncRun, SyncStatus, SyncTrigger
from ledger.schedules import add_schedule
from tests.bot.harness import ADMIN, MEMBER, Harness, build_harness

DAY = datetime(2026, 11, 26, 0, 0, tzinfo=UTC)
INTERVAL = timedelta(hours=6)
KEYS = {"T1": "key-team-one-0000000001", "T2": "key-team-two-0000000002"}


@pytest.fixture
def fleet(engine: Engine) -> Iterator[Harness]:
    with FakeSlack() as slack:
        harness = build_harness(engine, slack)
        harness.slack.add_channel("C2", "spend-two")
        harness.clock.now = DAY
        yield harness
        harness.close()


def replicas(bot: Harness, count: int = 3) -> list[Scheduler]:
    client = bot.app.client
    made = []
    for _ in range(count):
        made.append(
            Scheduler(
                bot.services,
                DigestSender(bot.services, lambda _team: client),
                alerts=AlertNotifier(bot.services, lambda _team: client),
                sync_interval=INTERVAL,
                scheduler=BackgroundScheduler(timezone=UTC),
            )
        )
    return made


def together(schedulers: list[Scheduler], job: Callable[[Scheduler], object]) -> None:
    """Run ``job`` on every replica at once, as their clocks fire at the same moment."""
    start = threading.Barrier(len(schedulers))
    errors: list[BaseException] = []

    def run(scheduler: Scheduler) -> None:
        start.wait()
        try:
            job(scheduler)
        except BaseException as exc:  # surfaced below
            errors.append(exc)

    threads = [threading.Thread(target=run, args=(s,)) for s in schedulers]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert not errors, errors


def deliver_due(scheduler: Scheduler, *, schedule_id: int) -> object:
    return scheduler.sender.deliver_due(schedule_id)


def set_up_two_workspaces(bot: Harness) -> dict[str, int | None]:
    """T1 (UTC, digest 09:00 to C1, a budget it exceeds) and T2 (New York, digest 17:30)."""
    schedules = {}
    for team, zone, channel, at in (
        ("T1", "UTC", "C1", time(9, 0)),
        ("T2", "America/New_York", "C2", time(17, 30)),
    ):
        bot.sim.add_key(KEYS[team])
        connect_cursor(
            bot.engine,
            access=bot.services.cursor_access(),
            box=bot.services.box,
            team_id=team,
            api_key=KEYS[team],
            connected_by=ADMIN,
            now=bot.clock.now,
        )
        with session_scope(bot.engine) as session:
            workspace = find_workspace(session, team)
            workspace.timezone = zone
            schedule = add_schedule(
                session,
                workspace,
                channel_id=channel,
                local_time=at,
                cadence="daily",
                created_by=ADMIN,
                now=bot.clock.now,
            )
            schedules[team] = schedule.id
            if team == "T1":
                add_budget(
                    session,
                    workspace,
                    amount_cents=100,
                    notify_user_ids=[MEMBER],
                    created_by=ADMIN,
                    now=bot.clock.now,
                )
    return schedules


def test_the_hourly_alert_pass_evaluates_each_workspace_on_one_replica(
    fleet: Harness, monkeypatch: pytest.MonkeyPatch
) -> None:
    bot = fleet
    set_up_two_workspaces(bot)
    evaluated: Counter[int] = Counter()
    real = evaluate

    def counting(session: Any, **kwargs: Any) -> Any:
        evaluated.update(kwargs["workspace_ids"])
        return real(session, **kwargs)

    monkeypatch.setattr(alert_delivery, "evaluate", counting)
    fleet_of_three = replicas(bot)
    together(fleet_of_three, lambda s: s.alerts.run())
    assert sorted(evaluated.elements()) == [1, 2]  # each workspace once, by some replica
    bot.clock.now += timedelta(minutes=30)
    together(fleet_of_three, lambda s: s.alerts.run())
    assert sum(evaluated.values()) == 2  # evaluated within the hour: left alone
    bot.clock.now += timedelta(minutes=30)
    together(fleet_of_three, lambda s: s.alerts.run())
    assert sorted(evaluated.elements()) == [1, 1, 2, 2]
    together(fleet_of_three, lambda s: s.alerts.run(workspace_id=1))  # after a sync: always
    assert evaluated[1] == 5


def test_three_replicas_share_a_day_of_work_and_do_nothing_twice(fleet: Harness) -> None:
    bot = fleet
    schedules = set_up_two_workspaces(bot)
    fleet_of_three = replicas(bot)
    for step in range(24 * 4 + 1):  # every quarter of an hour, midnight to midnight
        bot.clock.now = DAY + timedelta(minutes=15 * step)
        now = bot.clock.now
        together(fleet_of_three, lambda s: s.sweep_syncs())
        for schedule_id in schedules.values():  # each replica's cron job fires
            assert schedule_id is not None
            together(fleet_of_three, partial(deliver_due, schedule_id=schedule_id))
        if now.minute == 0:
            together(fleet_of_three, lambda s: s.alerts.run())
        if now.minute == 30:
            together(fleet_of_three, lambda s: s.sender.catch_up())

    # Cursor: each connection synced once per interval (light), once a day at 03:00 local
    # (deep) and before a digest whose data is more than an hour old (light), no window or
    # page asked twice. T1 (UTC): 00 (first, deep), 03 deep, 09, 15, 21. T2 (New York):
    # 00 (first, deep), 06, 08 (03:00 in New York, deep), 14, 20, 22:30 (its digest).
    with session_scope(bot.engine) as session:
        runs = list(session.execute(select(SyncRun)).scalars())
    planned = {
        1: ["00:00 deep", "03:00 deep", "09:00 light", "15:00 light", "21:00 light"],
        2: ["00:00 deep", "06:00 light", "08:00 deep", "14:00 light", "20:00 light", "22:30 light"],
    }
    done = {
        cid: sorted(f"{r.started_at:%H:%M} {r.kind}" for r in runs if r.connection_id == cid)
        for cid in planned
    }
    assert done == planned
    assert {run.status for run in runs} == {SyncStatus.OK}
    asked = Counter(
        (r.key, r.start, r.end, r.page) for r in bot.sim.requests if r.path == USAGE_EVENTS
    )
    assert asked and max(asked.values()) == 1, [k for k, n in asked.items() if n > 1][:5]
    assert {r.key for r in bot.sim.requests} == set(KEYS.values())

    # Slack: one digest per channel and local day. T2's 17:30 in New York is 22:30 UTC: the
    # one of Nov 25 was 90 minutes late at midnight (inside the grace period), then Nov 26's.
    digests = Counter(
        c.params["channel"]
        for c in bot.slack.calls_to("chat.postMessage")
        if c.params.get("metadata")
    )
    assert digests == {"C1": 1, "C2": 2}
    # The budget crossed at the first sync: its alert DMed once, not once per replica.
    dms = [c for c in bot.slack.calls_to("chat.postMessage") if c.params["channel"] == "D" + MEMBER]
    assert len(dms) == 1, [c.all_text()[:80] for c in dms]


def test_an_evaluation_after_a_sync_that_finds_another_going_is_asked_for_again(
    fleet: Harness, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A replica's evaluation (started before the sync's data landed) still holds the
    workspace when the sync ends: the sync's own evaluation is retried until it runs."""
    bot = fleet
    set_up_two_workspaces(bot)
    monkeypatch.setattr(alert_delivery, "EVALUATION_WAIT", timedelta(0))
    (replica,) = replicas(bot, count=1)
    replica.apscheduler.start(paused=True)  # the test fires the retries itself
    workspace_id = 1
    elsewhere = claims.claim(
        bot.engine,
        f"alerts:{workspace_id}",
        now=bot.clock.now,
        ttl=alert_delivery.EVALUATION_TTL,
    )
    assert elsewhere.outcome.ours
    replica.sync_connection(1)

    def dms() -> list[object]:
        calls = bot.slack.calls_to("chat.postMessage")
        return [c for c in calls if c.params["channel"] == "D" + MEMBER]

    assert dms() == []  # busy elsewhere: nothing evaluated yet, and nothing dropped
    retry = replica.apscheduler.get_job(f"{ALERT_RETRY_JOB}{workspace_id}")
    assert retry is not None
    replica.reconcile()  # reconciling the jobs keeps the retry
    assert replica.apscheduler.get_job(f"{ALERT_RETRY_JOB}{workspace_id}") is not None
    # Its moment comes and the other is still going: asked for again, one try fewer left.
    replica.evaluate_alerts(*retry.args)
    again = replica.apscheduler.get_job(f"{ALERT_RETRY_JOB}{workspace_id}")
    assert again is not None and again.args == (workspace_id, ALERT_RETRIES - 2)
    claims.finish(bot.engine, elsewhere, now=bot.clock.now)  # the other evaluation ends
    replica.evaluate_alerts(*again.args)
    assert len(dms()) == 1
    replica.apscheduler.shutdown(wait=False)


def test_a_sync_run_for_a_digest_is_evaluated_by_the_next_sweep_once(fleet: Harness) -> None:
    """A digest's pre-sync (or a personal line's, or a question's) lands new data where
    nothing evaluates it: the next sweep does, on one replica, and later sweeps do not."""
    bot = fleet
    set_up_two_workspaces(bot)
    sweepers = replicas(bot)
    for sweeper in sweepers:
        sweeper.apscheduler.start(paused=True)
    workspace_id = 1
    assert pending_evaluations(bot.engine, bot.clock.now) == []  # nothing synced yet
    sync_for_bot(bot.services, 1, trigger=SyncTrigger.DIGEST, now=bot.clock.now)
    assert pending_evaluations(bot.engine, bot.clock.now) == [workspace_id]

    def dms() -> list[object]:
        calls = bot.slack.calls_to("chat.postMessage")
        return [c for c in calls if c.params["channel"] == "D" + MEMBER]

    assert dms() == []
    bot.clock.advance(minutes=1)
    together(sweepers, lambda s: s.sweep_syncs())
    assert len(dms()) == 1  # the budget crossed by the digest's sync: alerted once
    assert pending_evaluations(bot.engine, bot.clock.now) == []
    bot.clock.advance(minutes=1)
    together(sweepers, lambda s: s.sweep_syncs())
    assert len(dms()) == 1
    for sweeper in sweepers:
        sweeper.apscheduler.shutdown(wait=False)
