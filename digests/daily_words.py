"""Small wordings the daily digest shares between composing and its templates."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import ROUND_HALF_UP, Decimal

from digests.daily_types import Delta, Direction

_TENTH = Decimal("0.1")


def percent(part: Decimal, whole: Decimal) -> Decimal:
    """``part`` as a percentage of ``whole`` to a tenth (0 when ``whole`` is not positive)."""
    if whole <= 0:
        return Decimal(0)
    return (part / whole * 100).quantize(_TENTH, rounding=ROUND_HALF_UP)


def short_date(day: date) -> str:
    return f"{day:%b} {day.day}"


def ago(span: timedelta) -> str:
    hours = int(span.total_seconds() // 3600)
    if hours < 48:
        return f"{hours} hours"
    return f"{hours // 24} days"


def change_words(change: Delta, against: str) -> str:
    if change.direction is None:
        return "no comparison yet"
    if change.percent is None:
        return f"up from nothing vs {against}"
    if change.direction is Direction.FLAT:
        return f"flat vs {against}"
    arrow = "▲" if change.direction is Direction.UP else "▼"
    return f"{arrow} {abs(change.percent):.0f}% vs {against}"
