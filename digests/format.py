"""Small pure formatters shared by every rendering: money, counts, bars, instants."""

from __future__ import annotations

from datetime import datetime
from decimal import ROUND_HALF_UP, Decimal
from zoneinfo import ZoneInfo

_CENT = Decimal(1)
_BAR_CELLS = "▏▎▍▌▋▊▉█"


def dollars(cents: Decimal) -> str:
    """``$1,234.57`` from cents (rounded half up to the cent)."""
    whole = cents.quantize(_CENT, rounding=ROUND_HALF_UP)
    sign = "-" if whole < 0 else ""
    value = abs(whole) / 100
    return f"{sign}${value:,.2f}"


def json_cents(cents: Decimal) -> float:
    """Cents as a JSON number, kept to a millionth of a cent."""
    return float(cents.quantize(Decimal("0.000001")))


def compact(count: int) -> str:
    """``12.3M``, ``4.5k``, ``950``."""
    for limit, suffix in ((1_000_000_000, "B"), (1_000_000, "M"), (1_000, "k")):
        if abs(count) >= limit:
            return f"{count / limit:.1f}{suffix}"
    return str(count)


def bar(value: Decimal, largest: Decimal, width: int = 12) -> str:
    """A bar of ``width`` cells at most, in eighths of a cell."""
    if largest <= 0 or value <= 0:
        return ""
    eighths = int((value / largest) * width * 8)
    full, rest = divmod(max(eighths, 1), 8)
    return "█" * full + (_BAR_CELLS[rest - 1] if rest else "")


def share(value: Decimal, total: Decimal) -> str:
    if total <= 0:
        return "0%"
    return f"{(value / total * 100):.0f}%"


def local_time(moment: datetime | None, timezone: str) -> str:
    if moment is None:
        return "never"
    return moment.astimezone(ZoneInfo(timezone)).strftime("%Y-%m-%d %H:%M %Z")
