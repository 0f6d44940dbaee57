"""Which days of daily usage data a sync reads.

Each run re-reads the last ``days`` days (Cursor revises recent ones). The first run
reads back to where the usage history starts, and a run after a gap reads back to a
little before the previous run, so no day is skipped; never more than ``max_days``.
"""

from __future__ import annotations

from datetime import datetime, timedelta

#: How far before the previous run a run re-reads (Cursor revises the last two days).
REREAD = timedelta(days=2)


def activity_start(
    end: datetime,
    *,
    synced_at: datetime | None,
    history_start: datetime | None,
    days: int,
    max_days: int,
) -> datetime:
    """The first instant of daily activity to read for a run ending at ``end``."""
    recent = end - timedelta(days=days)
    if synced_at is not None:
        start = min(recent, synced_at - REREAD)
    else:
        start = min(recent, history_start) if history_start is not None else recent
    return max(start, end - timedelta(days=max_days))
