"""Personal lines fire once per period at each person's own local time: across the date
line, on a DST change day, through restarts and crashes, and with several replicas."""

from __future__ import annotations

import threading
from collections import Counter
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import Engine, select

from bot.assembly import assemble
from bot.jobs.scheduler import PERSONAL_JOB
from bot.slack.oauth import BOT_SCOPES
from bot.testing.fake_slack import FakeSlack, SlackUser
from bot.usecases.personal_batch import LineBatch, LineOutcome
from ledger.accounts import find_workspace
from ledger.db import session_scope
from ledger.models import Delivery, DeliveryStatus, SyncRun
from tests.bot.harness import ADMIN, MEMBER, Harness, build_harness
from tests.bot.harness import test_settings as settings_of
from tests.bot.personal_support import dms, line_key_of, local, personal_sender

PEOPLE = {
    "UKIRI": "Pacific/Kiritimati",  # UTC+14: first to see a new day
    "UPAGO": "Pacific/Pago_Pago",  # UTC-11: last to see it
    "UNYC": "America/New_York",  # DST ends on Sunday Nov 1 2026
}


def subscribe(bot: Harness, user: str, text: str = "me daily") -> None:
    _, key = bot.command(text, user=user)
    assert "Done:" in bot.reply_text(key)


def add_people(bot: Harness) -> None:
    for index, (user, zone) in enumerate(PEOPLE.items()):
        bot.slack.add_user(SlackUser(id=user, email=bot.emails[3 + index], tz=zone))


def test_lines_fire_once_per_local_day_across_the_date_line_and_a_dst_change(
    bot: Harness,
) -> None:
    """Four days in 20-minute steps; every pass by a freshly started sender (a restart)."""
    bot.connect_and_sync()
    add_people(bot)
    bot.clock.now = datetime(2026, 10, 30, 12, 0, tzinfo=UTC)
    for user in PEOPLE:
        subscribe(bot, user)
    sent_at: dict[str, datetime] = {}
    while bot.clock.now <= datetime(2026, 11, 3, 12, 0, tzinfo=UTC):
        personal_sender(bot).run_due()
        for call in dms(bot):
            sent_at.setdefault(line_key_of(call), bot.clock.now)
        bot.clock.advance(minutes=20)
    assert len(dms(bot)) == len(sent_at) == 12  # no key twice
    by_person: dict[str, list[tuple[str, str]]] = {}
    for key, moment in sorted(sent_at.items(), key=lambda item: item[1]):
        user, period = key.split(":")[2], key.split(":")[4]
        zone = PEOPLE[user]
        by_person.setdefault(user, []).append(
            (period, f"{moment.astimezone(ZoneInfo(zone)):%m-%d %H:%M %Z}")
        )
    # New York: 09:00 local every day, EDT before the change and EST from Sunday on.
    assert by_person["UNYC"] == [
        ("2026-10-29", "10-30 09:00 EDT"),
        ("2026-10-30", "10-31 09:00 EDT"),
        ("2026-10-31", "11-01 09:00 EST"),
        ("2026-11-01", "11-02 09:00 EST"),
    ]
    # Pago Pago: 09:00 local; its day ended in UTC (the ledger's days) long before.
    assert [when for _, when in by_person["UPAGO"]] == [
        "10-30 09:00 SST",
        "10-31 09:00 SST",
        "11-01 09:00 SST",
        "11-02 09:00 SST",
    ]
    assert [period for period, _ in by_person["UPAGO"]] == [
        "2026-10-29",
        "2026-10-30",
        "2026-10-31",
        "2026-11-01",
    ]
    # Kiritimati: its yesterday ends in UTC at 14:00 local, so the line waits until then.
    assert by_person["UKIRI"] == [
        ("2026-10-30", "10-31 14:00 +14"),
        ("2026-10-31", "11-01 14:00 +14"),
        ("2026-11-01", "11-02 14:00 +14"),
        ("2026-11-02", "11-03 14:00 +14"),
    ]


def test_a_workspace_on_the_far_side_of_the_date_line_sends_at_the_chosen_time(
    bot: Harness,
) -> None:
    bot.connect_and_sync()
    with session_scope(bot.engine) as session:
        find_workspace(session, "T1").timezone = "Pacific/Auckland"
    bot.slack.users[MEMBER].tz = "Pacific/Auckland"
    bot.slack.users[ADMIN].tz = "Pacific/Pago_Pago"
    subscribe(bot, MEMBER)
    subscribe(bot, ADMIN)
    sender = personal_sender(bot)
    # 09:00 in Auckland on Thursday is 09:00 in Pago Pago on Wednesday: the same instant.
    auckland_nine = local("Pacific/Auckland", date(2026, 11, 26), 9, 0)
    assert auckland_nine == local("Pacific/Pago_Pago", date(2026, 11, 25), 9, 0)
    bot.clock.now = auckland_nine - timedelta(minutes=1)
    assert sender.run_due() == Counter()
    bot.clock.now = auckland_nine
    assert sender.run_due() == Counter({LineOutcome.SENT: 2})
    # Each gets their own yesterday: Wednesday in Auckland, Tuesday in Pago Pago (whose
    # Tuesday ended in Auckland's timezone, the ledger's, long before).
    assert line_key_of(dms(bot, MEMBER)[0]).endswith(":daily:2026-11-25")
    assert line_key_of(dms(bot, ADMIN)[0]).endswith(":daily:2026-11-24")
    bot.clock.now = auckland_nine + timedelta(hours=23, minutes=59)
    assert sender.run_due() == Counter()
    bot.clock.now = auckland_nine + timedelta(hours=24)
    assert sender.run_due() == Counter({LineOutcome.SENT: 2})


def test_a_crash_after_posting_and_before_completing_does_not_send_again(
    bot: Harness, monkeypatch: pytest.MonkeyPatch
) -> None:
    bot.connect_and_sync()
    subscribe(bot, MEMBER)
    nine = local("UTC", date(2026, 11, 26), 9, 0)
    bot.clock.now = nine

    def killed(*_: object) -> None:
        raise SystemExit("killed between post and complete")

    monkeypatch.setattr(LineBatch, "_complete", killed)
    with pytest.raises(SystemExit):
        personal_sender(bot).run_due()
    monkeypatch.undo()
    assert len(dms(bot)) == 1
    bot.clock.now = nine + timedelta(minutes=1)  # restarted: the claim is fresh, hands off
    assert personal_sender(bot).run_due() == Counter({LineOutcome.BUSY: 1})
    bot.clock.now = nine + timedelta(minutes=11)  # the lease is over: the DM is read first
    assert personal_sender(bot).run_due() == Counter({LineOutcome.RECOVERED: 1})
    assert len(dms(bot)) == 1
    bot.clock.now = nine + timedelta(minutes=12)
    assert personal_sender(bot).run_due() == Counter()
    with session_scope(bot.engine) as session:
        (delivery,) = session.execute(select(Delivery)).scalars()
        assert delivery.status == DeliveryStatus.SENT and delivery.message_ts


def test_a_crash_before_posting_sends_once_after_the_lease(
    bot: Harness, monkeypatch: pytest.MonkeyPatch
) -> None:
    bot.connect_and_sync()
    subscribe(bot, MEMBER)
    nine = local("UTC", date(2026, 11, 26), 9, 0)
    bot.clock.now = nine

    def killed(*_: object) -> None:
        raise SystemExit("killed between claim and post")

    monkeypatch.setattr(LineBatch, "_figures", killed)
    with pytest.raises(SystemExit):
        personal_sender(bot).run_due()
    monkeypatch.undo()
    bot.clock.now = nine + timedelta(minutes=11)
    assert personal_sender(bot).run_due() == Counter({LineOutcome.SENT: 1})
    assert len(dms(bot)) == 1


def test_a_line_missed_while_down_is_caught_up_within_the_grace_and_skipped_after(
    bot: Harness,
) -> None:
    bot.connect_and_sync()
    subscribe(bot, MEMBER)
    subscribe(bot, ADMIN, "me daily 03:00")
    # Down from 02:00 to 11:00: MEMBER's 09:00 is 2 hours old (sent), ADMIN's 03:00 8 (late).
    bot.clock.now = local("UTC", date(2026, 11, 26), 11, 0)
    assert personal_sender(bot).run_due() == Counter({LineOutcome.SENT: 1, LineOutcome.LATE: 1})
    assert [call.params["channel"] for call in dms(bot)] == [MEMBER]
    bot.clock.now = local("UTC", date(2026, 11, 27), 3, 0)  # the next day: on time again
    assert personal_sender(bot).run_due() == Counter({LineOutcome.SENT: 1})
    assert line_key_of(dms(bot, ADMIN)[0]).endswith(":daily:2026-11-26")


def test_slack_refusals_are_retried_a_few_times_then_given_up(bot: Harness) -> None:
    bot.connect_and_sync()
    subscribe(bot, MEMBER)
    sender = personal_sender(bot)
    bot.clock.now = local("UTC", date(2026, 11, 26), 9, 0)
    bot.slack.fail_next("chat.postMessage", error="msg_too_long", count=2)
    assert sender.run_due() == Counter({LineOutcome.FAILED: 1})
    bot.clock.advance(minutes=1)
    assert sender.run_due() == Counter({LineOutcome.FAILED: 1})
    bot.clock.advance(minutes=1)
    assert sender.run_due() == Counter({LineOutcome.SENT: 1})
    bot.slack.fail_next("chat.postMessage", error="msg_too_long", count=10)
    bot.clock.now = local("UTC", date(2026, 11, 27), 9, 0)
    outcomes = [sender.run_due() for _ in range(7)]
    assert sum(o[LineOutcome.FAILED] for o in outcomes) == 5  # MAX_ATTEMPTS, then left alone
    assert outcomes[-1] == Counter()


@pytest.fixture
def replicas(engine: Engine) -> Iterator[Harness]:
    """The harness on the parametrised database (SQLite and PostgreSQL)."""
    with FakeSlack() as slack:
        harness = build_harness(engine, slack)
        yield harness
        harness.close()


def test_replicas_send_each_line_once(replicas: Harness) -> None:
    bot = replicas
    bot.connect_and_sync()
    extra = [f"UR{i}" for i in range(4)]
    for index, user in enumerate(extra):
        bot.slack.add_user(SlackUser(id=user, email=bot.emails[2 + index]))
    for user in (ADMIN, MEMBER, *extra):
        subscribe(bot, user)
    bot.clock.now = local("UTC", date(2026, 11, 26), 9, 0)
    senders = [personal_sender(bot) for _ in range(4)]
    results: list[Counter[LineOutcome]] = []
    start = threading.Barrier(len(senders))

    def run(sender_index: int) -> None:
        start.wait()
        results.append(senders[sender_index].run_due())

    threads = [threading.Thread(target=run, args=(i,)) for i in range(len(senders))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sum(r[LineOutcome.SENT] for r in results) == 6
    keys = [line_key_of(call) for call in dms(bot)]
    assert len(keys) == len(set(keys)) == 6


def test_the_scheduler_runs_the_due_check_every_minute_and_keeps_it(bot: Harness) -> None:
    bot.connect_and_sync()
    subscribe(bot, MEMBER)
    bot.clock.now = local("UTC", date(2026, 11, 26), 9, 0)
    assembly = assemble(settings_of(), bot.services, slack=bot.slack.client(), with_scheduler=True)
    scheduler = assembly.scheduler
    assert scheduler is not None and scheduler.personal is not None
    scheduler.personal.presync = False
    scheduler.start()
    try:
        job = scheduler.apscheduler.get_job(PERSONAL_JOB)
        assert job is not None and job.trigger.interval == timedelta(minutes=1)
        bot.slack.wait_for("chat.postMessage")  # the first pass runs at start (catch-up)
        scheduler.reconcile()
        assert scheduler.apscheduler.get_job(PERSONAL_JOB) is not None
    finally:
        scheduler.shutdown()
    assert [call.params["channel"] for call in dms(bot)] == [MEMBER]


def test_people_slack_cannot_place_are_skipped_or_retried(bot: Harness) -> None:
    bot.connect_and_sync()
    bot.slack.add_user(SlackUser(id="UMAILLESS", email=bot.emails[2]))
    for user in (ADMIN, MEMBER, "UMAILLESS"):
        subscribe(bot, user)
    bot.slack.users["UMAILLESS"].email = None  # the profile lost its email since
    del bot.slack.users[ADMIN]  # gone from Slack: users.info says user_not_found
    bot.clock.now = local("UTC", date(2026, 11, 26), 9, 0)
    sender = personal_sender(bot)
    assert sender.run_due() == Counter({LineOutcome.LEFT: 2, LineOutcome.SENT: 1})
    with session_scope(bot.engine) as session:
        reasons = sorted(str(d.error) for d in session.execute(select(Delivery)).scalars())
    assert reasons == ["None", "no email to match to Cursor", "not in Slack (user_not_found)"]
    # The next day Slack fails one look-up: that line is tried again a minute later.
    bot.clock.now = local("UTC", date(2026, 11, 27), 9, 0)
    bot.slack.fail_next("users.info", error="internal_error", count=1)
    first = sender.run_due()
    assert first[LineOutcome.FAILED] == 1 and sum(first.values()) == 3
    bot.clock.advance(minutes=1)
    second = sender.run_due()
    assert sum(second.values()) == 1 and LineOutcome.FAILED not in second
    assert [call.params["channel"] for call in dms(bot)] == [MEMBER, MEMBER]


def test_a_workspace_without_cursor_sends_nothing_and_one_failing_leaves_the_others(
    bot: Harness, monkeypatch: pytest.MonkeyPatch
) -> None:
    subscribe(bot, MEMBER)
    bot.clock.now = local("UTC", date(2026, 11, 26), 9, 0)
    assert personal_sender(bot).run_due() == Counter()  # nothing to report on yet
    bot.connect_and_sync()

    def broken(*_: object) -> Counter[LineOutcome]:
        raise RuntimeError("the database went away")

    monkeypatch.setattr(LineBatch, "send", broken)
    assert personal_sender(bot).run_due() == Counter({LineOutcome.FAILED: 1})
    monkeypatch.undo()
    bot.clock.advance(minutes=11)  # the claim left behind expires: taken over, sent once
    assert personal_sender(bot).run_due() == Counter({LineOutcome.SENT: 1})
    assert len(dms(bot)) == 1


def test_a_line_still_failing_past_the_grace_is_recorded_late_once(bot: Harness) -> None:
    bot.connect_and_sync()
    subscribe(bot, MEMBER)
    sender = personal_sender(bot)
    nine = local("UTC", date(2026, 11, 26), 9, 0)
    bot.clock.now = nine
    bot.slack.fail_next("chat.postMessage", error="fatal_error", count=1)
    assert sender.run_due() == Counter({LineOutcome.FAILED: 1})
    bot.clock.now = nine + sender.grace + timedelta(minutes=1)  # down since, back too late
    assert sender.run_due() == Counter({LineOutcome.LATE: 1})
    assert sender.run_due() == Counter()
    with session_scope(bot.engine) as session:
        (delivery,) = session.execute(select(Delivery)).scalars()
        assert delivery.status == DeliveryStatus.SKIPPED and "grace" in str(delivery.error)
    assert dms(bot) == []


def test_rate_limits_are_waited_out_not_counted_as_attempts(bot: Harness) -> None:
    bot.connect_and_sync()
    subscribe(bot, MEMBER)
    sender = personal_sender(bot)
    bot.clock.now = local("UTC", date(2026, 11, 26), 9, 0)
    bot.slack.fail_next("chat.postMessage", error="ratelimited", count=sender.max_attempts + 2)
    for _ in range(sender.max_attempts + 2):
        assert sender.run_due() == Counter({LineOutcome.FAILED: 1})
        bot.clock.advance(minutes=1)
    assert sender.run_due() == Counter({LineOutcome.SENT: 1})
    assert len(dms(bot)) == 1


def test_stale_data_is_synced_first_at_most_once_an_hour(bot: Harness) -> None:
    bot.connect_and_sync()
    subscribe(bot, MEMBER, "me daily 09:00")
    subscribe(bot, ADMIN, "me daily 09:30")
    sender = personal_sender(bot, presync=True)

    def runs() -> int:
        with session_scope(bot.engine) as session:
            return len(session.execute(select(SyncRun)).scalars().all())

    before = runs()
    bot.clock.now = local("UTC", date(2026, 11, 26), 9, 0)  # last sync 18.5 hours ago
    assert sender.run_due() == Counter({LineOutcome.SENT: 1})
    assert runs() == before + 1
    bot.clock.now = local("UTC", date(2026, 11, 26), 9, 30)
    assert sender.run_due() == Counter({LineOutcome.SENT: 1})
    assert runs() == before + 1  # synced half an hour ago: fresh enough


def test_a_stopping_process_leaves_the_lines_to_the_next_one(bot: Harness) -> None:
    bot.connect_and_sync()
    subscribe(bot, MEMBER)
    bot.clock.now = local("UTC", date(2026, 11, 26), 9, 0)
    bot.services.stopping.set()
    try:
        assert personal_sender(bot).run_due() == Counter()
    finally:
        bot.services.stopping.clear()
    bot.clock.advance(minutes=1)
    assert personal_sender(bot).run_due() == Counter({LineOutcome.SENT: 1})


def test_reading_the_dm_after_a_crash_has_the_scope_slack_asks_for() -> None:
    """conversations.history in a direct message needs `im:history` (Slack's method page:
    one of channels/groups/im/mpim:history by the conversation's type), or every recovered
    line fails with missing_scope."""
    assert "im:history" in BOT_SCOPES
