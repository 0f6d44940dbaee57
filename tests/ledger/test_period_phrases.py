"""Every period phrase against fixed todays, checked against an independent computation.

The oracle below walks the calendar a day at a time (no ``calendar`` module, no shared
helper): it is slow and obvious, which is the point. A few cases are also written out by
hand, so that the oracle itself is pinned.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from digests.errors import period_text
from ledger.errors import PeriodError, PeriodProblem
from ledger.period_spans import days_before, previous_period
from ledger.periods import Cycle, parse_period

ONE = timedelta(days=1)

#: Fixed todays: first and last day of a month, a Monday, a Sunday, 29 February, the days of
#: the DST changes in New York (Mar 8, Nov 1 2026) and Sydney (Apr 5, Oct 4 2026), New Year.
TODAYS = {
    "first-of-month": date(2026, 11, 1),
    "last-of-month": date(2026, 11, 30),
    "monday": date(2026, 11, 23),
    "sunday": date(2026, 11, 29),
    "leap-day": date(2024, 2, 29),
    "dst-new-york-spring": date(2026, 3, 8),
    "dst-new-york-fall": date(2026, 11, 1),
    "dst-sydney-start": date(2026, 10, 4),
    "dst-sydney-end": date(2026, 4, 5),
    "new-year": date(2027, 1, 1),
    "last-of-march": date(2026, 3, 31),
}
#: A billing cycle that starts on the 31st (short months start it on their last day).
CYCLE_31 = Cycle(start=date(2026, 1, 31), previous_start=date(2025, 12, 31))


# The oracle ---------------------------------------------------------------------------------


def first_of_month(day: date) -> date:
    while (day - ONE).month == day.month:
        day -= ONE
    return day


def last_of_month(day: date) -> date:
    while (day + ONE).month == day.month:
        day += ONE
    return day


def monday_of(day: date) -> date:
    while day.strftime("%A") != "Monday":
        day -= ONE
    return day


def first_of_quarter(day: date) -> date:
    day = first_of_month(day)
    while day.month not in (1, 4, 7, 10):
        day = first_of_month(day - ONE)
    return day


def months_back(day: date, count: int) -> date:
    """The same day ``count`` months earlier, or that month's last day when it is shorter."""
    target = first_of_month(day)
    for _ in range(count):
        target = first_of_month(target - ONE)
    return min(target + (day.day - 1) * ONE, last_of_month(target))


def latest_month(today: date, month: int) -> date:
    day = first_of_month(today)
    while day.month != month:
        day = first_of_month(day - ONE)
    return day


def latest_quarter(today: date, quarter: int) -> date:
    day = first_of_quarter(today)
    while (day.month - 1) // 3 + 1 != quarter:
        day = first_of_quarter(day - ONE)
    return day


Oracle = Callable[[date], tuple[date, date]]


def last_quarter(t: date) -> tuple[date, date]:
    end = first_of_quarter(t) - ONE
    return first_of_quarter(end), end


def since_monday(t: date) -> tuple[date, date]:
    return monday_of(t), t


ORACLE: dict[str, Oracle] = {
    "today": lambda t: (t, t),
    "yesterday": lambda t: (t - ONE, t - ONE),
    "7d": lambda t: (t - 6 * ONE, t),
    "week": lambda t: (monday_of(t), t),
    "this week": lambda t: (monday_of(t), t),
    "last week": lambda t: (monday_of(t) - 7 * ONE, monday_of(t) - ONE),
    "month": lambda t: (first_of_month(t), t),
    "this month": lambda t: (first_of_month(t), t),
    "mtd": lambda t: (first_of_month(t), t),
    "last month": lambda t: (
        first_of_month(first_of_month(t) - ONE),
        first_of_month(t) - ONE,
    ),
    "this quarter": lambda t: (first_of_quarter(t), t),
    "qtd": lambda t: (first_of_quarter(t), t),
    "last quarter": last_quarter,
    "this year": lambda t: (date(t.year, 1, 1), t),
    "ytd": lambda t: (date(t.year, 1, 1), t),
    "since monday": since_monday,
    "since sunday": lambda t: (
        t if t.strftime("%A") == "Sunday" else monday_of(t) - ONE,
        t,
    ),
    "since 2024-01-15": lambda t: (date(2024, 1, 15), t),
    "last 10 days": lambda t: (t - 9 * ONE, t),
    "last 1 day": lambda t: (t, t),
    "last 2 weeks": lambda t: (t - 13 * ONE, t),
    "last 3 months": lambda t: (months_back(t, 3) + ONE, t),
    "last 12 months": lambda t: (months_back(t, 12) + ONE, t),
    "october": lambda t: (latest_month(t, 10), min(last_of_month(latest_month(t, 10)), t)),
    "feb": lambda t: (latest_month(t, 2), min(last_of_month(latest_month(t, 2)), t)),
    "oct 2023": lambda t: (date(2023, 10, 1), date(2023, 10, 31)),
    "2023-10": lambda t: (date(2023, 10, 1), date(2023, 10, 31)),
    "2024-02": lambda t: (date(2024, 2, 1), min(date(2024, 2, 29), t)),
    "q1": lambda t: (latest_quarter(t, 1), min(last_of_month(latest_quarter(t, 1) + 62 * ONE), t)),
    "q4": lambda t: (latest_quarter(t, 4), min(last_of_month(latest_quarter(t, 4) + 62 * ONE), t)),
    "2023-q3": lambda t: (date(2023, 7, 1), date(2023, 9, 30)),
    "q3 2023": lambda t: (date(2023, 7, 1), date(2023, 9, 30)),
    "2024-01-15": lambda t: (date(2024, 1, 15), date(2024, 1, 15)),
    "2024-01-15..2024-02-03": lambda t: (date(2024, 1, 15), date(2024, 2, 3)),
    "last-week": lambda t: (monday_of(t) - 7 * ONE, monday_of(t) - ONE),
    "This_Month": lambda t: (first_of_month(t), t),
}
CASES = [
    pytest.param(phrase, today, id=f"{phrase}@{name}")
    for phrase in ORACLE
    for name, today in TODAYS.items()
]


@pytest.mark.parametrize(("phrase", "today"), CASES)
def test_every_phrase_matches_the_oracle(phrase: str, today: date) -> None:
    period = parse_period(phrase, today=today)
    assert (period.start, period.end) == ORACLE[phrase](today)
    assert period.start <= period.end <= max(today, date(2024, 2, 3))


@pytest.mark.parametrize(
    ("phrase", "today", "start", "end"),
    [  # written out by hand: they pin the oracle
        ("last week", date(2026, 11, 23), date(2026, 11, 16), date(2026, 11, 22)),
        ("last week", date(2026, 11, 29), date(2026, 11, 16), date(2026, 11, 22)),
        ("this week", date(2026, 11, 29), date(2026, 11, 23), date(2026, 11, 29)),
        ("last month", date(2024, 3, 1), date(2024, 2, 1), date(2024, 2, 29)),
        ("last month", date(2027, 1, 1), date(2026, 12, 1), date(2026, 12, 31)),
        ("last quarter", date(2026, 11, 1), date(2026, 7, 1), date(2026, 9, 30)),
        ("last quarter", date(2026, 3, 8), date(2025, 10, 1), date(2025, 12, 31)),
        ("october", date(2026, 4, 5), date(2025, 10, 1), date(2025, 10, 31)),
        ("october", date(2026, 10, 4), date(2026, 10, 1), date(2026, 10, 4)),
        ("november", date(2026, 11, 30), date(2026, 11, 1), date(2026, 11, 30)),
        ("q4", date(2026, 10, 4), date(2026, 10, 1), date(2026, 10, 4)),
        ("q4", date(2026, 4, 5), date(2025, 10, 1), date(2025, 12, 31)),
        ("since monday", date(2026, 11, 23), date(2026, 11, 23), date(2026, 11, 23)),
        ("since monday", date(2026, 11, 29), date(2026, 11, 23), date(2026, 11, 29)),
        ("last 3 months", date(2026, 5, 31), date(2026, 3, 1), date(2026, 5, 31)),
        ("last 1 month", date(2024, 3, 31), date(2024, 3, 1), date(2024, 3, 31)),
        ("last 12 months", date(2024, 2, 29), date(2023, 3, 1), date(2024, 2, 29)),
        ("ytd", date(2024, 2, 29), date(2024, 1, 1), date(2024, 2, 29)),
        ("feb 2024", date(2024, 2, 29), date(2024, 2, 1), date(2024, 2, 29)),
    ],
)
def test_hand_written_dates(phrase: str, today: date, start: date, end: date) -> None:
    period = parse_period(phrase, today=today)
    assert (period.start, period.end) == (start, end)


@pytest.mark.parametrize(
    ("phrase", "today", "start", "end"),
    [
        ("cycle", date(2026, 2, 15), date(2026, 1, 31), date(2026, 2, 15)),
        ("this cycle", date(2026, 2, 15), date(2026, 1, 31), date(2026, 2, 15)),
        ("last cycle", date(2026, 2, 15), date(2025, 12, 31), date(2026, 1, 30)),
        ("last-cycle", date(2026, 2, 15), date(2025, 12, 31), date(2026, 1, 30)),
        ("since last cycle", date(2026, 2, 15), date(2025, 12, 31), date(2026, 2, 15)),
    ],
)
def test_a_cycle_that_starts_on_the_31st(phrase: str, today: date, start: date, end: date) -> None:
    period = parse_period(phrase, today=today, cycle=CYCLE_31)
    assert (period.start, period.end) == (start, end)


@pytest.mark.parametrize(
    ("phrase", "problem", "words"),
    [
        ("2027-01", PeriodProblem.FUTURE, "starts on 2027-01-01, after today"),
        ("q1 2027", PeriodProblem.FUTURE, "after today"),
        ("since 2026-12-01", PeriodProblem.FUTURE, "after today"),
        ("last 13 months", PeriodProblem.OUT_OF_RANGE, "last 12 months"),
        ("last 53 weeks", PeriodProblem.OUT_OF_RANGE, "out of range"),
        ("last 367 days", PeriodProblem.OUT_OF_RANGE, "out of range"),
        ("last 0 days", PeriodProblem.OUT_OF_RANGE, "out of range"),
        ("2026-13", PeriodProblem.NOT_A_DATE, "is not a date"),
        ("0000-q1", PeriodProblem.NOT_A_DATE, "is not a date"),
        ("since since monday", PeriodProblem.UNKNOWN, "Unknown period"),
        ("since 2026-01-01..2026-02-01", PeriodProblem.UNKNOWN, "Unknown period"),
        ("smarch", PeriodProblem.UNKNOWN, "Unknown period 'smarch'"),
        ("last fortnight", PeriodProblem.UNKNOWN, "Unknown period"),
    ],
)
def test_periods_that_cannot_be_answered_say_why(
    phrase: str, problem: PeriodProblem, words: str
) -> None:
    with pytest.raises(PeriodError) as refused:
        parse_period(phrase, today=date(2026, 11, 28))
    assert refused.value.problem is problem
    assert words in period_text(refused.value)


SAME = "the same days of the {} before"


@pytest.mark.parametrize(
    ("phrase", "today", "start", "end", "label"),
    [
        ("7d", "2026-11-28", "2026-11-15", "2026-11-21", "the 7 days before"),
        ("today", "2026-11-28", "2026-11-27", "2026-11-27", "the day before"),
        ("last week", "2026-11-28", "2026-11-09", "2026-11-15", "the 7 days before"),
        ("this week", "2026-11-28", "2026-11-16", "2026-11-21", SAME.format("week")),
        ("this month", "2026-11-28", "2026-10-01", "2026-10-28", SAME.format("month")),
        ("this month", "2024-03-31", "2024-02-01", "2024-02-29", "the month before"),
        ("this month", "2024-03-30", "2024-02-01", "2024-02-29", SAME.format("month")),
        ("october", "2026-11-28", "2026-09-01", "2026-09-30", "the month before"),
        ("2024-03", "2026-11-28", "2024-02-01", "2024-02-29", "the month before"),
        ("q3", "2026-11-28", "2026-04-01", "2026-06-30", "the quarter before"),
        ("qtd", "2026-11-28", "2026-07-01", "2026-08-28", SAME.format("quarter")),
        ("ytd", "2024-02-29", "2023-01-01", "2023-02-28", SAME.format("year")),
        ("last year", "2026-11-28", "2024-01-01", "2024-12-31", "the year before"),
        ("last 30 days", "2026-11-28", "2026-09-30", "2026-10-29", "the 30 days before"),
        # January and the first quarter are months and quarters too, not years.
        ("january", "2027-02-10", "2026-12-01", "2026-12-31", "the month before"),
        ("this month", "2027-01-15", "2026-12-01", "2026-12-15", SAME.format("month")),
        ("q1", "2027-05-01", "2026-10-01", "2026-12-31", "the quarter before"),
        ("this quarter", "2027-02-10", "2026-10-01", "2026-11-10", SAME.format("quarter")),
        ("this quarter", "2027-01-15", "2026-10-01", "2026-10-15", SAME.format("quarter")),
        ("ytd", "2027-01-15", "2026-01-01", "2026-01-15", SAME.format("year")),
        ("2027-01-01..2027-01-31", "2027-02-10", "2026-12-01", "2026-12-31", "the month before"),
    ],
)
def test_the_previous_period(phrase: str, today: str, start: str, end: str, label: str) -> None:
    before = previous_period(parse_period(phrase, today=date.fromisoformat(today)))
    assert (before.start.isoformat(), before.end.isoformat(), before.label) == (start, end, label)


def test_days_before_history() -> None:
    period = parse_period("this month", today=date(2026, 11, 28))
    assert days_before(period, None) == 0
    assert days_before(period, date(2026, 10, 29)) == 0
    assert days_before(period, date(2026, 11, 13)) == 12
    assert days_before(period, date(2026, 12, 5)) == period.days


@settings(max_examples=400, deadline=None)
@given(
    st.text(
        alphabet=st.sampled_from(list("abcdeilmnoqrstuvwyz0123456789-_. ")) | st.characters(),
        max_size=40,
    ),
    st.dates(min_value=date(1, 1, 1), max_value=date(9999, 12, 31)),
)
def test_fuzzed_text_and_days_never_raise_anything_but_a_period_error(
    text: str, today: date
) -> None:
    try:
        period = parse_period(text, today=today)
    except PeriodError as error:
        assert period_text(error)
    else:
        assert period.start <= period.end


@pytest.mark.parametrize(
    ("phrase", "today", "start", "end", "label"),
    [
        ("this cycle", "2026-11-24", "2026-10-15", "2026-10-24", SAME.format("cycle")),
        ("last cycle", "2026-11-24", "2026-09-15", "2026-10-14", "the cycle before"),
        ("this cycle", "2026-11-15", "2026-10-15", "2026-10-15", SAME.format("cycle")),
    ],
)
def test_a_billing_cycle_is_compared_with_the_cycle_before(
    phrase: str, today: str, start: str, end: str, label: str
) -> None:
    """A cycle starting on the 15th: `this cycle vs previous` is the same days of the last
    cycle (as the digest compares them), not the days just before it."""
    cycle = Cycle(start=date(2026, 11, 15), previous_start=date(2026, 10, 15))
    period = parse_period(phrase, today=date.fromisoformat(today), cycle=cycle)
    before = previous_period(period)
    assert (before.start.isoformat(), before.end.isoformat(), before.label) == (start, end, label)
