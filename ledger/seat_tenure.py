"""Who held a paid Cursor seat on which local days: pure rules over members and changes.

A member held a seat from the day they were seen joining (or from before tracking
began, for people in the first members snapshot) to the day they were seen leaving
(inclusive), or to now. People already removed in the first snapshot held a seat up to
their last active day in Cursor's daily usage data, if they have one. Owners and plain
members hold paid seats; ``free-owner`` (an unpaid admin, reference section 6.1) does not.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date

from ledger.seat_models import SeatChangeKind

#: Roles that hold no paid seat.
UNPAID_ROLES = frozenset({"free-owner", "removed"})


def is_paid_role(role: str) -> bool:
    return role.strip().lower() not in UNPAID_ROLES


@dataclass(frozen=True)
class Tenure:
    """Days a seat was held: ``start`` None means before tracking, ``end`` None means now."""

    start: date | None
    end: date | None

    def overlap(self, first: date, last: date) -> int:
        """How many of the days ``[first, last]`` the seat was held."""
        lo = first if self.start is None else max(first, self.start)
        hi = last if self.end is None else min(last, self.end)
        return max(0, (hi - lo).days + 1)

    def holds(self, day: date) -> bool:
        return self.overlap(day, day) == 1


def tenures(
    *,
    is_removed: bool,
    changes: Iterable[tuple[date, SeatChangeKind]],
    last_active: date | None,
) -> tuple[Tenure, ...]:
    """A member's seats, oldest first, from their changes (in the order they happened)."""
    ordered = list(changes)
    if not ordered:
        if not is_removed:
            return (Tenure(None, None),)
        return (Tenure(None, last_active),) if last_active is not None else ()
    held: list[Tenure] = []
    seated = ordered[0][1] is SeatChangeKind.LEFT
    start: date | None = None
    for day, kind in ordered:
        if kind is SeatChangeKind.JOINED and not seated:
            seated, start = True, day
        elif kind is SeatChangeKind.LEFT and seated:
            held.append(Tenure(start, day))
            seated = False
    if seated:
        held.append(Tenure(start, None))
    return tuple(held)


def seat_days(held: Iterable[Tenure], first: date, last: date) -> int:
    return sum(tenure.overlap(first, last) for tenure in held)


def tenure_on(held: Iterable[Tenure], day: date) -> Tenure | None:
    return next((tenure for tenure in held if tenure.holds(day)), None)
