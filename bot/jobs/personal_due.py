"""When a personal line is due: pure functions of a subscription, two timezones and the clock.

A line covers the person's own period: *daily*, their local yesterday; *weekly*, their
local last week (Monday to Sunday). It is due at the person's chosen local time on the
day after the period, but never before the period has ended in the workspace's
reporting timezone too, because the ledger counts days in that timezone: a line never
shows a day that is still going on. Where the two timezones agree (the usual case) the
line goes out at the chosen time; someone far east of the workspace's timezone (say in
``Pacific/Kiritimati`` with a ``UTC`` workspace) gets it when the day has ended there.

A local time that a DST change skips moves forward an hour (``bot.jobs.due.due_at``);
one that happens twice is taken the first time.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from bot.jobs.due import due_at
from ledger.personal_models import LineCadence

#: The local time of day lines are sent when the person names none.
DEFAULT_LOCAL_TIME = time(9, 0)
#: How many periods back the last due occurrence is looked for.
_LOOK_BACK = 4


@dataclass(frozen=True)
class LineOccurrence:
    """One line: the person's period (inclusive local days) and when it is due (UTC)."""

    first: date
    last: date
    due_at: datetime


def period_ending_before(cadence: LineCadence, day: date) -> tuple[date, date]:
    """The period a line sent on ``day`` covers: the day before, or the week before."""
    if cadence is LineCadence.DAILY:
        yesterday = day - timedelta(days=1)
        return yesterday, yesterday
    monday = day - timedelta(days=day.weekday())
    return monday - timedelta(days=7), monday - timedelta(days=1)


def occurrence(
    first: date, last: date, at: time, person: ZoneInfo, ledger: ZoneInfo
) -> LineOccurrence:
    """The line of period ``first``..``last``: due at ``at`` on the next day in ``person``'s
    timezone, or when the period has ended in the ledger's, whichever is later."""
    after = last + timedelta(days=1)
    local = due_at(after, at, person)
    closed = due_at(after, time(0, 0), ledger)
    return LineOccurrence(first, last, max(local, closed))


def last_occurrence(
    cadence: LineCadence, at: time, person: ZoneInfo, ledger: ZoneInfo, now: datetime
) -> LineOccurrence | None:
    """The most recent line due at or before ``now``."""
    today = now.astimezone(person).date()
    step = timedelta(days=1 if cadence is LineCadence.DAILY else 7)
    for back in range(_LOOK_BACK):
        first, last = period_ending_before(cadence, today - step * back)
        line = occurrence(first, last, at, person, ledger)
        if line.due_at <= now:
            return line
    return None


def line_key(workspace_id: int, user_id: str, cadence: LineCadence, first: date) -> str:
    """The delivery key of a person's line for the period starting ``first``: once each."""
    return f"personal:{workspace_id}:{user_id}:{cadence.value}:{first.isoformat()}"


def next_occurrence(
    cadence: LineCadence, at: time, person: ZoneInfo, ledger: ZoneInfo, now: datetime
) -> LineOccurrence:
    """The first line due after ``now`` (what a person who subscribes now gets first)."""
    today = now.astimezone(person).date()
    step = timedelta(days=1 if cadence is LineCadence.DAILY else 7)
    first, last = period_ending_before(cadence, today)
    while True:
        line = occurrence(first, last, at, person, ledger)
        if line.due_at > now:
            return line
        first, last = first + step, last + step
