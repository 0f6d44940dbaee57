"""Budgets by command, alerts by DM with buttons, exactly once, updated when pressed."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from decimal import ROUND_DOWN, Decimal

import pytest
from sqlalchemy import Engine, select

from bot.testing.fake_slack import Call, FakeSlack
from bot.testing.signed_requests import block_actions_body, bolt_request
from bot.usecases.reports import report_for
from connectors.cursor.windows import settled_end
from digests.alerts import SNOOZE_DAY
from ledger.db import session_scope
from ledger.models import Alert, Budget
from tests.bot.harness import ADMIN, MEMBER, Harness, build_harness


@pytest.fixture
def bot(sqlite_engine: Engine) -> Iterator[Harness]:
    with FakeSlack() as slack:
        harness = build_harness(sqlite_engine, slack, days=40)
        harness.connect_and_sync()
        yield harness
        harness.close()


def dms(bot: Harness, user: str = ADMIN) -> list[Call]:
    return [c for c in bot.slack.calls_to("chat.postMessage") if c.params["channel"] == "D" + user]


def alerts(bot: Harness) -> list[Alert]:
    with session_scope(bot.engine) as session:
        return list(session.execute(select(Alert)).scalars().all())


def month_spend_after(bot: Harness, hours: int) -> tuple[Decimal, Decimal]:
    """This month's team spend now, and once the clock has moved ``hours`` on."""
    start = bot.clock.now.replace(day=1, hour=0, minute=0)
    before = bot.sim.charged_cents(start, settled_end(bot.clock.now)).get("total", Decimal(0))
    bot.clock.advance(hours=hours)
    after = bot.sim.charged_cents(start, settled_end(bot.clock.now)).get("total", Decimal(0))
    bot.clock.advance(hours=-hours)
    return before, after


def test_a_budget_crossing_80_percent_sends_one_dm_with_buttons_and_snooze_updates_it(
    bot: Harness,
) -> None:
    before, after = month_spend_after(bot, hours=48)
    assert after > before
    amount = ((before + after) / 2 / Decimal("0.8") / 100).quantize(Decimal("0.01"), ROUND_DOWN)
    _, key = bot.command(f"budget set cursor ${amount} month at 80,100")
    assert "Budget set" in bot.reply_text(key)
    assert [a for a in alerts(bot) if a.threshold == 80] == []

    bot.clock.advance(hours=48)
    bot.services.manual_sync_interval = timedelta(0)
    _, key = bot.command("cursor sync")
    bot.replies(key, count=2, timeout=20)
    crossed = [a for a in alerts(bot) if a.kind == "threshold" and a.threshold == 80]
    assert len(crossed) == 1
    alert = crossed[0]
    message = bot.slack.wait_for("chat.postMessage")[-1]
    assert message.params["channel"] == "D" + ADMIN
    buttons = [b for b in message.blocks if b.get("block_id") == f"alert-{alert.id}"]
    assert buttons and [e["text"]["text"] for e in buttons[0]["elements"]] == [
        "Acknowledge",
        "Snooze 1 day",
        "Snooze 7 days",
        "Show breakdown",
    ]

    # A second sync and evaluation send nothing more.
    sent = len(dms(bot))
    bot.services.evaluate_alerts(alert.workspace_id)
    assert len(dms(bot)) == sent

    body = block_actions_body(
        SNOOZE_DAY,
        str(alert.id),
        user_id=ADMIN,
        channel_id=message.params["channel"],
        message={"ts": message.response["ts"]},
        response_url=bot.slack.response_url("snooze"),
    )
    assert bot.app.dispatch(bolt_request(body)).status == 200
    update = bot.slack.wait_for("chat.update")[0]
    assert update.params["ts"] == message.response["ts"]
    assert f"Snoozed by <@{ADMIN}>" in update.all_text()
    (snoozed,) = [a for a in alerts(bot) if a.id == alert.id]
    assert snoozed.status == "snoozed" and snoozed.acted_by == ADMIN


def test_budget_commands_are_for_admins_and_list_shows_them(bot: Harness) -> None:
    _, key = bot.command("budget set cursor $5000", user=MEMBER)
    assert "Only workspace admins" in bot.reply_text(key)
    _, key = bot.command(f"budget set <@{MEMBER}> $200 month")
    assert "Budget set" in bot.reply_text(key)
    _, key = bot.command("budget list", user=MEMBER)
    assert f"<@{MEMBER}>: $200.00 a month" in bot.reply_text(key)
    with session_scope(bot.engine) as session:
        (budget,) = session.execute(select(Budget)).scalars().all()
        assert budget.subject_email == bot.emails[1] and budget.dm_subject
    _, key = bot.command(f"budget remove {budget.id}")
    assert "removed" in bot.reply_text(key)


def test_alerts_lists_open_alerts(bot: Harness) -> None:
    total = report_for(
        bot.engine, workspace_ref="T1", period_text="cycle", by="user", now=bot.clock.now
    )
    amount = (total.totals.cents / 100 / 2).quantize(Decimal("0.01"), ROUND_DOWN)
    _, key = bot.command(f"budget set cursor ${amount} at 50,100")
    bot.replies(key)
    bot.slack.wait_for("chat.postMessage")
    _, key = bot.command("alerts")
    text = bot.reply_text(key)
    assert "Open alerts" in text and "100" in text


def test_status_and_the_digest_show_budget_status(bot: Harness) -> None:
    _, key = bot.command("budget set cursor $100000 month at 80")
    bot.replies(key)
    _, key = bot.command("cursor status")
    assert "Budgets:" in bot.reply_text(key) and "of $100,000.00" in bot.reply_text(key)
    _, key = bot.command("digest preview")
    assert "of $100,000.00" in bot.reply_text(key)
