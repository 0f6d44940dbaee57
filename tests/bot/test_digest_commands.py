"""`/spend digest …` end to end: schedules by command, previews, and a posted digest."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime

import pytest
from slack_sdk.models.blocks import Block
from sqlalchemy import Engine, select

from bot.testing.fake_slack import FakeSlack
from bot.usecases.reports import report_for
from digests.format import dollars
from ledger.db import session_scope
from ledger.models import DigestSchedule
from tests.bot.harness import ADMIN, MEMBER, Harness, build_harness


class RecordingJobs:
    """A scheduler stand-in that records each reconcile."""

    running = True

    def __init__(self, changes: list[str]) -> None:
        self.changes = changes

    def reconcile(self) -> None:
        self.changes.append("rebuilt")

    def next_sync_at(self, connection_id: int) -> datetime | None:
        return None


@pytest.fixture
def bot(sqlite_engine: Engine) -> Iterator[Harness]:
    with FakeSlack() as slack:
        harness = build_harness(sqlite_engine, slack)
        harness.connect_and_sync()
        slack.add_channel("CDIGEST", "eng-spend")
        slack.add_channel("COUT", "not-joined", is_member=False)
        changes: list[str] = []
        harness.services.jobs = RecordingJobs(changes)
        harness.changes = changes  # type: ignore[attr-defined]
        yield harness
        harness.close()


def schedules(bot: Harness) -> list[DigestSchedule]:
    with session_scope(bot.engine) as session:
        return list(session.execute(select(DigestSchedule)).scalars().all())


def test_an_admin_adds_lists_and_removes_a_digest(bot: Harness) -> None:
    _, key = bot.command("digest add <#CDIGEST|eng-spend> 09:00 weekdays")
    assert "Digest 1: <#CDIGEST> at 09:00 UTC, weekdays" in bot.reply_text(key)
    (stored,) = schedules(bot)
    assert (stored.channel_id, stored.cadence, stored.created_by) == ("CDIGEST", "weekdays", ADMIN)
    assert bot.changes == ["rebuilt"]  # type: ignore[attr-defined]
    _, key = bot.command("digest list", user=MEMBER)
    assert "<#CDIGEST> at 09:00 UTC, weekdays" in bot.reply_text(key)
    _, key = bot.command("digest remove 1")
    assert "removed" in bot.reply_text(key)
    assert schedules(bot) == []


def test_the_bot_says_how_to_invite_it_when_it_is_not_in_the_channel(bot: Harness) -> None:
    _, key = bot.command("digest add <#COUT|not-joined> 09:00")
    assert "/invite @StackSpend" in bot.reply_text(key)
    assert schedules(bot) == []


def test_members_cannot_change_digests(bot: Harness) -> None:
    _, key = bot.command("digest add <#CDIGEST|eng-spend> 09:00", user=MEMBER)
    assert "Only workspace admins" in bot.reply_text(key)


def test_preview_is_ephemeral_and_valid_block_kit(bot: Harness) -> None:
    _, key = bot.command("digest preview")
    (reply,) = bot.replies(key)
    assert reply.params["response_type"] == "ephemeral"
    assert "Preview" in reply.all_text()
    for block in Block.parse_all(reply.blocks):
        assert block is not None
        block.validate_json()


def test_send_posts_one_digest_with_the_expected_totals_and_the_chart(bot: Harness) -> None:
    _, added = bot.command("digest add <#CDIGEST|eng-spend> 09:00")
    bot.replies(added)
    _, key = bot.command("digest send 1")
    assert "posted to <#CDIGEST>" in bot.reply_text(key)
    posted = [c for c in bot.slack.calls_to("chat.postMessage") if c.params["channel"] == "CDIGEST"]
    assert len(posted) == 1
    yesterday = report_for(
        bot.engine, workspace_ref="T1", period_text="yesterday", by="user", now=bot.clock.now
    )
    cycle = report_for(
        bot.engine, workspace_ref="T1", period_text="cycle", by="user", now=bot.clock.now
    )
    text = posted[0].all_text()
    assert dollars(yesterday.totals.cents) in text
    assert len(posted[0].blocks) <= 50
    for block in Block.parse_all(posted[0].blocks):
        assert block is not None
        block.validate_json()
    complete = bot.slack.wait_for("files.completeUploadExternal")[0]
    assert complete.params["channel_id"] == "CDIGEST"
    (png,) = bot.slack.uploads.values()
    assert png.startswith(b"\x89PNG")
    assert cycle.totals.cents > 0
    assert posted[0].json("metadata")["event_payload"]["key"].startswith("digest-now:1:")
