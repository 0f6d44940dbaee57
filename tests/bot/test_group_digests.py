"""`/spend digest add #platform 09:00 group "Platform"`: that group's own digest."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from slack_sdk.models.blocks import Block
from sqlalchemy import Engine

from bot.testing.fake_slack import Call, FakeSlack
from bot.usecases.reports import report_for
from connectors.cursor.sim_team import DEMO_API_KEY
from digests.format import dollars
from tests.bot.harness import MEMBER, Harness, build_harness


@pytest.fixture
def group_bot(sqlite_engine: Engine, slack: FakeSlack) -> Iterator[Harness]:
    harness = build_harness(
        sqlite_engine, slack, groups=3, days=40, seed=5, users=12, removed_fraction=0.0
    )
    harness.connect_and_sync()
    slack.add_channel("CPLAT", "platform")
    _, key = harness.command("settings visibility all")  # the digest may list people
    harness.replies(key)
    yield harness
    harness.close()


def posted(bot: Harness, channel: str) -> list[Call]:
    return [c for c in bot.slack.calls_to("chat.postMessage") if c.params["channel"] == channel]


def members_of(bot: Harness, name: str) -> set[str]:
    group_id = bot.sim.groups.by_name(name).id
    return {
        bot.sim.team.members[s.member].email
        for s in bot.sim.groups.memberships
        if s.group_id == group_id
    }


def test_a_group_digest_shows_only_its_people_its_spend_and_its_budget(
    group_bot: Harness,
) -> None:
    name = group_bot.sim.groups.live()[0].name
    other = group_bot.sim.groups.live()[1].name
    for text in (f'budget set group "{name}" $900', f'budget set group "{other}" $700'):
        _, key = group_bot.command(text)
        group_bot.replies(key)
    _, key = group_bot.command(f'digest add <#CPLAT|platform> 09:00 group "{name}"')
    assert f'of group "{name}"' in group_bot.reply_text(key)
    _, key = group_bot.command("digest list")
    assert f'group "{name}"' in group_bot.reply_text(key)

    _, key = group_bot.command("digest send 1")
    assert "posted to <#CPLAT>" in group_bot.reply_text(key)
    (message,) = posted(group_bot, "CPLAT")
    text = message.all_text()
    mine = members_of(group_bot, name)
    everyone = {m.email for m in group_bot.sim.team.members}
    assert any(email in text for email in mine)
    assert not any(email in text for email in everyone - mine)
    assert f'group "{name}"' in text
    cycle = report_for(
        group_bot.engine, workspace_ref="T1", period_text="2026-11-01..2026-11-24",
        by="user", now=group_bot.clock.now, group=name,
    )  # fmt: skip
    assert dollars(cycle.totals.cents) in text  # the group's cycle to yesterday
    assert "$900.00" in text and "$700.00" not in text  # its budget, not another group's
    for block in Block.parse_all(message.blocks):
        assert block is not None
        block.validate_json()


def test_members_cannot_add_a_group_digest(group_bot: Harness) -> None:
    name = group_bot.sim.groups.live()[0].name
    _, key = group_bot.command(f'digest add <#CPLAT|platform> 09:00 group "{name}"', user=MEMBER)
    assert "Only workspace admins" in group_bot.reply_text(key)


def test_a_group_and_the_team_may_share_a_channel_and_time(group_bot: Harness) -> None:
    name = group_bot.sim.groups.live()[0].name
    _, key = group_bot.command("digest add <#CPLAT|platform> 09:00")
    assert "Digest 1" in group_bot.reply_text(key)
    _, key = group_bot.command(f'digest add <#CPLAT|platform> 09:00 group "{name}"')
    assert "Digest 2" in group_bot.reply_text(key)
    _, key = group_bot.command(f'digest add <#CPLAT|platform> 09:00 group "{name}"')
    assert "exists already" in group_bot.reply_text(key)


def test_a_group_digest_is_refused_off_enterprise(sqlite_engine: Engine, slack: FakeSlack) -> None:
    bot = build_harness(sqlite_engine, slack, groups=2)
    try:
        bot.sim.add_key(DEMO_API_KEY, "non-enterprise")
        bot.connect_and_sync()
        slack.add_channel("CPLAT", "platform")
        _, key = bot.command('digest add <#CPLAT|platform> 09:00 group "Platform"')
        assert "Enterprise" in bot.reply_text(key)
        _, key = bot.command("digest add <#CPLAT|platform> 09:00")
        assert "Digest 1" in bot.reply_text(key)
    finally:
        bot.close()
