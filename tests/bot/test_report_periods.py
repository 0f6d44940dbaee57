"""Period phrases through the whole report path: the workspace's timezone decides today (DST
days included), the JSON's start and end show what a phrase meant, and a period that reaches
before the ledger's history says so."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime, timedelta

import pytest
from sqlalchemy import Engine

from bot.testing.fake_slack import FakeSlack
from bot.usecases.reports import report_for
from digests.reports import report_json, report_text
from digests.slack_reports import report_message
from ledger.db import session_scope
from ledger.models import Connection
from tests.bot.cli_support import run
from tests.bot.harness import build_harness
from tests.ledger.support import make_team


@pytest.mark.parametrize(
    ("zone", "now", "phrase", "start", "end"),
    [
        # New York springs forward at 02:00 on Sun Mar 8 2026 (07:00 UTC).
        ("America/New_York", "2026-03-08T04:30:00+00:00", "today", "2026-03-07", "2026-03-07"),
        ("America/New_York", "2026-03-08T05:30:00+00:00", "today", "2026-03-08", "2026-03-08"),
        ("America/New_York", "2026-03-08T12:00:00+00:00", "this week", "2026-03-02", "2026-03-08"),
        ("America/New_York", "2026-03-09T04:30:00+00:00", "last week", "2026-03-02", "2026-03-08"),
        # New York falls back on Sun Nov 1 2026 (06:00 UTC); midnight is 04:00 UTC.
        ("America/New_York", "2026-11-01T04:30:00+00:00", "mtd", "2026-11-01", "2026-11-01"),
        ("America/New_York", "2026-11-01T03:30:00+00:00", "mtd", "2026-10-01", "2026-10-31"),
        ("America/New_York", "2026-11-01T12:00:00+00:00", "last month", "2026-10-01", "2026-10-31"),
        # Sydney springs forward on Sun Oct 4 2026 (16:00 UTC the day before).
        ("Australia/Sydney", "2026-10-03T14:30:00+00:00", "today", "2026-10-04", "2026-10-04"),
        ("Australia/Sydney", "2026-09-30T13:30:00+00:00", "qtd", "2026-07-01", "2026-09-30"),
        ("Australia/Sydney", "2026-10-03T14:30:00+00:00", "qtd", "2026-10-01", "2026-10-04"),
        ("Australia/Sydney", "2026-10-03T14:30:00Z", "since monday", "2026-09-28", "2026-10-04"),
        # Sydney falls back on Sun Apr 5 2026.
        ("Australia/Sydney", "2026-04-04T13:30:00+00:00", "october", "2025-10-01", "2025-10-31"),
        ("Australia/Sydney", "2026-04-04T13:30:00+00:00", "q1", "2026-01-01", "2026-03-31"),
    ],
)  # fmt: skip
def test_today_is_the_workspace_s_local_day(
    sqlite_engine: Engine, zone: str, now: str, phrase: str, start: str, end: str
) -> None:
    make_team(sqlite_engine, timezone=zone)
    moment = datetime.fromisoformat(now)
    report = report_for(
        sqlite_engine, workspace_ref="T1", period_text=phrase, by="user", now=moment
    )
    payload = report_json(report)
    assert (payload["start"], payload["end"]) == (start, end)


def _history_from(engine: Engine, start: datetime) -> None:
    with session_scope(engine) as session:
        connection = session.get(Connection, 1)
        assert connection is not None
        connection.history_start = start


def test_a_period_before_the_history_says_so(sqlite_engine: Engine) -> None:
    make_team(sqlite_engine, timezone="UTC")
    _history_from(sqlite_engine, datetime(2026, 10, 29, tzinfo=UTC))
    now = datetime(2026, 11, 28, 12, tzinfo=UTC)
    report = report_for(
        sqlite_engine, workspace_ref="T1", period_text="last 30 days", by="user", now=now
    )
    assert report.period.start == date(2026, 10, 30)  # within the history: nothing to say
    assert report_json(report)["days_before_history"] == 0
    assert "history starts" not in report_text(report)

    report = report_for(
        sqlite_engine, workspace_ref="T1", period_text="since 2026-10-17", by="user", now=now
    )
    words = "history starts Oct 29; the first 12 days of this period have no data"
    assert report_json(report)["days_before_history"] == 12
    assert report_json(report)["history_note"] == words
    assert words in report_text(report)
    message = report_message(report)
    assert "History starts Oct 29; the first 12 days" in json.dumps(message.blocks)

    report = report_for(
        sqlite_engine, workspace_ref="T1", period_text="september", by="user", now=now
    )
    assert report_json(report)["days_before_history"] == 30
    assert "this period has no data" in report_text(report)


def test_the_cli_reads_the_same_phrases(synced: dict[str, str]) -> None:
    now = "2026-11-28T12:00:00+00:00"
    for phrase, start, end in [
        ("last week", "2026-11-16", "2026-11-22"),
        ("this month", "2026-11-01", "2026-11-28"),
        ("oct 2026", "2026-10-01", "2026-10-31"),
        ("since monday", "2026-11-23", "2026-11-28"),
        ("last 2 weeks", "2026-11-15", "2026-11-28"),
    ]:
        code, out, err = run(
            synced, "report", "cursor", "-w", "T1", "-p", phrase, "-f", "json", "--now", now
        )
        assert code == 0, err
        payload = json.loads(out)
        assert (payload["start"], payload["end"]) == (start, end), phrase
        history = payload["history"]["start"]
        assert history is not None
        first = datetime.fromisoformat(history).date()
        expected = max(
            0,
            min(
                (first - date.fromisoformat(start)).days,
                1 + (date.fromisoformat(end) - date.fromisoformat(start)).days,
            ),
        )
        assert payload["days_before_history"] == expected, phrase


def test_the_cli_refuses_a_month_that_has_not_started(synced: dict[str, str]) -> None:
    now = "2026-11-28T12:00:00+00:00"
    code, out, err = run(synced, "report", "cursor", "-w", "T1", "-p", "2027-02", "--now", now)
    assert code == 1 and out == ""
    assert "starts on 2027-02-01, after today" in err


def test_history_gap_day_count_is_local(sqlite_engine: Engine) -> None:
    """An API history start late on Oct 28 UTC is Oct 29 in Sydney."""
    make_team(sqlite_engine, timezone="Australia/Sydney")
    _history_from(sqlite_engine, datetime(2026, 10, 28, 20, tzinfo=UTC))
    now = datetime(2026, 11, 28, 1, tzinfo=UTC) + timedelta(hours=0)
    report = report_for(
        sqlite_engine, workspace_ref="T1", period_text="since 2026-10-17", by="user", now=now
    )
    assert report_json(report)["days_before_history"] == 12


def test_the_cli_offers_the_nearest_period(synced: dict[str, str]) -> None:
    code, out, err = run(synced, "report", "cursor", "-w", "T1", "-p", "last wek")
    assert code == 1 and out == ""
    assert "Unknown period 'last wek' (did you mean `last week`?)" in err


def test_slack_says_when_a_period_has_not_begun(sqlite_engine: Engine) -> None:
    with FakeSlack() as slack:
        bot = build_harness(sqlite_engine, slack)
        try:
            bot.connect_and_sync()
            _, key = bot.command("cursor 2027-05 by model")
            assert "starts on 2027-05-01, after today" in bot.reply_text(key)
            _, key = bot.command("cursor since 2026-10-20")
            text = bot.reply_text(key)
            assert "History starts" in text and "of this period have no data" in text
        finally:
            bot.close()
