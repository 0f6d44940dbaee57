"""Charts on demand: one PNG uploaded through files.getUploadURLExternal and
files.completeUploadExternal, to the asker's DM (or the channel with `public`), with alt text
that carries the total; privacy holds as for the text reply; the CLI writes the same PNG."""

from __future__ import annotations

import io
import json
import re
from collections.abc import Iterator
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path

import pytest
from PIL import Image
from sqlalchemy import Engine

from bot.testing.fake_slack import Call, FakeSlack
from bot.usecases.charts import chart_for
from bot.usecases.reports import report_for
from digests.chart import OTHER, render_stacked
from digests.format import dollars
from digests.period_chart import CHART_SERIES, period_drawing
from ledger.accounts import find_workspace
from ledger.chart_data import daily_cents
from ledger.db import session_scope
from ledger.errors import InvalidValue
from ledger.periods import Cycle, Period
from ledger.queries import Breakdown, Report, Totals, scope_for
from tests.bot.cli_support import run
from tests.bot.harness import ADMIN, MEMBER, Harness, build_harness

EMAIL = re.compile(r"[A-Za-z0-9._%+'-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,}")


@pytest.fixture
def bot(sqlite_engine: Engine) -> Iterator[Harness]:
    with FakeSlack() as slack:
        harness = build_harness(sqlite_engine, slack, days=40)
        harness.connect_and_sync()
        yield harness
        harness.close()


def _chart_upload(bot: Harness, text: str, user: str = ADMIN, replies: int = 2) -> Call:
    """Run ``text``; the one files.getUploadURLExternal call it made (and the PNG checked)."""
    before = len(bot.slack.calls_to("files.getUploadURLExternal"))
    uploads = set(bot.slack.uploads)
    _, key = bot.command(text, user=user)
    bot.replies(key, count=replies)
    asked = bot.slack.wait_for("files.completeUploadExternal", count=before + 1)
    assert len(asked) == before + 1
    (new,) = set(bot.slack.uploads) - uploads
    assert bot.slack.uploads[new].startswith(b"\x89PNG\r\n\x1a\n")
    calls = bot.slack.calls_to("files.getUploadURLExternal")
    assert len(calls) == before + 1
    return calls[-1]


def _report(bot: Harness, period: str, by: str) -> Report:
    return report_for(bot.engine, workspace_ref="T1", period_text=period, by=by, now=bot.clock.now)


def test_a_chart_goes_to_the_asker_s_dm_with_the_total_in_its_alt_text(bot: Harness) -> None:
    upload = _chart_upload(bot, "cursor 30d chart by model")
    alt = upload.params["alt_txt"]
    total = _report(bot, "30d", "model").totals.cents
    assert total > 0 and f"{dollars(total)} in all" in alt
    assert "Daily Cursor spend by model, last 30 days" in alt
    complete = bot.slack.last("files.completeUploadExternal")
    assert complete.params.get("channel_id") != "C1"  # the DM conversations.open gave
    assert bot.slack.calls_to("conversations.open")
    texts = [call.all_text() for call in bot.slack.calls_to("response_url")]
    assert any("sent you the chart in a direct message" in text for text in texts)


def test_public_posts_the_chart_to_the_channel(bot: Harness) -> None:
    _chart_upload(bot, "cursor last week chart by day public", replies=1)
    complete = bot.slack.last("files.completeUploadExternal")
    assert complete.params.get("channel_id") == "C1"


def test_members_see_only_themselves_in_a_chart_by_user(bot: Harness) -> None:
    upload = _chart_upload(bot, "cursor 30d chart by user", user=MEMBER)
    alt = upload.params["alt_txt"]
    member = bot.emails[1].lower()
    assert emails_in(alt) <= {member}
    assert f"{OTHER} $" in alt
    total = _report(bot, "30d", "user").totals.cents
    assert f"{dollars(total)} in all" in alt  # team totals are for everyone
    admin_alt = _chart_upload(bot, "cursor 30d chart by user").params["alt_txt"]
    assert len(emails_in(admin_alt)) >= 2


def test_a_chart_of_someone_else_is_refused_like_the_text(bot: Harness) -> None:
    before = len(bot.slack.calls_to("files.getUploadURLExternal"))
    _, key = bot.command(f"cursor 30d chart <@{ADMIN}>", user=MEMBER)
    assert "own spend and team totals" in bot.reply_text(key)
    assert len(bot.slack.calls_to("files.getUploadURLExternal")) == before


def emails_in(text: str) -> set[str]:
    return {found.lower() for found in EMAIL.findall(text)}


def test_the_chart_is_drawn_at_slack_s_size_and_sums_to_the_report(bot: Harness) -> None:
    report, chart = chart_for(
        bot.engine, workspace_ref="T1", period_text="since 2026-11-01", by="model",
        now=bot.clock.now,
    )  # fmt: skip
    image = Image.open(io.BytesIO(chart.png))
    assert image.size == (1200, 700)
    assert f"{dollars(report.totals.cents)} in all" in chart.alt_text
    assert chart.filename == f"cursor-{report.period.start}-{report.period.end}-by-model.png"


def _year_of_models() -> tuple[Report, list[tuple[date, str, Decimal]]]:
    start = date(2025, 11, 29)
    period = Period(start, start + timedelta(days=364), "last 365 days")
    daily = [
        (start + timedelta(days=d), f"model-{m:02d}", Decimal(100 + d + m * 7))
        for d in range(365)
        for m in range(20)
    ]
    total = sum((cents for _, _, cents in daily), Decimal(0))
    report = Report(
        provider="cursor", workspace="T1", timezone="UTC", period=period, by=Breakdown.MODEL,
        user=None, as_of=None, history_start=None, cycle=Cycle(start, start),
        totals=Totals(cents=total), rows=[],
    )  # fmt: skip
    return report, daily


def test_a_year_of_twenty_models_keeps_five_series_and_other() -> None:
    report, daily = _year_of_models()
    drawing = period_drawing(report, daily)
    assert len(drawing.days) == 365
    assert [key for key, _ in drawing.series][-1] == OTHER
    assert len(drawing.series) == CHART_SERIES + 1
    drawn = sum((sum(cents, Decimal(0)) for _, cents in drawing.series), Decimal(0))
    assert drawn == report.totals.cents
    assert f"{dollars(report.totals.cents)} in all" in drawing.description
    assert len(drawing.description) <= 1000
    png = render_stacked(drawing, width_px=600, height_px=350)
    assert Image.open(io.BytesIO(png)).size == (600, 350)


def test_the_cli_writes_the_chart_and_the_json_notes_it(
    synced: dict[str, str], tmp_path: Path
) -> None:
    path = tmp_path / "spend.png"
    code, out, err = run(
        synced, "report", "cursor", "-w", "T1", "-p", "last 2 weeks", "-b", "model",
        "--chart", str(path), "-f", "json",
    )  # fmt: skip
    assert code == 0, err
    payload = json.loads(out)
    assert path.read_bytes().startswith(b"\x89PNG")
    assert payload["chart"]["path"] == str(path)
    total = Decimal(str(payload["total_cents"]))
    assert f"{dollars(total)} in all" in payload["chart"]["alt_text"]
    code, out, err = run(
        synced, "report", "cursor", "-w", "T1", "--chart", str(tmp_path / "no" / "x.png")
    )
    assert code == 1 and "--chart: cannot write" in err


def test_a_chart_that_cannot_be_posted_says_why(bot: Harness) -> None:
    bot.slack.fail_next("files.completeUploadExternal", error="not_in_channel")
    _, key = bot.command("cursor 7d chart public")
    texts = [call.all_text() for call in bot.replies(key, count=2)]
    assert any("could not send the chart (not_in_channel)" in text for text in texts)
    assert any("Invite me to this channel" in text for text in texts)


def test_a_breakdown_a_chart_cannot_stack_by_is_refused(bot: Harness) -> None:
    report = _report(bot, "7d", "model")
    with session_scope(bot.engine) as session:
        scope = scope_for(session, find_workspace(session, "T1"))
        with pytest.raises(InvalidValue):
            daily_cents(session, scope, report.period, "colour")
        assert {key for _, key, _ in daily_cents(session, scope, report.period, "day")} == {"total"}


@pytest.mark.parametrize("period", ["since 0001-01-01", "2020-01-01..2026-11-25"])
def test_a_chart_of_more_than_two_years_is_refused_before_it_is_drawn(
    bot: Harness, period: str
) -> None:
    _, key = bot.command(f"cursor {period} chart by model")
    text = bot.reply_text(key)
    assert "A chart covers at most 731 days" in text
    assert not bot.slack.calls_to("files.getUploadURLExternal")
    _, key = bot.command(f"cursor {period} by model")  # the text answer is not limited
    assert "Cursor spend" in bot.reply_text(key)
