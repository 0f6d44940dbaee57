"""`/spend help periods`: every period form, with the workspace's today's dates filled in;
the App Home lists the new forms too."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime

from sqlmodel import select

from bot.slack.grammar import HELP_TEXT, HOME_EXAMPLES, USAGE, Invalid, parse
from bot.testing.signed_requests import app_home_opened_body, bolt_request
from digests.period_help import periods_help
from ledger.db import session_scope
from ledger.models import Workspace
from ledger.periods import Cycle, calendar_cycle
from tests.bot.harness import MEMBER, Harness

FORMS = (
    "today", "yesterday", "7d", "this week", "last week", "since monday", "this month", "mtd",
    "last month", "this cycle", "last cycle", "this quarter", "qtd", "last quarter",
    "this year", "ytd", "last 14 days", "last 4 weeks", "last 3 months",
)  # fmt: skip


def test_every_form_is_listed_with_its_dates() -> None:
    today = date(2026, 11, 28)
    text = periods_help(today, Cycle(date(2026, 11, 12), date(2026, 10, 12)), "Europe/Paris")
    for form in FORMS:
        assert f"`{form}`" in text, form
    assert "`last week` Mon Nov 16 to Sun Nov 22" in text
    assert "`last cycle` Mon Oct 12 to Wed Nov 11" in text
    assert "`october` Thu Oct 1 to Sat Oct 31" in text
    assert "`2026-q3` Wed Jul 1 to Wed Sep 30" in text
    assert "`since 2026-11-01` Sun Nov 1 to Sat Nov 28" in text
    assert "today is Sat Nov 28 2026" in text and "Europe/Paris" in text
    assert "vs previous" in text and "chart" in text


def test_at_new_year_last_month_is_last_year_s() -> None:
    today = date(2027, 1, 1)
    text = periods_help(today, calendar_cycle(today), "UTC")
    assert "`december` Tue Dec 1 2026 to Thu Dec 31 2026" in text
    assert "`q4` Thu Oct 1 2026 to Thu Dec 31 2026" in text
    assert "calendar months stand in" in text


def test_help_and_usage_name_the_new_forms() -> None:
    for words in ("last week", "vs previous", "chart", "help periods"):
        assert words in HELP_TEXT
    for words in ("mtd", "since monday", "2026-q3", "last N days|weeks|months"):
        assert words in USAGE["periods"]
    for example in re.findall(r"`(/spend [^`\[]+)`", HOME_EXAMPLES):
        assert not isinstance(parse(example.removeprefix("/spend ")), Invalid), example


def test_slack_answers_help_periods_in_the_workspace_s_timezone(bot: Harness) -> None:
    bot.clock.now = datetime(2026, 11, 29, 23, 30, tzinfo=UTC)  # Monday Nov 30 in Sydney
    _, key = bot.command("settings", user=MEMBER)  # creates the workspace
    bot.replies(key)
    with session_scope(bot.engine) as session:
        workspace = session.exec(select(Workspace)).one()
        workspace.timezone = "Australia/Sydney"
    _, key = bot.command("help periods", user=MEMBER)
    text = bot.reply_text(key)
    assert "today is Mon Nov 30 2026" in text and "Australia/Sydney" in text
    assert "`since monday` Mon Nov 30" in text


def test_app_home_shows_the_examples(bot: Harness) -> None:
    bot.connect_and_sync()
    bot.app.dispatch(bolt_request(app_home_opened_body(user_id=MEMBER)))
    published = bot.slack.wait_for("views.publish")[0]
    assert "/spend cursor this month vs last month" in published.all_text()


def test_the_help_index_names_every_topic_and_the_period_list_every_last_form() -> None:
    """`/spend help` names each topic it answers; each `last …` the list offers is read."""
    for topic in USAGE:
        if topic != "help":
            assert topic in USAGE["help"], topic
    listed = re.search(r"last ([a-z|]+),", USAGE["me"])
    assert listed is not None
    assert "year" in listed[1].split("|")
    for unit in listed[1].split("|"):
        assert not isinstance(parse(f"cursor last {unit}"), Invalid), unit
