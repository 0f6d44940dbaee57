"""Period words resolve to the right inclusive local days."""

from __future__ import annotations

from datetime import date

import pytest

from digests.errors import period_text
from ledger.errors import PeriodError
from ledger.periods import Cycle, calendar_cycle, month_before, parse_period

TODAY = date(2026, 11, 25)  # a Wednesday
CYCLE = Cycle(start=date(2026, 11, 12), previous_start=date(2026, 10, 12))


@pytest.mark.parametrize(
    ("text", "start", "end"),
    [
        ("today", TODAY, TODAY),
        ("yesterday", date(2026, 11, 24), date(2026, 11, 24)),
        ("7d", date(2026, 11, 19), TODAY),
        ("30d", date(2026, 10, 27), TODAY),
        ("1d", TODAY, TODAY),
        ("week", date(2026, 11, 23), TODAY),
        ("month", date(2026, 11, 1), TODAY),
        ("cycle", date(2026, 11, 12), TODAY),
        ("", date(2026, 11, 12), TODAY),
        ("last-cycle", date(2026, 10, 12), date(2026, 11, 11)),
        ("2026-10-03", date(2026, 10, 3), date(2026, 10, 3)),
        ("2026-10-30..2026-11-02", date(2026, 10, 30), date(2026, 11, 2)),
        ("  CYCLE ", date(2026, 11, 12), TODAY),
    ],
)
def test_period_words(text: str, start: date, end: date) -> None:
    period = parse_period(text, today=TODAY, cycle=CYCLE)
    assert (period.start, period.end) == (start, end)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("2026-11-05..2026-11-01", "ends before it starts: write it as 2026-11-01..2026-11-05"),
        ("0d", "out of range"),
        ("999d", "out of range"),
        ("fortnight", "Unknown period 'fortnight'"),
        ("2026-02-30", "is not a date"),
        ("2026-01-01..soon", "is not a date"),
    ],
)
def test_bad_periods_say_what_to_type(text: str, message: str) -> None:
    with pytest.raises(PeriodError) as refused:
        parse_period(text, today=TODAY, cycle=CYCLE)
    assert message in period_text(refused.value)


def test_without_a_known_cycle_calendar_months_stand_in() -> None:
    cycle = calendar_cycle(TODAY)
    assert cycle.assumed
    assert parse_period("last-cycle", today=TODAY, cycle=cycle).start == date(2026, 10, 1)


@pytest.mark.parametrize(
    ("day", "before"),
    [
        (date(2026, 3, 31), date(2026, 2, 28)),
        (date(2026, 1, 15), date(2025, 12, 15)),
        (date(2024, 3, 30), date(2024, 2, 29)),
    ],
)
def test_month_before_clamps_to_the_month_end(day: date, before: date) -> None:
    assert month_before(day) == before
