"""Digests fire once at the local time they were set for, across DST, restarts and crashes."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from apscheduler.schedulers.background import BackgroundScheduler
from sqlalchemy import Engine, select

from bot.jobs.due import due_at, last_occurrence, runs_on
from bot.jobs.scheduler import Scheduler, digest_trigger
from bot.testing.fake_slack import FakeSlack
from bot.usecases.digest_delivery import DigestSender
from ledger.accounts import find_workspace
from ledger.db import session_scope
from ledger.models import Cadence, Delivery, DigestSchedule
from ledger.schedules import add_schedule
from tests.bot.harness import ADMIN, Harness, build_harness

NINE = time(9, 0)


@pytest.mark.parametrize(
    ("zone", "day", "utc_hour"),
    [
        ("America/New_York", date(2026, 3, 7), 14),  # EST, day before spring forward
        ("America/New_York", date(2026, 3, 8), 13),  # spring forward day: EDT
        ("America/New_York", date(2026, 11, 1), 14),  # fall back day: EST again
        ("America/New_York", date(2026, 10, 31), 13),
        ("Asia/Kolkata", date(2026, 3, 8), 3),  # no DST: 09:00 IST is 03:30 UTC
    ],
)
def test_nine_oclock_local_is_the_right_instant_on_dst_days(
    zone: str, day: date, utc_hour: int
) -> None:
    moment = due_at(day, NINE, ZoneInfo(zone))
    assert moment.hour == utc_hour
    assert moment.astimezone(ZoneInfo(zone)).time() == NINE


@pytest.mark.parametrize("zone", ["America/New_York", "Asia/Kolkata"])
@pytest.mark.parametrize("start", [date(2026, 3, 6), date(2026, 10, 30)])
def test_the_cron_trigger_fires_once_a_day_at_nine_local_across_dst(zone: str, start: date) -> None:
    schedule = DigestSchedule(
        workspace_id=1, channel_id="C1", local_time=NINE, cadence=Cadence.DAILY
    )
    trigger = digest_trigger(schedule, zone)
    tz = ZoneInfo(zone)
    fire = trigger.get_next_fire_time(None, datetime.combine(start, time(0), tz))
    fired = []
    for _ in range(5):
        fired.append(fire)
        fire = trigger.get_next_fire_time(fire, fire + timedelta(seconds=1))
    local = [f.astimezone(tz) for f in fired]
    assert [f.time() for f in local] == [NINE] * 5
    assert [f.date() for f in local] == [start + timedelta(days=i) for i in range(5)]


def test_weekdays_skip_weekends() -> None:
    days = [date(2026, 11, 20) + timedelta(days=i) for i in range(7)]  # Fri..Thu
    weekdays, monday = Cadence.WEEKDAYS, Cadence.MON
    assert [runs_on(weekdays, d) for d in days] == [True, False, False, True, True, True, True]
    assert [runs_on(monday, d) for d in days] == [False, False, False, True, False, False, False]
    schedule = DigestSchedule(
        workspace_id=1, channel_id="C1", local_time=NINE, cadence=Cadence.WEEKDAYS
    )
    trigger = digest_trigger(schedule, "UTC")
    saturday = datetime(2026, 11, 21, 0, 0, tzinfo=UTC)
    assert trigger.get_next_fire_time(None, saturday) == datetime(2026, 11, 23, 9, 0, tzinfo=UTC)


def test_the_last_occurrence_is_the_latest_due_time_not_after_now() -> None:
    tz = ZoneInfo("America/New_York")
    monday_late = datetime(2026, 11, 23, 16, 0, tzinfo=UTC)  # 11:00 EST Monday
    assert last_occurrence(Cadence.DAILY, NINE, tz, monday_late).local_date == date(2026, 11, 23)  # type: ignore[union-attr]
    monday_early = datetime(2026, 11, 23, 13, 0, tzinfo=UTC)  # 08:00 EST Monday
    occurrence = last_occurrence(Cadence.WEEKDAYS, NINE, tz, monday_early)
    assert occurrence is not None and occurrence.local_date == date(2026, 11, 20)  # Friday


@pytest.fixture
def bot(sqlite_engine: Engine, slack: FakeSlack) -> Iterator[Harness]:
    harness = build_harness(sqlite_engine, slack)
    harness.connect_and_sync()
    harness.slack.add_channel("CDIGEST", "eng-spend")
    yield harness
    harness.close()


def add_digest(
    bot: Harness, at: time = NINE, cadence: str = "daily", channel: str = "CDIGEST"
) -> int:
    with session_scope(bot.engine) as session:
        workspace = find_workspace(session, "T1")
        workspace.timezone = "America/New_York"
        schedule = add_schedule(
            session,
            workspace,
            channel_id=channel,
            local_time=at,
            cadence=cadence,
            created_by=ADMIN,
            now=bot.clock.now,
        )
        assert schedule.id is not None
        return schedule.id


def sender(bot: Harness) -> DigestSender:
    client = bot.app.client
    return DigestSender(bot.services, lambda _team: client)


def posts(bot: Harness, channel: str = "CDIGEST") -> list[object]:
    return [c for c in bot.slack.calls_to("chat.postMessage") if c.params.get("channel") == channel]


def at_local(day: date, hour: int, minute: int = 0) -> datetime:
    return datetime(
        day.year, day.month, day.day, hour, minute, tzinfo=ZoneInfo("America/New_York")
    ).astimezone(UTC)


def test_a_digest_due_during_a_restart_within_the_grace_window_is_sent_once(bot: Harness) -> None:
    schedule_id = add_digest(bot)
    day = date(2026, 11, 25)
    digests = sender(bot)
    # The process was down from 08:50 to 10:30; it catches up at start-up, twice.
    assert digests.catch_up(at_local(day, 10, 30)) == {schedule_id: "sent"}
    assert digests.catch_up(at_local(day, 10, 35)) == {schedule_id: "done"}
    assert digests.deliver_due(schedule_id, now=at_local(day, 10, 40)) == "done"
    assert len(posts(bot)) == 1
    assert bot.slack.wait_for("files.completeUploadExternal")  # the chart went with it


def test_a_digest_older_than_the_grace_window_is_skipped_and_logged(
    bot: Harness, caplog: pytest.LogCaptureFixture
) -> None:
    schedule_id = add_digest(bot)
    assert sender(bot).catch_up(at_local(date(2026, 11, 25), 14, 0)) == {schedule_id: "skipped"}
    assert posts(bot) == []
    assert "skipped" in caplog.text
    with session_scope(bot.engine) as session:
        (delivery,) = session.execute(select(Delivery)).scalars().all()
        assert delivery.status == "skipped"


def test_a_crash_after_claiming_and_before_posting_sends_exactly_once(bot: Harness) -> None:
    schedule_id = add_digest(bot)
    day = date(2026, 11, 25)
    digests = sender(bot)

    def crash(*_: object) -> str:
        raise SystemExit("killed between claim and post")

    digests._post = crash  # type: ignore[method-assign,assignment]
    with pytest.raises(SystemExit):
        digests.deliver_due(schedule_id, now=at_local(day, 9, 0))
    del digests._post
    # Restarted a minute later: the claim is still fresh, another worker may hold it.
    assert digests.deliver_due(schedule_id, now=at_local(day, 9, 1)) == "busy"
    # After the lease the claim is taken over; nothing was posted, so it posts once.
    assert digests.deliver_due(schedule_id, now=at_local(day, 9, 20)) == "sent"
    assert digests.deliver_due(schedule_id, now=at_local(day, 9, 30)) == "done"
    assert len(posts(bot)) == 1


def test_a_crash_after_posting_and_before_completing_does_not_post_again(bot: Harness) -> None:
    schedule_id = add_digest(bot)
    day = date(2026, 11, 25)
    digests = sender(bot)
    original = digests._complete

    def crash(*_: object) -> None:
        raise SystemExit("killed between post and complete")

    digests._complete = crash  # type: ignore[method-assign,assignment]
    with pytest.raises(SystemExit):
        digests.deliver_due(schedule_id, now=at_local(day, 9, 0))
    digests._complete = original  # type: ignore[method-assign]
    assert len(posts(bot)) == 1
    assert digests.deliver_due(schedule_id, now=at_local(day, 9, 20)) == "recovered"
    assert len(posts(bot)) == 1
    with session_scope(bot.engine) as session:
        (delivery,) = session.execute(select(Delivery)).scalars().all()
        assert delivery.status == "sent" and delivery.message_ts is not None


def test_a_channel_error_marks_the_schedule_failing_and_tells_its_creator_once(
    bot: Harness,
) -> None:
    bot.slack.add_channel("CGONE", "left", is_member=False)
    failing = add_digest(bot, channel="CGONE")
    healthy = add_digest(bot, at=time(9, 5))
    digests = sender(bot)
    day = date(2026, 11, 25)
    assert digests.deliver_due(failing, now=at_local(day, 9, 0)) == "failed"
    assert digests.deliver_due(failing, now=at_local(day + timedelta(days=1), 9, 0)) == "failed"
    assert digests.deliver_due(healthy, now=at_local(day, 9, 5)) == "sent"
    dms = [c for c in bot.slack.calls_to("chat.postMessage") if c.params["channel"] == "D" + ADMIN]
    assert len(dms) == 1 and "/invite @StackSpend" in dms[0].all_text()
    with session_scope(bot.engine) as session:
        schedule = session.get(DigestSchedule, failing)
        assert schedule is not None and schedule.status == "failing"


def test_the_scheduler_builds_one_job_per_schedule_and_connection_from_the_database(
    bot: Harness,
) -> None:
    first = add_digest(bot)
    second = add_digest(bot, at=time(17, 30), cadence="fri")
    scheduler = Scheduler(
        bot.services,
        sender(bot),
        alerts=bot.services.alerts,
        scheduler=BackgroundScheduler(timezone=UTC),
    )
    scheduler.reconcile()
    ids = {job.id for job in scheduler.apscheduler.get_jobs()}
    assert {f"digest:{first}", f"digest:{second}"} <= ids
    assert any(job_id.startswith("sync:") for job_id in ids)
    with session_scope(bot.engine) as session:
        session.delete(session.get(DigestSchedule, second))
    scheduler.reconcile()
    assert f"digest:{second}" not in {job.id for job in scheduler.apscheduler.get_jobs()}
