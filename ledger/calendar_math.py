"""Calendar arithmetic on local days: months, quarters, weeks (Monday first), clamped.

Pure functions of ``datetime.date``; no clock, no timezone (a local day is already in the
workspace's reporting timezone).
"""

from __future__ import annotations

import calendar
from datetime import date, timedelta

MONTHS = (
    "january", "february", "march", "april", "may", "june",
    "july", "august", "september", "october", "november", "december",
)  # fmt: skip
WEEKDAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")


def month_end(year: int, month: int) -> date:
    return date(year, month, calendar.monthrange(year, month)[1])


def add_months(day: date, months: int) -> date:
    """``day`` moved by whole months, clamped to the target month's last day."""
    index = day.year * 12 + day.month - 1 + months
    year, month = divmod(index, 12)
    last = calendar.monthrange(year, month + 1)[1]
    return date(year, month + 1, min(day.day, last))


def week_start(day: date) -> date:
    """The Monday of ``day``'s week (weeks start on Monday, as ISO 8601 has them)."""
    return day - timedelta(days=day.weekday())


def quarter_of(day: date) -> int:
    return (day.month - 1) // 3 + 1


def quarter_start(year: int, quarter: int) -> date:
    return date(year, 3 * quarter - 2, 1)


def quarter_end(year: int, quarter: int) -> date:
    return month_end(year, 3 * quarter)


def latest_weekday(today: date, weekday: int) -> date:
    """The most recent day (today included) that falls on ``weekday`` (0: Monday)."""
    return today - timedelta(days=(today.weekday() - weekday) % 7)


def month_number(word: str) -> int | None:
    """1..12 for a month's name or its first three letters (``sept`` too), else None."""
    for number, name in enumerate(MONTHS, start=1):
        if word == name or (len(word) >= 3 and name.startswith(word)):
            return number
    return None


def weekday_number(word: str) -> int | None:
    for number, name in enumerate(WEEKDAYS):
        if word in (name, name[:3], f"{name}s"):
            return number
    return None


def days_back(day: date, days: int) -> date:
    """``days`` before ``day``, or the calendar's first day when that is further back."""
    return day - timedelta(days=days) if (day - date.min).days >= days else date.min
