"""Budget arithmetic: period bounds, thresholds crossed, forecasts, anomalies. Pure: no database.

Every day is a local calendar day in the workspace's reporting timezone, and every
amount is cents (``Decimal``; a budget's limit is whole cents). ``ledger.alerts``
reads the spend and applies these rules; digests and ``/spend ... status`` show them.

Forecast: the spend still to come is projected day by day from a run-rate that
keeps weekdays (Monday to Friday) and weekend days apart, each the mean of the
period's complete days of that kind with the single highest day capped at the
second highest (so one spike, say on day 2, does not dominate the rate while the
money it cost still counts). A kind with no complete day yet borrows the other
kind's rate (the cautious choice: it forecasts a crossing sooner, not later). The
run-rate is not trusted before ``MIN_FORECAST_DAYS`` complete days of the period (days
before the ledger's history starts, ``known_from``, are not counted: their spend is
unknown, not zero). ``project`` is the one forecast: budget alerts, budget status and
the daily digest all call it.

Anomaly: a day above ``k`` times the mean of the 7 days before it (days without
spend count as 0) and at least ``floor_cents``. When those 7 days spent nothing,
any day at or above the floor is an anomaly: a first large day is worth a look,
and the floor keeps small first days quiet.
"""

from __future__ import annotations

from bisect import bisect_left
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal

from ledger.digest_data import cycle_containing, next_cycle_start
from ledger.periods import Cycle

#: Complete days of a period before its run-rate is trusted for a forecast.
MIN_FORECAST_DAYS = 3
PERIODS = ("cycle", "month", "week", "day")
_ZERO = Decimal(0)


def period_bounds(period: str, today: date, cycle: Cycle) -> tuple[date, date]:
    """The first and last local day of the ``period`` (a budget's) that contains ``today``.

    ``cycle`` is the billing cycle the provider reported last; it is carried to the
    one containing ``today`` month by month when it is older (or newer).
    """
    if period == "cycle":
        current = cycle_containing(cycle, today)
        return current.start, next_cycle_start(current) - timedelta(days=1)
    if period == "month":
        first = today.replace(day=1)
        following = date(first.year + first.month // 12, first.month % 12 + 1, 1)
        return first, following - timedelta(days=1)
    if period == "week":
        monday = today - timedelta(days=today.weekday())
        return monday, monday + timedelta(days=6)
    if period == "day":
        return today, today
    raise ValueError(f"unknown budget period {period!r}: one of {', '.join(PERIODS)}")


def crossed(amount_cents: int, spent_cents: Decimal, thresholds: Iterable[int]) -> tuple[int, ...]:
    """The thresholds (percent of ``amount_cents``) that ``spent_cents`` has reached, ascending."""
    if amount_cents <= 0:
        return ()
    limit = Decimal(amount_cents)
    return tuple(pct for pct in sorted(set(thresholds)) if spent_cents * 100 >= limit * pct)


def percent_of(amount_cents: int, spent_cents: Decimal) -> Decimal:
    """``spent_cents`` as a percentage of ``amount_cents``, to two decimal places."""
    if amount_cents <= 0:
        return _ZERO
    return (spent_cents * 100 / Decimal(amount_cents)).quantize(Decimal("0.01"))


def _days(first: date, last: date) -> list[date]:
    return [first + timedelta(days=i) for i in range((last - first).days + 1)]


def _is_weekend(day: date) -> bool:
    return day.weekday() >= 5


def _capped_mean(values: Sequence[Decimal]) -> Decimal | None:
    """The mean with the highest value capped at the second highest (from three values on)."""
    if not values:
        return None
    ordered = sorted(values)
    if len(ordered) >= 3:
        ordered[-1] = ordered[-2]
    return max(sum(ordered, _ZERO) / len(ordered), _ZERO)


@dataclass(frozen=True)
class RunRate:
    """Expected cents on a weekday and on a weekend day."""

    weekday: Decimal
    weekend: Decimal

    def on(self, day: date) -> Decimal:
        return self.weekend if _is_weekend(day) else self.weekday


def run_rate(
    daily: Mapping[date, Decimal], start: date, today: date, known_from: date | None = None
) -> RunRate | None:
    """The rate from the complete days ``start .. today - 1`` (from ``known_from`` on, if
    later); None before MIN_FORECAST_DAYS such days."""
    first = start if known_from is None else max(start, known_from)
    complete = _days(first, today - timedelta(days=1))
    if len(complete) < MIN_FORECAST_DAYS:
        return None
    weekdays = [daily.get(day, _ZERO) for day in complete if not _is_weekend(day)]
    weekends = [daily.get(day, _ZERO) for day in complete if _is_weekend(day)]
    weekday, weekend = _capped_mean(weekdays), _capped_mean(weekends)
    if weekday is None:
        weekday = weekend
    if weekend is None:
        weekend = weekday
    assert weekday is not None and weekend is not None
    return RunRate(weekday=weekday, weekend=weekend)


@dataclass(frozen=True)
class Projection:
    """Projected spend through each day from ``today`` to the period's end."""

    days: tuple[date, ...]
    cumulative: tuple[Decimal, ...]
    #: Spent so far: the period's complete days and today's spend to date.
    spent: Decimal
    rate: RunRate
    #: Complete days the rate was measured over.
    basis_days: int

    @property
    def end_cents(self) -> Decimal:
        """The spend projected for the whole period."""
        return self.cumulative[-1]

    def crossing(self, amount_cents: int) -> date | None:
        """The first day the projected spend reaches ``amount_cents``; None if never in
        the period, or if the spend is there already (a threshold says so)."""
        amount = Decimal(amount_cents)
        if amount <= 0 or self.spent >= amount:
            return None
        index = bisect_left(self.cumulative, amount)
        return self.days[index] if index < len(self.days) else None


def project(
    daily: Mapping[date, Decimal],
    start: date,
    end: date,
    today: date,
    *,
    known_from: date | None = None,
) -> Projection | None:
    """The period's spend projected from ``today`` to ``end``; None when not trusted yet.

    Today counts at the run-rate, or at what it has spent already if that is more.
    ``known_from``: the first day the ledger has history for (earlier days are left
    out of the rate).
    """
    if not start <= today <= end:
        return None
    rate = run_rate(daily, start, today, known_from)
    if rate is None:
        return None
    total = sum((daily.get(day, _ZERO) for day in _days(start, today - timedelta(days=1))), _ZERO)
    spent_today = daily.get(today, _ZERO)
    spent = total + spent_today
    days = _days(today, end)
    cumulative: list[Decimal] = []
    for day in days:
        expected = rate.on(day)
        total += max(expected, spent_today) if day == today else expected
        cumulative.append(total)
    basis = (today - max(start, known_from or start)).days
    return Projection(
        days=tuple(days), cumulative=tuple(cumulative), spent=spent, rate=rate, basis_days=basis
    )


def forecast_crossing(
    daily: Mapping[date, Decimal], start: date, end: date, today: date, amount_cents: int
) -> date | None:
    """The day the period's spend is projected to reach ``amount_cents``, if by ``end``.

    None when: fewer than MIN_FORECAST_DAYS complete days, already at or over the
    amount (the 100% threshold covers that), or not reached within the period.
    """
    projection = project(daily, start, end, today)
    return projection.crossing(amount_cents) if projection is not None else None


def is_anomaly(
    day_cents: Decimal, trailing: Sequence[Decimal], k: Decimal, floor_cents: Decimal
) -> bool:
    """A day above ``k`` x the trailing mean and at least ``floor_cents``.

    ``trailing`` is the spend of the days before (TRAILING_DAYS of them; days with
    no spend as 0). All zero (or empty): the day is an anomaly when it reaches the
    floor.
    """
    if day_cents < floor_cents:
        return False
    mean = sum(trailing, _ZERO) / len(trailing) if trailing else _ZERO
    return day_cents > k * mean
