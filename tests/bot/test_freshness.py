"""Freshness is visible: replies, digests, App Home and JSON say "data as of HH:MM" in the
reporting timezone; status shows the last light and deep syncs and the next of each."""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import UTC, date, datetime

import pytest
from apscheduler.schedulers.background import BackgroundScheduler

from bot.jobs.scheduler import Scheduler
from bot.testing.signed_requests import app_home_opened_body, bolt_request
from bot.usecases.digest_delivery import DigestSender
from bot.usecases.reports import report_for
from digests.freshness_words import as_of_clock, data_as_of, refreshing_note
from digests.reports import report_json, report_text
from ledger.accounts import find_workspace
from ledger.db import session_scope
from tests.bot.harness import ADMIN, Harness

AS_OF = re.compile(r"Data as of \d\d:\d\d")


def test_the_words_round_the_last_millisecond_up_and_name_the_day_when_not_today() -> None:
    end = datetime(2026, 11, 25, 12, 59, 59, 999000, tzinfo=UTC)
    assert as_of_clock(end, "Europe/Paris") == "14:00"
    assert data_as_of(end, "Europe/Paris", date(2026, 11, 25)) == "Data as of 14:00 (CET)"
    assert data_as_of(end, "UTC", date(2026, 11, 26)) == "Data as of 13:00 on Wed 25 Nov (UTC)"
    assert data_as_of(None, "UTC") == "No data synced yet"
    assert "updates itself" in refreshing_note(end, "UTC", date(2026, 11, 25))


@pytest.fixture
def scheduler(bot: Harness) -> Iterator[Scheduler]:
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


def test_a_spend_reply_says_data_as_of_in_the_reporting_timezone(bot: Harness) -> None:
    bot.connect_and_sync()  # at 14:30 UTC: Cursor's data reaches 14:00
    _, key = bot.command("cursor today")
    assert "Data as of 14:00 (UTC)" in bot.reply_text(key)
    _, key = bot.command("settings timezone Asia/Tokyo")
    bot.replies(key)
    _, key = bot.command("cursor week by model")
    assert "Data as of 23:00 (JST)" in bot.reply_text(key)


def test_json_and_text_reports_carry_the_clock_time(bot: Harness) -> None:
    bot.connect_and_sync()
    report = report_for(
        bot.engine, workspace_ref="T1", period_text="today", by="user", now=bot.clock.now
    )
    assert report_json(report)["data_as_of"] == "14:00"
    assert "Data as of 14:00 (UTC)" in report_text(report)


def test_app_home_says_data_as_of(bot: Harness) -> None:
    bot.connect_and_sync()
    assert bot.app.dispatch(bolt_request(app_home_opened_body(user_id=ADMIN))).status == 200
    published = bot.slack.wait_for("views.publish")[0]
    assert "Data as of 14:00 (UTC)" in published.all_text()


def test_the_digest_says_data_as_of(bot: Harness) -> None:
    bot.connect_and_sync()
    _, key = bot.command("digest preview")
    assert AS_OF.search(bot.reply_text(key)), bot.reply_text(key)


def test_status_shows_the_last_and_next_light_and_deep_syncs(
    bot: Harness, scheduler: Scheduler
) -> None:
    bot.connect_and_sync()  # a first sync is deep, at 14:30
    scheduler.reconcile()
    _, key = bot.command("cursor status")
    text = bot.reply_text(key)
    assert "*Data as of 14:00 (UTC)*" in text
    assert "*Last light sync:* never" in text
    assert re.search(r"\*Last deep sync:\* 2026-11-25 14:30 UTC \(ok, \d+ Cursor requests\)", text)
    # Hourly on the hour, at least an hour after the last poll; deep at 03:00 local.
    assert "*Next light sync:* 2026-11-25 16:00 UTC" in text
    assert "*Next deep sync:* 2026-11-26 03:00 UTC" in text

    with session_scope(bot.engine) as session:
        find_workspace(session, "T1").timezone = "Europe/Paris"
    _, key = bot.command("cursor status")
    text = bot.reply_text(key)
    assert "*Data as of 15:00 (CET)*" in text
    assert "*Next deep sync:* 2026-11-26 03:00 CET" in text  # 02:00 UTC, a tick


def test_status_without_a_scheduler_says_no_next_light_or_deep(bot: Harness) -> None:
    bot.connect_and_sync()
    _, key = bot.command("cursor status")
    text = bot.reply_text(key)
    assert "*Last deep sync:*" in text and "*Next light sync:*" not in text
    assert "*Next scheduled sync:* none: the scheduler is not running" in text
