"""Which rollup rows answer a report: pure planning, no I/O.

A team-wide report by user reads the coarse table's user rows at two grains: local months
(``um``) and days (``ud``). A period is cut into the months it touches; a part of a month
is read either directly, from its days, or as the month row minus the month's days outside
the period, whichever reads fewer rows (``WEIGHT``; days after ``today`` hold no rows yet).
So "this cycle" on the 25th reads November's month rows minus five empty days. The pieces
are summed in one statement (``ledger.queries``). A third grain (thirds of a month) was
measured and dropped: no faster for cycles starting mid-month, and a fifth more ingest
cost.
The other team-wide breakdowns read day rows per model (``md``, ~20 a day). A report for
one person reads ``usage_rollup`` through its (user, day) index.
"""

from __future__ import annotations

import calendar
from dataclasses import dataclass
from datetime import date, timedelta

from ledger.coarse_rollups import MODEL_DAY, USER_DAY, USER_MONTH

#: Rows a block of each grain holds, relative to a day's (1,000 members: ~760 day rows,
#: ~2,400 per month: members active on most days, and in several kinds a month).
WEIGHT = {USER_DAY: 1.0, USER_MONTH: 3.2}
_ONE_DAY = timedelta(days=1)


@dataclass(frozen=True)
class Piece:
    """Rows of one grain whose block starts in [first, last], added (sign 1) or taken
    away (sign -1)."""

    grain: str
    first: date
    last: date
    sign: int = 1


def block_last(grain: str, first: date) -> date:
    """The last day of the block of ``grain`` that starts on ``first``."""
    if grain == USER_DAY:
        return first
    return first.replace(day=calendar.monthrange(first.year, first.month)[1])


def _children(grain: str, first: date) -> tuple[str, list[date]]:
    days = (block_last(grain, first) - first).days + 1
    return USER_DAY, [first + timedelta(days=i) for i in range(days)]


Plan = tuple[float, list[Piece]]


def _plan(grain: str, first: date, start: date, end: date, sign: int, today: date) -> Plan:
    """The cheapest pieces summing to the ``ud`` rows of [start, end], a part of the block
    of ``grain`` starting on ``first``, each counted ``sign`` times."""
    whole: Plan = (WEIGHT[grain] if first <= today else 0.0, [Piece(grain, first, first, sign)])
    last = block_last(grain, first)
    if (start, end) == (first, last):
        return whole
    child, firsts = _children(grain, first)

    def over(ranges: list[tuple[date, date]], sign: int) -> Plan:
        cost, pieces = 0.0, []
        for child_first in firsts:
            child_last = block_last(child, child_first)
            for low, high in ranges:
                low, high = max(low, child_first), min(high, child_last)
                if low <= high:
                    more, found = _plan(child, child_first, low, high, sign, today)
                    cost += more
                    pieces += found
        return cost, pieces

    direct = over([(start, end)], sign)
    outside = _outside(first, start, end, last)
    cost, taken = over([(low, high) for low, high in outside if low <= high], -sign)
    if whole[0] + cost < direct[0]:
        return whole[0] + cost, whole[1] + taken
    return direct


def _outside(first: date, start: date, end: date, last: date) -> list[tuple[date, date]]:
    """The block's days outside ``start..end`` (none before ``date.min``, none after
    ``date.max``: the calendar has no days there)."""
    ranges = []
    if start > date.min:
        ranges.append((first, start - _ONE_DAY))
    if end < date.max:
        ranges.append((end + _ONE_DAY, last))
    return ranges


def _merged(pieces: list[Piece]) -> list[Piece]:
    """Adjacent blocks of one grain and sign read as one range (fewer queries)."""
    merged: list[Piece] = []
    for piece in sorted(pieces, key=lambda p: (p.grain, p.sign, p.first)):
        previous = merged[-1] if merged else None
        if (
            previous is not None
            and (previous.grain, previous.sign) == (piece.grain, piece.sign)
            and block_last(piece.grain, previous.last) + _ONE_DAY == piece.first
        ):
            merged[-1] = Piece(piece.grain, previous.first, piece.last, piece.sign)
        else:
            merged.append(piece)
    return merged


def user_pieces(start: date, end: date, today: date) -> list[Piece]:
    """Pieces summing to the ``ud`` rows of [start, end]."""
    pieces: list[Piece] = []
    month = start.replace(day=1)
    while month <= end:
        last = block_last(USER_MONTH, month)
        pieces += _plan(USER_MONTH, month, max(start, month), min(end, last), 1, today)[1]
        if last == date.max:  # the calendar ends there
            break
        month = last + _ONE_DAY
    return _merged(pieces)


def team_pieces(start: date, end: date) -> list[Piece]:
    """Pieces for a team-wide report by model, day or kind: the per-model day rows."""
    return [Piece(MODEL_DAY, start, end)]
