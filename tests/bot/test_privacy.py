"""Privacy under the visibility policy, end to end: signed requests through the real Bolt
app, a real ledger, the Cursor simulator and the fake Slack Web API.

Under ``own`` (the default) a member sees team figures and their own, never another
person's spend, budget or alert, on any surface. A channel is many people: a digest
posted to one never shows a person's budget or alert, under either policy, and no
person's spend under ``own``.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterator
from decimal import Decimal

import pytest
from sqlalchemy import Engine, select

from bot.testing.fake_slack import FakeSlack
from bot.testing.signed_requests import app_home_opened_body, bolt_request
from ledger.accounts import find_workspace
from ledger.alerts.evaluate import AlertSettings, evaluate
from ledger.db import session_scope
from ledger.models import Alert
from tests.bot.harness import ADMIN, MEMBER, Harness, build_harness

EMAIL = re.compile(r"[A-Za-z0-9._%+'-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,}")
#: Every person with any spend yesterday has an "unusual" day (and so does the team).
EVERY_DAY_IS_UNUSUAL = AlertSettings(anomaly_factor=Decimal(0), anomaly_floor_cents=Decimal(1))
TEAM_BUDGET = "$123,456.00"


@pytest.fixture
def bot(sqlite_engine: Engine) -> Iterator[Harness]:
    with FakeSlack() as slack:
        harness = build_harness(sqlite_engine, slack, days=40)
        harness.connect_and_sync()
        slack.add_channel("CDIGEST", "eng-spend")
        yield harness
        harness.close()


def emails_in(text: str) -> set[str]:
    return {found.lower() for found in EMAIL.findall(text)}


def admin_email(bot: Harness) -> str:
    return bot.emails[0].lower()


def member_email(bot: Harness) -> str:
    return bot.emails[1].lower()


def workspace_id(bot: Harness) -> int:
    with session_scope(bot.engine) as session:
        found = find_workspace(session, "T1").id
    assert found is not None
    return found


def with_budgets_and_alerts(bot: Harness) -> None:
    """A team budget, a budget on the admin and one on the member (both crossed at once),
    and an unusual day for every person who spent yesterday, and for the team."""
    for command in (
        "budget set cursor $123456 month at 80",
        f"budget set <@{ADMIN}> $1 month at 50,100",
        f"budget set <@{MEMBER}> $1 month at 50,100",
    ):
        _, key = bot.command(command)
        assert "Budget set" in bot.reply_text(key)
    with session_scope(bot.engine) as session:
        evaluate(
            session,
            now=bot.clock.now,
            settings=EVERY_DAY_IS_UNUSUAL,
            workspace_id=workspace_id(bot),
        )
    with session_scope(bot.engine) as session:
        subjects = {alert.subject for alert in session.execute(select(Alert)).scalars()}
    # Both people and the team have alerts: the assertions below are not vacuous.
    assert {admin_email(bot), member_email(bot), "team"} <= subjects


def home_text(bot: Harness, user: str) -> str:
    before = len(bot.slack.calls_to("views.publish"))
    assert bot.app.dispatch(bolt_request(app_home_opened_body(user_id=user))).status == 200
    published = bot.slack.wait_for("views.publish", count=before + 1)[before]
    return published.all_text()


def csv_upload(bot: Harness, text: str, user: str) -> list[list[str]]:
    before = set(bot.slack.uploads)
    _, key = bot.command(text, user=user)
    bot.replies(key, count=2)
    (new,) = set(bot.slack.uploads) - before
    return list(csv.reader(io.StringIO(bot.slack.uploads[new].decode())))


def posted_digest(bot: Harness) -> str:
    _, key = bot.command("digest add <#CDIGEST|eng-spend> 09:00")
    bot.replies(key)
    _, key = bot.command("digest send 1")
    assert "posted to <#CDIGEST>" in bot.reply_text(key)
    (posted,) = [
        c for c in bot.slack.calls_to("chat.postMessage") if c.params["channel"] == "CDIGEST"
    ]
    return posted.all_text()


def test_a_member_sees_no_other_persons_budget_alert_or_spend_on_any_surface(
    bot: Harness,
) -> None:
    with_budgets_and_alerts(bot)
    mine = member_email(bot)

    # /spend cursor status: the team budget and their own, no one else's.
    _, key = bot.command("cursor status", user=MEMBER)
    status = bot.reply_text(key)
    assert TEAM_BUDGET in status and f"{mine} (month)" in status
    assert emails_in(status) <= {mine}
    with session_scope(bot.engine) as session:
        live = [a for a in session.execute(select(Alert)).scalars() if a.status == "open"]
    theirs = [a for a in live if a.subject in (mine, "team") or a.kind == "health"]
    assert len(theirs) < len(live)
    assert f"*Open alerts ({len(theirs)}):*" in status

    # /spend alerts: the team's and their own.
    _, key = bot.command("alerts", user=MEMBER)
    alerts = bot.reply_text(key)
    assert mine in alerts and "the team spent" in alerts
    assert emails_in(alerts) <= {mine}

    # /spend budget list: no budget on another person.
    _, key = bot.command("budget list", user=MEMBER)
    budgets = bot.reply_text(key)
    assert f"<@{MEMBER}>: $1.00 a month" in budgets and "$123,456.00" in budgets
    assert f"<@{ADMIN}>: $1.00" not in budgets

    # App Home: their spend, the team's, team and own budgets.
    home = home_text(bot, MEMBER)
    assert TEAM_BUDGET in home and f"{mine} (month)" in home
    assert emails_in(home) <= {mine}

    # CSV by user: their own row only.
    rows = csv_upload(bot, "cursor cycle by user csv", MEMBER)
    assert rows[0][0] == "user"
    assert [row[0] for row in rows[1:]] == [mine]

    # The same questions from the admin show everyone's: the data is there to leak.
    _, key = bot.command("cursor status")
    assert f"{admin_email(bot)} (month)" in bot.reply_text(key)
    _, key = bot.command("alerts")
    assert len(emails_in(bot.reply_text(key))) > 1
    assert admin_email(bot) in home_text(bot, ADMIN)


def test_a_channel_digest_under_own_shows_team_figures_and_no_person(bot: Harness) -> None:
    with_budgets_and_alerts(bot)
    text = posted_digest(bot)
    assert TEAM_BUDGET in text  # the team's budget line
    assert "Unusual Cursor spend: the team" in text  # the team's alert line
    assert "Top models this cycle" in text
    assert "Not shown here" in text  # instead of the top users
    assert emails_in(text) == set()


def test_a_channel_digest_never_shows_a_persons_budget_or_alert_even_when_all_see_all(
    bot: Harness,
) -> None:
    with_budgets_and_alerts(bot)
    _, key = bot.command("settings visibility all")
    assert "everyone's spend" in bot.reply_text(key)
    text = posted_digest(bot)
    assert "Top users this cycle" in text and emails_in(text)  # spend is for all to see
    assert TEAM_BUDGET in text and "Unusual Cursor spend: the team" in text
    for email in (admin_email(bot), member_email(bot)):
        assert f"{email} (month)" not in text  # a person's budget
        assert f"Unusual Cursor spend: {email}" not in text  # an alert about a person
        assert f"{email} reached" not in text

    # Members see everyone's budgets when the policy says all (a person, not a channel).
    _, key = bot.command("cursor status", user=MEMBER)
    assert f"{admin_email(bot)} (month)" in bot.reply_text(key)
