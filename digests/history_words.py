"""Where a connection's history starts and from which source, in words."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from ledger.import_join import History


def local_day(moment: datetime, tz: str) -> str:
    return str(moment.astimezone(ZoneInfo(tz)).date())


def history_words(history: History | None, history_start: datetime | None, tz: str) -> str:
    """``history since 2026-08-03 (imported CSV to 2026-11-17, then the API)``, or the plain
    ``history since …`` without imports; "" when nothing is known."""
    if history is None or history.start is None:
        return f"history since {local_day(history_start, tz)}" if history_start else ""
    words = f"history since {local_day(history.start, tz)}"
    if history.imported_end is not None and history.api_start is not None:
        words += f" (imported CSV to {local_day(history.imported_end, tz)}, then the API)"
    elif history.imported_end is not None:
        words += f" (imported CSV to {local_day(history.imported_end, tz)}; not synced yet)"
    return words
