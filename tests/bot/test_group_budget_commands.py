"""`/spend budget set group "X" …` through the Bolt app: set, listed, alerts sent once."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from sqlalchemy import Engine, select

from bot.testing.fake_slack import FakeSlack
from connectors.cursor.sim_team import DEMO_API_KEY
from ledger.db import session_scope
from ledger.models import Alert
from tests.bot.harness import MEMBER, Harness, build_harness


@pytest.fixture
def group_bot(sqlite_engine: Engine, slack: FakeSlack) -> Iterator[Harness]:
    harness = build_harness(
        sqlite_engine, slack, groups=3, days=40, seed=5, users=12, removed_fraction=0.0
    )
    harness.connect_and_sync()
    slack.add_channel("CPLAT", "platform")
    yield harness
    harness.close()


def posts_to(bot: Harness, channel: str) -> list[object]:
    return [c for c in bot.slack.calls_to("chat.postMessage") if c.params["channel"] == channel]


def test_a_group_budget_alerts_its_people_and_channel_once_with_buttons(
    group_bot: Harness,
) -> None:
    name = group_bot.sim.groups.live()[0].name
    _, key = group_bot.command(
        f'budget set group "{name}" $1 cycle at 50,100 notify <#CPLAT|platform> <@{MEMBER}>'
    )
    text = group_bot.reply_text(key)
    assert f'group "{name}"' in text and "Budget set" in text
    group_bot.slack.wait_for("chat.postMessage")
    with session_scope(group_bot.engine) as session:
        alerts = [a for a in session.execute(select(Alert)).scalars() if a.kind == "threshold"]
    assert sorted(a.threshold or 0 for a in alerts) == [50, 100]
    assert all(a.subject == f"group:{name}" for a in alerts)
    dms = posts_to(group_bot, "D" + MEMBER)
    channel = posts_to(group_bot, "CPLAT")
    assert dms and channel
    assert any("Acknowledge" in c.all_text() for c in dms)  # type: ignore[attr-defined]
    assert f'"{name}" group reached' in dms[0].all_text()  # type: ignore[attr-defined]

    sent = len(group_bot.slack.calls_to("chat.postMessage"))
    group_bot.services.evaluate_alerts(alerts[0].workspace_id)
    assert len(group_bot.slack.calls_to("chat.postMessage")) == sent

    _, key = group_bot.command("budget list")
    assert f'group "{name}"' in group_bot.reply_text(key)


def test_members_cannot_set_a_group_budget(group_bot: Harness) -> None:
    name = group_bot.sim.groups.live()[0].name
    _, key = group_bot.command(f'budget set group "{name}" $100', user=MEMBER)
    assert "admin" in group_bot.reply_text(key).lower()
    with session_scope(group_bot.engine) as session:
        assert session.execute(select(Alert)).first() is None


def test_a_group_budget_is_refused_off_enterprise_and_for_an_unknown_group(
    sqlite_engine: Engine, slack: FakeSlack
) -> None:
    bot = build_harness(sqlite_engine, slack, groups=2)
    try:
        bot.sim.add_key(DEMO_API_KEY, "non-enterprise")
        bot.connect_and_sync()
        _, key = bot.command('budget set group "Platform" $100')
        assert "Enterprise" in bot.reply_text(key)
        _, key = bot.command("budget set cursor $100")
        assert "Budget set" in bot.reply_text(key)
    finally:
        bot.close()


def test_an_unknown_group_budget_names_the_groups(group_bot: Harness) -> None:
    _, key = group_bot.command('budget set group "Nope" $100')
    text = group_bot.reply_text(key)
    assert 'no billing group named "Nope"' in text
    _, key = group_bot.command("budget list")
    assert "No budgets yet" in group_bot.reply_text(key)  # nothing was stored
