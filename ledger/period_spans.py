"""Periods measured against others: the period ``vs previous`` compares with, and how many
of a period's days come before the ledger's history."""

from __future__ import annotations

from datetime import date, timedelta

from ledger import calendar_math as cal
from ledger.errors import PeriodError, PeriodProblem
from ledger.periods import Period

_STEPS = {"month": 1, "quarter": 3, "year": 12}
ONE_DAY = timedelta(days=1)


def _calendar_step(period: Period) -> tuple[int, str] | None:
    """(months, name) when ``period`` starts a month, quarter or year and stays in it: the
    unit its phrase named, else the smallest that fits its days."""
    start, end = period.start, period.end
    if period.unit == "cycle":  # billing cycles start on any day of the month
        return 1, "cycle"
    if start.day != 1:
        return None
    if period.unit in _STEPS:
        return _STEPS[period.unit], period.unit
    if (end.year, end.month) == (start.year, start.month):
        return 1, "month"
    same_quarter = cal.quarter_of(end) == cal.quarter_of(start) and end.year == start.year
    if start.month % 3 == 1 and same_quarter:
        return 3, "quarter"
    if start.month == 1 and end.year == start.year:
        return 12, "year"
    return None


def previous_period(period: Period) -> Period:
    """What ``vs previous`` compares with. A period that starts a month, quarter or year and
    stays in it is compared with the same days of the one before (this month to date: the
    same days of last month; October: September; Q3: Q2; year to date: the same days last
    year), a billing cycle with the same days of the cycle before, this week so far with the
    same days of last week; any other period with as many days, ending the day before it
    starts. ``PeriodError`` when the calendar has nothing before it (a period in year 1)."""
    try:
        return _previous(period)
    except (OverflowError, ValueError):  # before date.min
        raise PeriodError(PeriodProblem.NO_EARLIER, period.label) from None


def _previous(period: Period) -> Period:
    step = _calendar_step(period)
    if step is None:
        days = period.days
        end = period.start - timedelta(days=1)
        if period.start.weekday() == 0 and days < 7:  # this week so far: the same days
            return Period(period.start - timedelta(days=7), period.end - timedelta(days=7),
                          "the same days of the week before")  # fmt: skip
        label = "the day before" if days == 1 else f"the {days} days before"
        return Period(end - timedelta(days=days - 1), end, label)
    months, name = step
    start = cal.add_months(period.start, -months)
    end = cal.add_months(period.end, -months)
    whole = period.end == cal.add_months(period.start, months) - timedelta(days=1)
    if name == "cycle":  # it ends the day before this one starts, at the latest
        end = period.start - ONE_DAY if whole else min(end, period.start - ONE_DAY)
    elif period.end == cal.month_end(period.end.year, period.end.month):
        end = cal.month_end(end.year, end.month)  # to the end of February, leap year or not
    label = f"the {name} before" if whole else f"the same days of the {name} before"
    return Period(start, end, label)


def days_before(period: Period, first_day: date | None) -> int:
    """How many of ``period``'s days come before ``first_day`` (the history's first local
    day; None: unknown, counted as none)."""
    if first_day is None or first_day <= period.start:
        return 0
    return min((first_day - period.start).days, period.days)
