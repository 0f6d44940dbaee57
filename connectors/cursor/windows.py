"""Time windows for Cursor requests: epoch milliseconds, inclusive bounds.

Data is aggregated hourly, so a window never reaches into the current hour, and
no request may span more than 30 days.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

from connectors.cursor.endpoints import MAX_RANGE_DAYS

DAY_MS = 86_400_000
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_ONE_MS = timedelta(milliseconds=1)


def to_ms(moment: datetime) -> int:
    """Epoch milliseconds of an aware datetime (sub-millisecond parts dropped)."""
    if moment.tzinfo is None:
        raise ValueError("naive datetime: pass a timezone-aware (UTC) datetime")
    return (moment - _EPOCH) // _ONE_MS


def from_ms(epoch_ms: int) -> datetime:
    return _EPOCH + epoch_ms * _ONE_MS


def start_of_hour(now: datetime) -> datetime:
    return now.astimezone(UTC).replace(minute=0, second=0, microsecond=0)


def settled_end(now: datetime) -> datetime:
    """The last millisecond whose data Cursor has aggregated: just before this hour."""
    return start_of_hour(now) - _ONE_MS


def split_window(
    start_ms: int, end_ms: int, *, max_days: int = MAX_RANGE_DAYS
) -> Iterator[tuple[int, int]]:
    """Consecutive inclusive ``(start, end)`` windows covering ``[start_ms, end_ms]``.

    Oldest first, each spanning at most ``max_days`` days, so that a caller can
    record progress window by window.
    """
    span = max_days * DAY_MS
    lower = start_ms
    while lower <= end_ms:
        upper = min(end_ms, lower + span - 1)
        yield lower, upper
        lower = upper + 1
