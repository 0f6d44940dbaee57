"""Two reports side by side: the change in total and, per row, the biggest movers first.

Pure: both reports are built independently (``bot.usecases.comparisons``); this only
subtracts. Money stays in (Decimal) cents.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import ROUND_HALF_UP, Decimal

from ledger.periods import Period
from ledger.queries import Breakdown, Report, Row

_TENTH = Decimal("0.1")


def percent_change(now: Decimal, before: Decimal) -> Decimal | None:
    """The change as a percentage of ``before``, to a tenth; None when ``before`` is 0."""
    if before == 0:
        return None
    return ((now - before) / abs(before) * 100).quantize(_TENTH, rounding=ROUND_HALF_UP)


@dataclass(frozen=True)
class RowChange:
    key: str
    cents: Decimal  # in the current period
    previous_cents: Decimal
    #: The earlier period's key set against ``key`` (by day: the day as many days into it).
    previous_key: str = ""

    def __post_init__(self) -> None:
        if not self.previous_key:
            object.__setattr__(self, "previous_key", self.key)

    @property
    def change_cents(self) -> Decimal:
        return self.cents - self.previous_cents

    @property
    def percent(self) -> Decimal | None:
        return percent_change(self.cents, self.previous_cents)


@dataclass(frozen=True)
class Comparison:
    current: Report
    previous: Report
    #: Every key of either period, the largest change (up or down) first.
    rows: list[RowChange]
    #: What the earlier period is to people: "previous" or the phrase typed.
    against: str

    @property
    def change_cents(self) -> Decimal:
        return self.current.totals.cents - self.previous.totals.cents

    @property
    def percent(self) -> Decimal | None:
        return percent_change(self.current.totals.cents, self.previous.totals.cents)


def row_changes(
    current: Sequence[Row],
    previous: Sequence[Row],
    *,
    match: Callable[[str], str] | None = None,
    earlier_of: Callable[[str], str] | None = None,
) -> list[RowChange]:
    """One change per key found in either list, the biggest movers (by dollars) first;
    ``match`` gives the current key an earlier key is set against (default: the same), and
    ``earlier_of`` the earlier key of a current one the earlier period has no row for."""
    now = {row.key: row.cents for row in current}
    before: dict[str, Decimal] = {}
    earlier: dict[str, str] = {}
    for row in previous:
        key = match(row.key) if match else row.key
        before[key], earlier[key] = row.cents, row.key
    changes = [
        RowChange(
            key,
            now.get(key, Decimal(0)),
            before.get(key, Decimal(0)),
            earlier.get(key) or (earlier_of(key) if earlier_of and key in now else key),
        )
        for key in now.keys() | before.keys()
    ]
    changes.sort(key=lambda change: (-abs(change.change_cents), change.key))
    return changes


def compare(
    current: Report,
    previous: Report,
    *,
    against: str,
    rows: tuple[Sequence[Row], Sequence[Row]] | None = None,
) -> Comparison:
    """``current`` against ``previous``; ``rows``, when given, are the rows each report may
    show its viewer (the totals are the team's either way)."""
    now, before = rows if rows is not None else (current.rows, previous.rows)
    if current.by is not Breakdown.DAY:
        return Comparison(current, previous, row_changes(now, before), against)
    match, earlier_of = _day_by_day(current.period, previous.period)
    changes = row_changes(now, before, match=match, earlier_of=earlier_of)
    return Comparison(current, previous, changes, against)


def _day_by_day(
    current: Period, previous: Period
) -> tuple[Callable[[str], str], Callable[[str], str]]:
    """By day, the earlier period's days in order against this one's (its first day against
    this one's first day; a day past this period's length keeps its own date), and the
    earlier day of each of this period's days."""
    shift = current.start - previous.start

    def moved(key: str, days: timedelta) -> date | None:
        try:
            return date.fromisoformat(key) + days
        except (ValueError, OverflowError):
            return None

    def match(key: str) -> str:
        day = moved(key, shift)
        return day.isoformat() if day and current.start <= day <= current.end else key

    def earlier_of(key: str) -> str:
        day = moved(key, -shift)
        return day.isoformat() if day else key

    return match, earlier_of
