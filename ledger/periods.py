"""Report periods: pure parsing of the phrases people say (``today``, ``7d``, ``cycle``,
``last week``, ``mtd``, ``october``, ``2026-q3``, ``since monday``, ``last 3 months``, dates,
ranges) into inclusive local days.

A period is a pair of inclusive local calendar days in the workspace's
reporting timezone. Billing-cycle periods start on the cycle start that the
provider's spend endpoint reports. Weeks start on Monday. A month or quarter named
without a year is the most recent one that has started (the current one included);
periods never reach past today: the current month, quarter or year ends today.
Slack's grammar and the CLI's ``--period`` both read periods here.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, timedelta

from ledger import calendar_math as cal
from ledger.errors import PeriodError, PeriodProblem

#: Days before the day in question that comparisons and anomalies are measured against.
TRAILING_DAYS = 7
_DAYS = re.compile(r"^(\d{1,3})d$")
_MAX_DAYS = 366
_PREFIX = re.compile(r"^(this|last|previous|prev|past|since)[-_](.+)$")
_LAST_N = re.compile(r"^(?:last|past|previous) (\d{1,4}) (day|week|month)s?$")
_NAMED_MONTH = re.compile(r"^([a-z]{3,9})(?: (\d{4}))?$")
_YEAR_MONTH = re.compile(r"^(\d{4})-(\d{1,2})$")
_QUARTER = re.compile(r"^q([1-4])(?:[ -](\d{4}))?$|^(\d{4})[ -]?q([1-4])$")
_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")


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
    #: The unit the phrase named (``cycle``, ``month``, ``quarter``, ``year``), or None: what
    #: ``vs previous`` steps back by when the days alone are ambiguous (January to date is
    #: this month, this quarter and this year at once).
    unit: str | None = field(default=None, compare=False)

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


def normalise(text: str) -> str:
    """Lower case, one space between words; ``last-week`` and ``this_month`` read as two."""
    word = " ".join(text.strip().lower().split())
    match = _PREFIX.match(word)
    if match:
        rest = match[2]
        if not re.match(r"\d{4}-", rest):
            rest = rest.replace("-", " ").replace("_", " ")
        word = f"{match[1]} {rest}"
    return word


_Rule = Callable[[date, Cycle], Period]
_FIXED: dict[str, _Rule] = {}


def _phrases(*names: str) -> Callable[[_Rule], _Rule]:
    def register(rule: _Rule) -> _Rule:
        _FIXED.update(dict.fromkeys(names, rule))
        return rule

    return register


@_phrases("", "cycle", "this cycle", "current cycle", "billing cycle", "this billing cycle")
def _this_cycle(today: date, cycle: Cycle) -> Period:
    return Period(cycle.start, today, "this billing cycle", "cycle")


@_phrases("last cycle", "lastcycle", "previous cycle", "prev cycle", "last billing cycle")
def _last_cycle(_today: date, cycle: Cycle) -> Period:
    return Period(
        cycle.previous_start, cycle.start - timedelta(days=1), "last billing cycle", "cycle"
    )


@_phrases("today")
def _today(today: date, _cycle: Cycle) -> Period:
    return Period(today, today, "today")


@_phrases("yesterday")
def _yesterday(today: date, _cycle: Cycle) -> Period:
    day = today - timedelta(days=1)
    return Period(day, day, "yesterday")


@_phrases("week", "this week", "wtd")
def _this_week(today: date, _cycle: Cycle) -> Period:
    return Period(cal.week_start(today), today, "this week")


@_phrases("last week", "previous week", "prev week")
def _last_week(today: date, _cycle: Cycle) -> Period:
    monday = cal.week_start(today) - timedelta(days=7)
    return Period(monday, monday + timedelta(days=6), "last week")


@_phrases("month", "this month", "mtd")
def _this_month(today: date, _cycle: Cycle) -> Period:
    return Period(today.replace(day=1), today, "this month", "month")


@_phrases("last month", "previous month", "prev month")
def _last_month(today: date, _cycle: Cycle) -> Period:
    first = cal.add_months(today.replace(day=1), -1)
    return Period(first, cal.month_end(first.year, first.month), "last month", "month")


@_phrases("quarter", "this quarter", "qtd")
def _this_quarter(today: date, _cycle: Cycle) -> Period:
    return Period(
        cal.quarter_start(today.year, cal.quarter_of(today)), today, "this quarter", "quarter"
    )


@_phrases("last quarter", "previous quarter", "prev quarter")
def _last_quarter(today: date, _cycle: Cycle) -> Period:
    first = cal.add_months(cal.quarter_start(today.year, cal.quarter_of(today)), -3)
    quarter = cal.quarter_of(first)
    return Period(first, cal.quarter_end(first.year, quarter), "last quarter", "quarter")


@_phrases("year", "this year", "ytd")
def _this_year(today: date, _cycle: Cycle) -> Period:
    return Period(date(today.year, 1, 1), today, "this year", "year")


@_phrases("last year", "previous year")
def _last_year(today: date, _cycle: Cycle) -> Period:
    year = today.year - 1
    return Period(date(year, 1, 1), date(year, 12, 31), f"{year}", "year")


def _started(start: date, end: date, today: date, text: str, label: str, unit: str) -> Period:
    """``start``..``end`` cut at today; refused when it starts after today."""
    if start > today:
        raise PeriodError(PeriodProblem.FUTURE, text, first=start.isoformat())
    return Period(start, min(end, today), label, unit)


def _month(year: int | None, month: int, today: date, text: str) -> Period:
    if not 1 <= month <= 12 or year == 0:
        raise PeriodError(PeriodProblem.NOT_A_DATE, text)
    if year is None:
        year = today.year if month <= today.month else today.year - 1
    label = f"{cal.MONTHS[month - 1].capitalize()} {year}"
    return _started(date(year, month, 1), cal.month_end(year, month), today, text, label, "month")


def _quarter(year: int | None, quarter: int, today: date, text: str) -> Period:
    if year == 0:
        raise PeriodError(PeriodProblem.NOT_A_DATE, text)
    if year is None:
        year = today.year if quarter <= cal.quarter_of(today) else today.year - 1
    start, end = cal.quarter_start(year, quarter), cal.quarter_end(year, quarter)
    return _started(start, end, today, text, f"Q{quarter} {year}", "quarter")


def _last_n(count: int, unit: str, today: date, text: str) -> Period:
    """The last ``count`` days, weeks (7 days each) or months, ending today."""
    if unit == "month":
        start = cal.add_months(today, -count) + timedelta(days=1) if count <= 12 else date.min
    else:
        start = today - timedelta(days=count * (7 if unit == "week" else 1) - 1)
    if count < 1 or (today - start).days + 1 > _MAX_DAYS:
        raise PeriodError(PeriodProblem.OUT_OF_RANGE, text, max_days=_MAX_DAYS)
    return Period(start, today, f"last {count} {unit}{'s' if count > 1 else ''}")


def _since(rest: str, today: date, cycle: Cycle, text: str) -> Period:
    """``since monday`` (the latest Monday, today included) or ``since`` any period: from its
    first day to today."""
    weekday = cal.weekday_number(rest)
    if weekday is not None:
        start = cal.latest_weekday(today, weekday)
    elif rest.startswith("since") or ".." in rest:
        raise PeriodError(PeriodProblem.UNKNOWN, text)
    else:
        start = _read(rest, today, cycle, text).start
    if start > today:
        raise PeriodError(PeriodProblem.FUTURE, text, first=start.isoformat())
    return Period(start, today, f"since {start:%a} {start.isoformat()}")


def _range(word: str, text: str) -> Period:
    first, _, last = word.partition("..")
    start, end = _parse_date(first.strip()), _parse_date(last.strip())
    if end < start:
        raise PeriodError(PeriodProblem.REVERSED, text, first=first, last=last)
    return Period(start, end, f"{start.isoformat()} to {end.isoformat()}")


def _read(word: str, today: date, cycle: Cycle, text: str) -> Period:
    """The period ``word`` (normalised) names; ``text`` is what was typed, for errors."""
    rule = _FIXED.get(word)
    if rule is not None:
        return rule(today, cycle)
    if match := _DAYS.match(word):
        return _last_n(int(match[1]), "day", today, text)
    if match := _LAST_N.match(word):
        return _last_n(int(match[1]), match[2], today, text)
    if word.startswith("since "):
        return _since(word[len("since ") :], today, cycle, text)
    if ".." in word:
        return _range(word, text)
    if _DATE.match(word):
        day = _parse_date(word)
        return Period(day, day, day.isoformat())
    if match := _YEAR_MONTH.match(word):
        return _month(int(match[1]), int(match[2]), today, text)
    if match := _QUARTER.match(word):
        quarter, year = (match[1], match[2]) if match[1] else (match[4], match[3])
        return _quarter(int(year) if year else None, int(quarter), today, text)
    if (match := _NAMED_MONTH.match(word)) and (month := cal.month_number(match[1])):
        return _month(int(match[2]) if match[2] else None, month, today, text)
    raise PeriodError(PeriodProblem.UNKNOWN, text)


def parse_period(text: str, *, today: date, cycle: Cycle | None = None) -> Period:
    """The inclusive local days that ``text`` names, as of ``today``."""
    typed = " ".join(text.split())
    try:
        return _read(normalise(text), today, cycle or calendar_cycle(today), typed)
    except (ValueError, OverflowError):  # a calendar edge (year 1 or 9999): not a real ask
        raise PeriodError(PeriodProblem.OUT_OF_RANGE, typed, max_days=_MAX_DAYS) from None
