"""The personal line's words: every figure shown, nothing from the data able to mention
or link, and the period named the person's way."""

from __future__ import annotations

from dataclasses import replace
from datetime import date
from decimal import Decimal

from digests.personal_words import render_line
from ledger.budget_status import BudgetStatus
from ledger.models import Budget
from ledger.personal_figures import Cell, compose
from ledger.personal_models import LineCadence

DAY = date(2026, 11, 24)


def test_a_daily_line_names_the_day_the_average_the_models_and_the_hint() -> None:
    cells = [
        Cell(DAY, "<!channel> opus", Decimal(4500), 300_000),
        Cell(DAY, "mini", Decimal(500), 2_000_000),
        Cell(date(2026, 11, 20), "opus", Decimal(2800), 10_000),
    ]
    message = render_line(compose(cells, LineCadence.DAILY, DAY, DAY))
    (body,) = (block["text"]["text"] for block in message.blocks[:1])
    assert message.text == "Your Cursor spend yesterday (Tue Nov 24): $50.00"
    assert (
        "*Your Cursor spend yesterday (Tue Nov 24):* $50.00  ·  "
        "▲ 1150% vs your 7-day average ($4.00/day)" in body
    )
    assert "*Tokens:* 2.3M" in body
    assert (
        "&lt;!channel&gt; opus 90% ($45.00, 300.0k tokens)  ·  mini 10% ($5.00, 2.0M tokens)"
        in body
    )
    assert "<!channel>" not in body
    assert ":bulb: 90% of it went to &lt;!channel&gt; opus at $150.00 per 1M tokens; mini" in body
    assert "$2.50 per 1M tokens (60× less)" in body
    assert "`/spend me off` stops it" in message.blocks[1]["elements"][0]["text"]


def test_a_weekly_line_with_a_budget_and_no_history() -> None:
    budget = Budget(workspace_id=1, subject_email="a@x.test", amount_cents=20_000)
    status = BudgetStatus(
        budget=budget,
        period_start=date(2026, 11, 1),
        period_end=date(2026, 11, 30),
        spent_cents=Decimal(15_000),
        percent=Decimal(75),
        projected_day=date(2026, 11, 28),
    )
    figures = compose(
        [Cell(date(2026, 11, 18), "m", Decimal(1234), 5)],
        LineCadence.WEEKLY,
        date(2026, 11, 16),
        date(2026, 11, 22),
        status,
    )
    body = render_line(figures).blocks[0]["text"]["text"]
    assert "*Your Cursor spend last week (Nov 16 to Nov 22):* $12.34" in body
    assert "nothing spent in the 4 weeks before" in body
    assert "*Your budget:* $150.00 of $200.00 (75%), Nov 1 to Nov 30" in body
    assert "on course to reach it by Nov 28" in body
    assert ":bulb:" not in body
    quiet = render_line(replace(figures, cents=Decimal(0), models=(), budget=None))
    assert "*Models:*" not in quiet.blocks[0]["text"]["text"]


def test_a_first_line_says_there_is_no_history_to_compare_with() -> None:
    figures = compose(
        [Cell(DAY, "m", Decimal(100), 5)], LineCadence.DAILY, DAY, DAY, known_from=DAY
    )
    assert (
        "no earlier history to compare with yet" in render_line(figures).blocks[0]["text"]["text"]
    )
