"""Fresh on demand: `/spend … today` on data more than an hour old syncs the last hours
first (light, under the lease, at most one poll an hour), never delaying the ack; a slow
sync gets the answer on the data there is, marked, then one replace of that reply."""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta

import pytest
from sqlmodel import col, select

from bot.slack.listeners import fresh_replies
from bot.usecases.refresh import is_stale
from connectors.cursor.endpoints import USAGE_EVENTS
from connectors.cursor.windows import settled_end
from digests.format import dollars
from ledger.db import session_scope
from ledger.lease import LEASES, wall_clock
from ledger.models import SyncKind, SyncRun, SyncTrigger
from tests.bot.harness import Harness

#: Slack wants the acknowledgement within three seconds; ours is far inside that.
ACK_BOUND_SECONDS = 1.0


def question_runs(bot: Harness) -> list[SyncRun]:
    with session_scope(bot.engine) as session:
        return list(
            session.exec(
                select(SyncRun)
                .where(SyncRun.trigger == SyncTrigger.QUESTION)
                .order_by(col(SyncRun.started_at))
            ).all()
        )


def today_total(bot: Harness) -> str:
    now = bot.clock.now
    start = now.replace(hour=0, minute=0, second=0, microsecond=0)
    cents = bot.sim.charged_cents(start, settled_end(now)).get("total")
    assert cents is not None
    return dollars(cents)


def timed_command(bot: Harness, text: str) -> tuple[float, str]:
    started = time.monotonic()
    response, key = bot.command(text)
    elapsed = time.monotonic() - started
    assert response.status == 200
    return elapsed, key


def test_staleness_is_the_newest_synced_hour_against_the_clock() -> None:
    end = datetime(2026, 11, 25, 13, 59, 59, 999000, tzinfo=UTC)
    assert not is_stale(end, datetime(2026, 11, 25, 15, 0, tzinfo=UTC))
    assert is_stale(end, datetime(2026, 11, 25, 15, 0, 1, tzinfo=UTC))


def test_a_stale_question_about_today_is_answered_on_fresh_data(bot: Harness) -> None:
    bot.connect_and_sync()  # 14:30: data to 14:00
    bot.clock.now += timedelta(hours=2)  # 16:30, no sync since: two hours and a half old
    elapsed, key = timed_command(bot, "cursor today")
    assert elapsed < ACK_BOUND_SECONDS
    text = bot.reply_text(key)
    assert "Data as of 16:00 (UTC)" in text
    assert today_total(bot) in text
    runs = question_runs(bot)
    assert [(r.kind, r.started_at) for r in runs] == [(SyncKind.LIGHT, bot.clock.now)]
    assert runs[0].cursor_requests >= 1
    time.sleep(0.2)
    assert len(bot.replies(key)) == 1  # one answer, no second message


def test_a_slow_sync_answers_on_the_data_there_is_then_replaces_that_reply(
    bot: Harness, monkeypatch: pytest.MonkeyPatch
) -> None:
    bot.connect_and_sync()
    bot.clock.now += timedelta(hours=2)
    monkeypatch.setattr(fresh_replies, "FRESH_WAIT_SECONDS", 0.2)
    bot.sim.faults.delay_seconds = 1.0  # Cursor takes a second a request
    elapsed, key = timed_command(bot, "cursor today by model")
    assert elapsed < ACK_BOUND_SECONDS  # the ack never waits for the sync
    first, update = bot.replies(key, count=2, timeout=30)
    assert "Data as of 14:00 (UTC)" in first.all_text()
    assert "being fetched from Cursor" in first.all_text()
    assert first.params.get("replace_original") in (None, False)
    assert update.params.get("replace_original") is True
    assert "Data as of 16:00 (UTC)" in update.all_text()
    assert "being fetched" not in update.all_text()
    assert today_total(bot) in update.all_text()
    time.sleep(0.3)
    assert len(bot.replies(key)) == 2  # the update replaced the reply; nothing else
    assert bot.slack.calls_to("chat.postMessage") == []
    assert bot.slack.calls_to("chat.update") == []


def test_no_sync_when_fresh_not_about_today_or_polled_within_the_hour(bot: Harness) -> None:
    bot.connect_and_sync()  # 14:30
    bot.clock.now += timedelta(minutes=50)  # 15:20: data 1h20 old, but polled 50 min ago
    _, key = timed_command(bot, "cursor today")
    assert "Data as of 14:00 (UTC)" in bot.reply_text(key)
    bot.clock.now += timedelta(hours=2)  # 17:20: stale, yet yesterday's figures are final
    _, key = timed_command(bot, "cursor yesterday")
    assert "being fetched" not in bot.reply_text(key)
    assert question_runs(bot) == []
    before = sum(1 for _, path, _ in bot.sim.calls if path == USAGE_EVENTS)
    _, key = timed_command(bot, "cursor week")  # includes today: synced
    assert "Data as of 17:00 (UTC)" in bot.reply_text(key)
    assert len(question_runs(bot)) == 1
    assert sum(1 for _, path, _ in bot.sim.calls if path == USAGE_EVENTS) == before + 1
    _, key = timed_command(bot, "cursor today")  # a minute later: fresh, no second poll
    bot.reply_text(key)
    assert len(question_runs(bot)) == 1


def test_two_questions_at_once_share_one_sync(
    bot: Harness, monkeypatch: pytest.MonkeyPatch
) -> None:
    bot.connect_and_sync()
    bot.clock.now += timedelta(hours=3)
    monkeypatch.setattr(fresh_replies, "FRESH_WAIT_SECONDS", 5.0)
    bot.sim.faults.delay_seconds = 0.5
    _, first = timed_command(bot, "cursor today")
    _, second = timed_command(bot, "me today")
    for key in (first, second):
        assert "Data as of 17:00 (UTC)" in bot.reply_text(key)
    assert len(question_runs(bot)) == 1


def test_a_question_while_another_replica_syncs_waits_for_it_instead_of_polling_again(
    bot: Harness, monkeypatch: pytest.MonkeyPatch
) -> None:
    bot.connect_and_sync()
    bot.clock.now += timedelta(hours=2)
    monkeypatch.setattr(fresh_replies, "FRESH_WAIT_SECONDS", 0.2)
    with session_scope(bot.engine) as session:
        session.execute(
            LEASES.insert().values(
                connection_id=1,
                owner="replica-2:77:abc/1",
                trigger="schedule",
                acquired_at=bot.clock.now,
                expires_at=wall_clock() + timedelta(minutes=5),
            )
        )
    _, key = timed_command(bot, "cursor today")
    first = bot.replies(key)[0]
    assert "being fetched from Cursor" in first.all_text()
    time.sleep(0.5)
    assert len(bot.replies(key)) == 1  # still waiting for the other replica's sync
    with session_scope(bot.engine) as session:
        session.execute(LEASES.delete())
    _, update = bot.replies(key, count=2, timeout=10)
    assert update.params.get("replace_original") is True
    assert "being fetched" not in update.all_text()
    assert question_runs(bot) == []  # Cursor was not polled a second time
