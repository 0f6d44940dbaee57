"""Which local days of a member count in which billing group: pure logic, no I/O.

Rollups are kept per local day (the workspace's timezone), so a member's usage is given
to groups day by day: **a day counts in the group the member was in at the end of it**
(the day of a move counts in the new group; a day a member left a group for none counts
in Unassigned). A stay is read as Cursor listed it for one billing cycle and only counts
within that cycle. Each day goes to exactly one group, so the groups and Unassigned add up
to the team's total, and a member moved mid-cycle is split exactly at the day of the move.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

_DAY = timedelta(days=1)


@dataclass(frozen=True)
class StayRow:
    """A stay as kept: its cycle's bounds, the group, who, from and until when."""

    cycle_start: datetime
    cycle_end: datetime
    group_id: str
    email: str
    joined_at: datetime
    left_at: datetime | None


@dataclass(frozen=True)
class DayRange:
    group_id: str
    first: date
    last: date

    def covers(self, day: date) -> bool:
        return self.first <= day <= self.last


def stay_days(stay: StayRow, tz: ZoneInfo) -> tuple[date, date] | None:
    """The local days the stay counts for: each day whose end falls inside it."""
    start = max(stay.joined_at, stay.cycle_start)
    end = stay.cycle_end if stay.left_at is None else min(stay.left_at, stay.cycle_end)
    if end <= start:
        return None
    first = start.astimezone(tz).date()
    last = end.astimezone(tz).date() - _DAY  # the last day whose end (midnight) <= end
    return (first, last) if first <= last else None


def member_days(
    stays: list[StayRow], tz: ZoneInfo, first: date, last: date
) -> dict[str, list[DayRange]]:
    """Per member, the day ranges within [first, last] in each group, adjacent ranges of
    one group merged (a year in one group is one range, whatever the cycles)."""
    ranges: dict[str, list[DayRange]] = defaultdict(list)
    for stay in stays:
        days = stay_days(stay, tz)
        if days is None:
            continue
        low, high = max(days[0], first), min(days[1], last)
        if low <= high:
            ranges[stay.email].append(DayRange(stay.group_id, low, high))
    return {email: _merged(found) for email, found in ranges.items()}


def _merged(ranges: list[DayRange]) -> list[DayRange]:
    merged: list[DayRange] = []
    for item in sorted(ranges, key=lambda r: (r.first, r.last)):
        previous = merged[-1] if merged else None
        same = previous is not None and previous.group_id == item.group_id
        if previous is not None and same and item.first <= previous.last + _DAY:
            merged[-1] = DayRange(item.group_id, previous.first, max(previous.last, item.last))
            continue
        if previous is not None and item.first <= previous.last:
            # Overlapping stays of different groups (Cursor says this cannot happen): the
            # later stay wins from its first day.
            merged[-1] = DayRange(previous.group_id, previous.first, item.first - _DAY)
            if merged[-1].last < merged[-1].first:
                merged.pop()
        merged.append(item)
    return merged


def group_of(ranges: list[DayRange], day: date) -> str | None:
    for item in ranges:
        if item.covers(day):
            return item.group_id
    return None


def whole_group(ranges: list[DayRange], first: date, last: date) -> str | None:
    """The group a member was in on every day of [first, last], if one."""
    if len(ranges) == 1 and (ranges[0].first, ranges[0].last) == (first, last):
        return ranges[0].group_id
    return None
