"""How fresh the figures are, in words: "Data as of 14:00" in the reporting timezone.

``as_of`` is the newest synced instant (``sync_state.events_synced_to``): the last
millisecond of the latest hour Cursor had aggregated, so 13:59:59.999 reads "14:00".
"""

from __future__ import annotations

from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

_ONE_MS = timedelta(milliseconds=1)


def as_of_clock(as_of: datetime, timezone: str) -> str:
    """``HH:MM`` of the instant the data reaches, in ``timezone``."""
    local = (as_of + _ONE_MS).astimezone(ZoneInfo(timezone))
    return local.strftime("%H:%M")


def data_as_of(as_of: datetime | None, timezone: str, today: date | None = None) -> str:
    """ "Data as of 14:00 (CET)", with the local date when it is not ``today``."""
    if as_of is None:
        return "No data synced yet"
    local = (as_of + _ONE_MS).astimezone(ZoneInfo(timezone))
    day = "" if today is not None and local.date() == today else f" on {local:%a %d %b}"
    return f"Data as of {local:%H:%M}{day} ({local:%Z})"


def refreshing_note(as_of: datetime | None, timezone: str, today: date | None = None) -> str:
    """What a reply sent on the data there is says while a sync brings newer hours."""
    return (
        f":hourglass_flowing_sand: {data_as_of(as_of, timezone, today)}: newer hours are "
        "being fetched from Cursor, and this reply updates itself when they are in."
    )
