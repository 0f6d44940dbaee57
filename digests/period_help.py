"""`/spend help periods`: every period form, with the dates it means today filled in."""

from __future__ import annotations

from datetime import date

from ledger.calendar_math import MONTHS, add_months, quarter_of
from ledger.errors import PeriodError
from ledger.period_spans import previous_period
from ledger.periods import Cycle, Period, parse_period

_FIXED = (
    ("today", "yesterday", "7d", "30d"),
    ("this week", "last week", "since monday"),
    ("this month", "mtd", "last month"),
    ("this cycle", "last cycle"),
    ("this quarter", "qtd", "last quarter"),
    ("this year", "ytd"),
    ("last 14 days", "last 4 weeks", "last 3 months"),
)


def _day(day: date, year: int) -> str:
    """``Mon Nov 23``, with the year when it is not ``year``."""
    return f"{day:%a} {day:%b} {day.day}" + (f" {day.year}" if day.year != year else "")


def _span(period: Period, year: int) -> str:
    if period.start == period.end:
        return _day(period.start, year)
    return f"{_day(period.start, year)} to {_day(period.end, year)}"


def _examples(today: date) -> tuple[tuple[str, ...], ...]:
    """Forms whose example depends on today: last month's name, a quarter, dates."""
    month = add_months(today.replace(day=1), -1)
    name = MONTHS[month.month - 1]
    quarter = quarter_of(add_months(today.replace(day=1), -3))
    year = today.year if quarter < quarter_of(today) else today.year - 1
    first = today.replace(day=1).isoformat()
    return (
        (name, f"{name[:3]} {month.year}", f"{month.year}-{month.month:02d}"),
        (f"q{quarter}", f"{year}-q{quarter}"),
        (f"since {first}", first, f"{month.isoformat()}..{first}"),
    )


def _line(forms: tuple[str, ...], today: date, cycle: Cycle) -> str:
    parts = []
    for form in forms:
        try:
            period = parse_period(form, today=today, cycle=cycle)
            parts.append(f"`{form}` {_span(period, today.year)}")
        except PeriodError:  # pragma: no cover - every example is a valid period
            continue
    return "• " + " · ".join(parts)


def periods_help(today: date, cycle: Cycle, timezone: str) -> str:
    """The help text, as of ``today`` (local) with the workspace's billing ``cycle``."""
    year = today.year
    lines = [f"*Periods* (days in {timezone}; weeks start on Monday; today is {_day(today, 0)})"]
    lines += [_line(forms, today, cycle) for forms in (*_FIXED, *_examples(today))]
    seven = parse_period("7d", today=today, cycle=cycle)
    month = parse_period("this month", today=today, cycle=cycle)
    lines += [
        "A month or quarter without a year is the latest one that has begun; periods end today "
        "at the latest.",
        f"*Compare:* `/spend cursor 7d vs previous` ({_span(seven, year)} against "
        f"{_span(previous_period(seven), year)}), `/spend cursor this month vs previous` "
        f"(against {_span(previous_period(month), year)}), `vs last cycle`, `vs last month`.",
        "*Chart:* `/spend cursor 30d chart by model` (sent to you; add `public` for the channel).",
    ]
    if cycle.assumed:
        lines.append("Billing cycle not known yet: calendar months stand in for cycles.")
    return "\n".join(lines)
