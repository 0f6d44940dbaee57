"""Which rollup rows answer a report: pure planning, no I/O.

A team-wide report by user reads the coarse table's month rows (``um``) for the months a
period covers, and day rows (``ud``) for the partial months at its edges. A partial month
is read either directly (its days in the period, added) or as the month row minus the
month's days outside the period, whichever reads fewer days that can hold data (days after
``today`` hold none): so "this cycle" on the 25th reads November's month rows minus five
empty days. The other team-wide breakdowns read day rows per model (``md``, ~20 a day).
A report for one person reads ``usage_rollup`` through its (user, day) index.
"""

from __future__ import annotations

import calendar
from dataclasses import dataclass
from datetime import date, timedelta

from ledger.coarse_rollups import MODEL_DAY, USER_DAY, USER_MONTH


@dataclass(frozen=True)
class Piece:
    """Rows of one grain with ``first <= day <= last``, added (sign 1) or taken away (-1)."""

    grain: str
    first: date
    last: date
    sign: int = 1


def _month_end(day: date) -> date:
    return day.replace(day=calendar.monthrange(day.year, day.month)[1])


def _days_with_data(first: date, last: date, today: date) -> int:
    """Days in [first, last] on or before ``today`` (later days hold no events yet)."""
    return max(0, (min(last, today) - first).days + 1)


def user_pieces(start: date, end: date, today: date) -> list[Piece]:
    """Pieces summing to the ``ud`` rows of [start, end], reading month rows where cheaper."""
    pieces: list[Piece] = []
    month = start.replace(day=1)
    while month <= end:
        month_end = _month_end(month)
        first, last = max(start, month), min(end, month_end)
        direct = _days_with_data(first, last, today)
        before = _days_with_data(month, first - timedelta(days=1), today)
        after = _days_with_data(last + timedelta(days=1), month_end, today)
        if before + after < direct:
            pieces.append(Piece(USER_MONTH, month, month))
            if first > month:
                pieces.append(Piece(USER_DAY, month, first - timedelta(days=1), -1))
            if last < month_end:
                pieces.append(Piece(USER_DAY, last + timedelta(days=1), month_end, -1))
        else:
            pieces.append(Piece(USER_DAY, first, last))
        month = month_end + timedelta(days=1)
    return pieces


def team_pieces(start: date, end: date) -> list[Piece]:
    """Pieces for a team-wide report by model, day or kind: the per-model day rows."""
    return [Piece(MODEL_DAY, start, end)]
