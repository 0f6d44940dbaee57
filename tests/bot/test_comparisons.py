"""`vs previous`, `vs last cycle`: totals and per-row changes equal the difference of two
independent reports; the biggest movers come first; missing history is said; members see
only what they would see in the reports themselves."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterator
from datetime import date
from decimal import Decimal

import pytest
from sqlalchemy import Engine

from bot.testing.fake_slack import FakeSlack
from bot.usecases.comparisons import comparison_for
from bot.usecases.reports import report_for
from digests.comparison_blocks import comparison_message
from digests.comparison_words import (
    comparison_json,
    comparison_text,
    percent_words,
    signed_dollars,
)
from ledger.comparisons import percent_change, row_changes
from ledger.queries import Row
from ledger.visibility import Viewer
from tests.bot.cli_support import run
from tests.bot.harness import ADMIN, MEMBER, Harness, build_harness


@pytest.fixture
def bot(sqlite_engine: Engine) -> Iterator[Harness]:
    with FakeSlack() as slack:
        harness = build_harness(sqlite_engine, slack, days=40)
        harness.connect_and_sync()
        yield harness
        harness.close()


def _report_cents(bot: Harness, text: str, by: str) -> tuple[Decimal, dict[str, Decimal]]:
    report = report_for(bot.engine, workspace_ref="T1", period_text=text, by=by, now=bot.clock.now)
    return report.totals.cents, {row.key: row.cents for row in report.rows}


@pytest.mark.parametrize(
    ("period", "against", "earlier"),
    [
        ("7d", "previous", None),  # the 7 days before: computed by hand below
        ("14d", "last-cycle", "last-cycle"),
        ("this month", "last month", "last month"),
        ("this month", "previous", "2026-10-01..2026-10-25"),  # today is Nov 25
    ],
)
@pytest.mark.parametrize("by", ["model", "user", "day"])
def test_changes_are_the_difference_of_two_independent_reports(
    bot: Harness, period: str, against: str, earlier: str | None, by: str
) -> None:
    comparison = comparison_for(
        bot.engine, workspace_ref="T1", period_text=period, against=against, by=by,
        now=bot.clock.now,
    )  # fmt: skip
    now_total, now_rows = _report_cents(bot, period, by)
    if earlier is None:  # the 7 days just before the last 7 days, written as a range
        start = comparison.current.period.start
        earlier = (
            f"{date.fromordinal(start.toordinal() - 7)}..{date.fromordinal(start.toordinal() - 1)}"
        )
    before_total, before_rows = _report_cents(bot, earlier, by)
    if by == "day":  # day by day in order: the earlier period's first day against this one's
        shift = comparison.current.period.start - comparison.previous.period.start
        current = comparison.current.period
        before_rows = {
            (str(moved) if current.start <= (moved := date.fromisoformat(k) + shift) <= current.end
             else k): cents
            for k, cents in before_rows.items()
        }  # fmt: skip
        for row in comparison.rows:  # a day of this period names its earlier day, spent or not
            if current.start <= date.fromisoformat(row.key) <= current.end:
                assert date.fromisoformat(row.key) - shift == date.fromisoformat(row.previous_key)
        if against != "last-cycle":  # (its first 14 days are before the history)
            assert any(row.previous_cents and row.cents for row in comparison.rows)
    assert before_total > 0 and now_total > 0
    assert comparison.current.totals.cents == now_total
    assert comparison.previous.totals.cents == before_total
    assert comparison.change_cents == now_total - before_total
    expected = {
        key: now_rows.get(key, Decimal(0)) - before_rows.get(key, Decimal(0))
        for key in now_rows.keys() | before_rows.keys()
    }
    assert {row.key: row.change_cents for row in comparison.rows} == expected
    moves = [abs(row.change_cents) for row in comparison.rows]
    assert moves == sorted(moves, reverse=True)


def test_row_changes_put_the_biggest_movers_first() -> None:
    def row(key: str, cents: int) -> Row:
        return Row(key, Decimal(cents), 1, 0, 0)

    changes = row_changes(
        [row("a", 100), row("b", 500), row("new", 50)],
        [row("a", 400), row("b", 450), row("gone", 80)],
    )
    assert [(c.key, int(c.change_cents)) for c in changes] == [
        ("a", -300), ("gone", -80), ("b", 50), ("new", 50),
    ]  # fmt: skip
    assert percent_change(Decimal(150), Decimal(100)) == Decimal("50.0")
    assert percent_change(Decimal(1), Decimal(0)) is None
    assert percent_words(None, Decimal(0)) == "new"
    assert percent_words(Decimal("-12.5"), Decimal(10)) == "-12.5%"


def test_an_earlier_period_before_the_history_says_so(bot: Harness) -> None:
    comparison = comparison_for(
        bot.engine, workspace_ref="T1", period_text="30d", against="previous", by="model",
        now=bot.clock.now,
    )  # fmt: skip
    payload = comparison_json(comparison)
    assert payload["days_before_history"] > 0
    assert payload["notes"] and "The earlier period" in payload["notes"][0]
    assert "history starts" in payload["notes"][0]
    # the note is about the earlier period: it says "its days", never "this period"
    assert "this period" not in payload["notes"][0] and "of it have no data" in payload["notes"][0]
    text = json.dumps(comparison_message(comparison).blocks)
    assert "is incomplete: history starts" in text
    assert "Note: The earlier period" in comparison_text(comparison)


def test_slack_answers_a_comparison(bot: Harness) -> None:
    _, key = bot.command("cursor 7d vs previous by model")
    reply = bot.replies(key)[0]
    text = reply.all_text()
    assert "last 7 days vs the 7 days before" in text
    assert "Biggest movers by model" in text and "Change" in text
    assert reply.params.get("response_type") == "ephemeral"
    comparison = comparison_for(
        bot.engine, workspace_ref="T1", period_text="7d", against="previous", by="model",
        now=bot.clock.now,
    )  # fmt: skip
    assert signed_dollars(comparison.change_cents) in text


def test_members_compare_only_their_own_row_under_own(bot: Harness) -> None:
    _, key = bot.command("cursor 14d vs previous by user", user=MEMBER)
    text = bot.reply_text(key).lower()
    others = {email.lower() for email in bot.emails} - {bot.emails[1].lower()}
    assert not any(email in text for email in others)
    _, key = bot.command("cursor 14d vs previous by user", user=ADMIN)
    assert any(email.lower() in bot.reply_text(key).lower() for email in others)
    member = Viewer.person(bot.emails[1], is_admin=False, policy=Viewer().policy)
    comparison = comparison_for(
        bot.engine, workspace_ref="T1", period_text="14d", against="previous", by="user",
        now=bot.clock.now, viewer=member,
    )  # fmt: skip
    assert {row.key for row in comparison.rows} <= {bot.emails[1].lower()}


def test_the_cli_compares_with_the_same_fields(synced: dict[str, str]) -> None:
    now = "2026-11-28T12:00:00+00:00"
    args = ("report", "cursor", "-w", "T1", "-p", "7d", "-b", "model", "--now", now)
    code, out, err = run(synced, *args, "--vs", "previous", "-f", "json")
    assert code == 0, err
    payload = json.loads(out)
    comparison = payload["comparison"]
    assert (comparison["start"], comparison["end"]) == ("2026-11-15", "2026-11-21")
    code, out, _ = run(
        synced, "report", "cursor", "-w", "T1", "-p", "2026-11-15..2026-11-21", "-b", "model",
        "--now", now, "-f", "json",
    )  # fmt: skip
    before = json.loads(out)
    assert comparison["total_cents"] == before["total_cents"]
    assert abs(comparison["change_cents"] - (payload["total_cents"] - before["total_cents"])) < 1e-6
    code, out, _ = run(synced, *args, "--vs", "last cycle")
    assert code == 0 and "vs last billing cycle" in out and "Biggest movers by model" in out


def test_csv_sends_every_compared_row(bot: Harness) -> None:
    before = set(bot.slack.uploads)
    _, key = bot.command("cursor 7d vs previous by model csv")
    bot.replies(key, count=2)
    (new,) = set(bot.slack.uploads) - before
    rows = list(csv.reader(io.StringIO(bot.slack.uploads[new].decode())))
    assert rows[0] == ["model", "previous_dollars", "dollars", "change_dollars", "change_pct"]
    comparison = comparison_for(
        bot.engine, workspace_ref="T1", period_text="7d", against="previous", by="model",
        now=bot.clock.now,
    )  # fmt: skip
    assert [row[0] for row in rows[1:]] == [change.key for change in comparison.rows]
    total_change = sum(Decimal(row[3]) for row in rows[1:])
    assert abs(total_change - comparison.change_cents / 100) < Decimal("0.01") * len(rows)


@pytest.mark.parametrize(
    "period", ["since 0001-01-02", "0001-01-01..0001-01-05", "0001-01", "0001-q1", "jan 0001"]
)
def test_a_period_with_nothing_before_it_says_so_when_compared(bot: Harness, period: str) -> None:
    _, key = bot.command(f"cursor {period} vs previous")
    text = bot.reply_text(key)
    assert "nothing before" in text and "compare" in text
    assert "Sorry" not in text


def test_a_comparison_with_the_calendar_s_last_day_answers(bot: Harness) -> None:
    _, key = bot.command("cursor 7d vs 9999-12-31")
    text = bot.reply_text(key)
    assert "went wrong" not in text
    assert "vs 9999-12-31" in text
