"""The label tables and small phrases every rendering shares (one home for each).

Ledger facts carry codes (``"cursor"``, ``"cycle"``); these turn them into words.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from digests.format import dollars

PROVIDER_NAMES = {"cursor": "Cursor"}
#: A budget's period, as in "the billing cycle ends Nov 30".
PERIOD_LABELS = {
    "cycle": "billing cycle",
    "month": "month",
    "week": "week",
    "day": "day",
}
#: Who an alert or a budget is about when it is the whole team.
TEAM = "the team"


def provider_name(provider: str) -> str:
    """``Cursor`` for ``cursor``; an unknown provider keeps its code, capitalised."""
    return PROVIDER_NAMES.get(provider, provider.capitalize())


def period_label(period: str) -> str:
    return PERIOD_LABELS.get(period, period)


def short_day(day: date) -> str:
    """``Wed Nov 25``."""
    return f"{day:%a} {day:%b} {day.day}"


def pace(weekday_cents: Decimal, weekend_cents: Decimal) -> str:
    """``$5.00 a day``, or ``$7.00 a weekday, $1.00 a weekend day`` when they differ."""
    if weekday_cents == weekend_cents:
        return f"{dollars(weekday_cents)} a day"
    return f"{dollars(weekday_cents)} a weekday, {dollars(weekend_cents)} a weekend day"
