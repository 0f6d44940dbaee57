"""Report periods: pure parsing of ``today``, ``7d``, ``cycle``, dates and ranges.

A period is a pair of inclusive local calendar days in the workspace's
reporting timezone. Billing-cycle periods start on the cycle start that the
provider's spend endpoint reports.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, timedelta

from ledger.errors import PeriodError, PeriodProblem

#: Days before the day in question that comparisons and anomalies are measured against.
TRAILING_DAYS = 7
_DAYS = re.compile(r"^(\d{1,3})d$")
_MAX_DAYS = 366


@dataclass(frozen=True)
class Cycle:
    """The current billing cycle's first local day and the previous cycle's."""

    start: date
    previous_start: date
    assumed: bool = False  # no spend snapshot yet: calendar months stand in


@dataclass(frozen=True)
class Period:
    start: date
    end: date
    label: str

    @property
    def days(self) -> int:
        return (self.end - self.start).days + 1


def month_before(day: date) -> date:
    year, month = (day.year, day.month - 1) if day.month > 1 else (day.year - 1, 12)
    for candidate_day in (day.day, 30, 29, 28):
        try:
            return date(year, month, candidate_day)
        except ValueError:
            continue
    raise AssertionError("unreachable")  # pragma: no cover


def calendar_cycle(today: date) -> Cycle:
    start = today.replace(day=1)
    return Cycle(start=start, previous_start=month_before(start), assumed=True)


def _parse_date(text: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise PeriodError(PeriodProblem.NOT_A_DATE, text) from None


def parse_period(text: str, *, today: date, cycle: Cycle | None = None) -> Period:
    """The inclusive local days that ``text`` names, as of ``today``."""
    word = text.strip().lower()
    cycle = cycle or calendar_cycle(today)
    if word in ("", "cycle"):
        return Period(cycle.start, today, "this billing cycle")
    if word in ("last-cycle", "lastcycle", "previous-cycle"):
        return Period(cycle.previous_start, cycle.start - timedelta(days=1), "last billing cycle")
    if word == "today":
        return Period(today, today, "today")
    if word == "yesterday":
        day = today - timedelta(days=1)
        return Period(day, day, "yesterday")
    if word == "week":
        return Period(today - timedelta(days=today.weekday()), today, "this week")
    if word == "month":
        return Period(today.replace(day=1), today, "this month")
    if match := _DAYS.match(word):
        days = int(match.group(1))
        if not 1 <= days <= _MAX_DAYS:
            raise PeriodError(PeriodProblem.OUT_OF_RANGE, word, max_days=_MAX_DAYS)
        return Period(today - timedelta(days=days - 1), today, f"last {days} days")
    if ".." in word:
        first, _, last = word.partition("..")
        start, end = _parse_date(first), _parse_date(last)
        if end < start:
            raise PeriodError(PeriodProblem.REVERSED, text.strip(), first=first, last=last)
        return Period(start, end, f"{start.isoformat()} to {end.isoformat()}")
    if re.match(r"^\d{4}-\d{2}-\d{2}$", word):
        day = _parse_date(word)
        return Period(day, day, day.isoformat())
    raise PeriodError(PeriodProblem.UNKNOWN, text.strip())
