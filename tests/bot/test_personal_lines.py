"""Personal lines end to end: `/spend me daily|weekly|off` through the Bolt app, the DM
through the fake Slack, each person's own figures only, and who may know who asked."""

from __future__ import annotations

import re
from collections import Counter
from datetime import date, time, timedelta

from prometheus_client import REGISTRY
from sqlalchemy import select
from sqlmodel import col

from bot.testing.fake_slack import SlackUser
from bot.usecases.personal_batch import LineOutcome
from digests.format import dollars
from ledger import personal
from ledger.accounts import find_workspace
from ledger.db import session_scope
from ledger.models import Delivery, DeliveryStatus, Visibility
from ledger.personal_models import LineCadence, PersonalSubscription
from tests.bot.harness import ADMIN, MEMBER, STRANGER, Harness
from tests.bot.personal_support import dms, ledger_cents, line_key_of, local, personal_sender

NOV_25, NOV_26 = date(2026, 11, 25), date(2026, 11, 26)


def sent_metric() -> float:
    return REGISTRY.get_sample_value("stackspend_personal_lines_total", {"outcome": "sent"}) or 0


def said(bot: Harness, text: str, user: str) -> str:
    """`/spend <text>` as ``user``; the reply once it is in (the subscription is stored)."""
    _, key = bot.command(text, user=user)
    return bot.reply_text(key)


def test_subscribe_receive_the_dm_unsubscribe_and_nothing_more_arrives(bot: Harness) -> None:
    bot.connect_and_sync()
    _, key = bot.command("me daily", user=MEMBER)
    reply = bot.reply_text(key)
    assert "every day at 09:00 UTC" in reply
    assert "The first, for Wed Nov 25, on Thu Nov 26 at 09:00" in reply
    sender = personal_sender(bot, presync=True)  # the real pass: syncs stale data first
    bot.clock.now = local("UTC", NOV_26, 8, 59)
    assert sender.run_due() == Counter()
    bot.clock.now = local("UTC", NOV_26, 9, 0)
    before = sent_metric()
    assert sender.run_due() == Counter({LineOutcome.SENT: 1})
    assert sent_metric() == before + 1
    (dm,) = dms(bot)
    assert dm.params["channel"] == MEMBER
    assert dm.response["channel"] == "D" + MEMBER  # the DM with them, nowhere else
    text = dm.all_text()
    own = ledger_cents(bot, bot.emails[1], NOV_25, NOV_25)
    assert f"Your Cursor spend yesterday (Wed Nov 25):* {dollars(own)}" in text
    assert "Only you get this line" in text
    assert line_key_of(dm).endswith(f":{MEMBER}:daily:2026-11-25")
    for minutes in (0, 1, 30, 600):  # the same period again: never a second DM
        bot.clock.now = local("UTC", NOV_26, 9, 0) + timedelta(minutes=minutes)
        assert sender.run_due().get(LineOutcome.SENT, 0) == 0

    _, key = bot.command("me off", user=MEMBER)
    assert "Your personal line is off" in bot.reply_text(key)
    for day in range(1, 4):
        bot.clock.now = local("UTC", NOV_26 + timedelta(days=day), 9, 30)
        assert sender.run_due() == Counter()
    assert len(dms(bot)) == 1
    _, key = bot.command("me off", user=MEMBER)
    assert "You had no personal line" in bot.reply_text(key)


def test_a_weekly_line_covers_last_week_against_the_four_weeks_before(bot: Harness) -> None:
    bot.connect_and_sync()
    _, key = bot.command("me weekly 07:45", user=ADMIN)
    reply = bot.reply_text(key)
    assert "every Monday at 07:45 UTC" in reply
    assert "the week of Nov 23 to Nov 29" in reply
    sender = personal_sender(bot)
    bot.clock.now = local("UTC", date(2026, 11, 30), 7, 45)
    assert sender.run_due() == Counter({LineOutcome.SENT: 1})
    (dm,) = dms(bot, ADMIN)
    own = ledger_cents(bot, bot.emails[0], date(2026, 11, 23), date(2026, 11, 29))
    assert f"last week (Nov 23 to Nov 29):* {dollars(own)}" in dm.all_text()
    assert re.search(r"vs your [1-4]-week average \(\$[0-9.,]+/week\)", dm.all_text())
    bot.clock.now = local("UTC", date(2026, 12, 6), 7, 45)  # Sunday: not yet
    assert sender.run_due() == Counter()
    assert len(dms(bot)) == 1


def test_each_person_sees_only_their_own_numbers(bot: Harness) -> None:
    bot.connect_and_sync()
    people = {ADMIN: bot.emails[0], MEMBER: bot.emails[1]}
    for user in people:
        said(bot, "me daily", user)
    bot.clock.now = local("UTC", NOV_26, 9, 5)
    assert personal_sender(bot).run_due() == Counter({LineOutcome.SENT: 2})
    day = date(2026, 11, 24)  # the last whole day the initial sync saw: both spent
    totals = {user: ledger_cents(bot, email, day, day) for user, email in people.items()}
    for user, email in people.items():
        (dm,) = dms(bot, user)
        text = dm.all_text()
        assert f":* {dollars(ledger_cents(bot, email, NOV_25, NOV_25))}" in text
        for other_user, other_email in people.items():
            if other_user != user:
                assert other_email not in text and other_user not in text
        assert all(e not in text for e in bot.emails)  # no one's email, not even theirs
    assert len(set(totals.values())) == 2, "the two people must differ for this to show anything"


def test_people_who_left_get_nothing_and_the_others_still_do(bot: Harness) -> None:
    bot.connect_and_sync()
    bot.slack.add_user(SlackUser(id="UGONE", email=bot.emails[2], name="Gone Slack"))
    bot.slack.add_user(SlackUser(id="UQUIT", email=bot.emails[3], name="Quit Cursor"))
    for user in (ADMIN, "UGONE", "UQUIT"):
        said(bot, "me daily", user)
    bot.slack.users["UGONE"].deleted = True  # deactivated in Slack
    bot.clock.now = local("UTC", NOV_26, 9, 0)
    bot.sim.remove_member(bot.emails[3])  # removed from the Cursor team
    sender = personal_sender(bot, presync=True)  # the pre-sync reads the members snapshot
    assert sender.run_due() == Counter({LineOutcome.SENT: 1, LineOutcome.LEFT: 2})
    assert [call.params["channel"] for call in dms(bot)] == [ADMIN]
    with session_scope(bot.engine) as session:
        skipped = session.execute(
            select(col(Delivery.error)).where(col(Delivery.status) == DeliveryStatus.SKIPPED)
        ).scalars()
        assert sorted(skipped) == ["deactivated in Slack", "removed from the Cursor team"]
    bot.clock.now += timedelta(minutes=5)
    assert sender.run_due() == Counter()  # settled: not looked at again


def test_admins_see_how_many_subscribed_and_who_only_under_all(bot: Harness) -> None:
    bot.connect_and_sync()
    said(bot, "me daily", ADMIN)
    said(bot, "me weekly 08:00", MEMBER)
    _, key = bot.command("cursor status", user=ADMIN)
    text = bot.reply_text(key)
    assert "Personal lines: 2 people subscribed (1 daily, 1 weekly)" in text
    assert f"<@{MEMBER}>" not in text
    assert "Your personal line: daily at 09:00 UTC" in text
    _, key = bot.command("cursor status", user=MEMBER)
    text = bot.reply_text(key)
    assert "Personal lines:" not in text and "subscribed" not in text
    assert "Your personal line: weekly at 08:00 UTC" in text
    with session_scope(bot.engine) as session:
        find_workspace(session, "T1").visibility = Visibility.ALL
    _, key = bot.command("cursor status", user=ADMIN)
    assert f"(1 daily, 1 weekly): <@{ADMIN}>, <@{MEMBER}>" in bot.reply_text(key)


def test_the_profile_timezone_is_used_and_followed(bot: Harness) -> None:
    bot.connect_and_sync()
    bot.slack.users[MEMBER].tz = "Asia/Tokyo"
    _, key = bot.command("me daily 8am", user=MEMBER)
    assert "at 08:00 Asia/Tokyo (your Slack profile's timezone)" in bot.reply_text(key)
    bot.slack.users[MEMBER].tz = "Europe/Paris"  # moved: followed from the next line on
    bot.clock.now = local("Asia/Tokyo", NOV_26, 9, 0)  # 00:00 UTC: Nov 25 has ended in UTC
    assert personal_sender(bot).run_due() == Counter({LineOutcome.SENT: 1})
    with session_scope(bot.engine) as session:
        (subscription,) = session.execute(select(PersonalSubscription)).scalars()
        assert subscription.timezone == "Europe/Paris"
    bot.clock.now = local("Europe/Paris", date(2026, 11, 27), 8, 0)
    assert personal_sender(bot).run_due() == Counter({LineOutcome.SENT: 1})
    assert [line_key_of(c)[-10:] for c in dms(bot)] == ["2026-11-25", "2026-11-26"]


def test_without_an_email_nobody_is_subscribed(bot: Harness) -> None:
    bot.slack.add_user(SlackUser(id="UNOMAIL", email=None))
    _, key = bot.command("me daily", user="UNOMAIL")
    assert "could not find your email" in bot.reply_text(key)
    with session_scope(bot.engine) as session:
        assert session.execute(select(PersonalSubscription)).first() is None


def test_subscribing_says_when_cursor_does_not_list_you(bot: Harness) -> None:
    assert "Cursor is not connected yet" in said(bot, "me daily", ADMIN)
    bot.connect_and_sync()
    assert "does not list your email among the team's members" in said(bot, "me daily", STRANGER)
    assert "does not list" not in said(bot, "me daily", MEMBER)
    bot.sim.remove_member(bot.emails[1])
    bot.connect_and_sync()  # the members snapshot now lists them as removed
    assert "removed from the team" in said(bot, "me weekly", MEMBER)
    with session_scope(bot.engine) as session:
        (mine,) = [
            s
            for s in session.execute(select(PersonalSubscription)).scalars()
            if s.slack_user_id == MEMBER
        ]
        assert mine.cadence == "daily"  # the refused change left the subscription as it was


def test_a_long_list_of_subscribers_is_cut_whole_and_keeps_the_admin_s_own_line(
    bot: Harness,
) -> None:
    """Under `all`, a thousand subscribers' mentions would pass Slack's 3,000 characters a
    section: the list names some, says how many more, and the caller's own line stays."""
    bot.connect_and_sync()
    said(bot, "me daily", ADMIN)
    with session_scope(bot.engine) as session:
        workspace = find_workspace(session, "T1")
        workspace.visibility = Visibility.ALL
        for n in range(1000):
            personal.subscribe(
                session, workspace, user_id=f"U{n:08d}", cadence=LineCadence.WEEKLY,
                local_time=time(9), timezone="UTC", now=bot.clock.now,
            )  # fmt: skip
    _, key = bot.command("cursor status", user=ADMIN)
    reply = bot.replies(key)[0]
    text = reply.all_text()
    assert "Personal lines: 1001 people subscribed (1 daily, 1000 weekly)" in text
    assert "and 9" in text and "more" in text
    assert "Your personal line: daily at 09:00 UTC" in text
    for block in reply.params["blocks"]:
        assert len(block.get("text", {}).get("text", "")) <= 3000
    assert not re.search(r"<@[A-Z0-9]*(?![A-Z0-9>])", text)  # no mention cut in half
