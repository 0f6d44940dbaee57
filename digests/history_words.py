"""Where a connection's history starts and from which source, in words."""

from __future__ import annotations

from datetime import date, datetime
from zoneinfo import ZoneInfo

from ledger.import_join import History
from ledger.period_spans import days_before
from ledger.periods import Period


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


def first_local_day(
    history: History | None, history_start: datetime | None, tz: str
) -> date | None:
    """The first local day the ledger has data for (imports included), None when unknown."""
    start = history.start if history is not None and history.start else history_start
    return start.astimezone(ZoneInfo(tz)).date() if start else None


def gap_words(
    period: Period,
    history: History | None,
    history_start: datetime | None,
    tz: str,
    subject: str = "this period",
) -> str:
    """``history starts Oct 29; the first 12 days of this period have no data``, or "" when
    the period lies within the history (or the history's start is unknown); ``subject`` names
    the period (``it`` in a sentence that has named it already)."""
    first = first_local_day(history, history_start, tz)
    missing = days_before(period, first)
    if not missing or first is None:
        return ""
    starts = f"history starts {first:%b} {first.day}"
    if first.year != period.end.year:
        starts += f" {first.year}"
    if missing >= period.days:
        return f"{starts}; {subject} has no data (it ends before then)"
    days = "day" if missing == 1 else f"{missing} days"
    return f"{starts}; the first {days} of {subject} have no data"


def period_gap(
    period: Period, history: History | None, history_start: datetime | None, tz: str
) -> tuple[int, str]:
    """(days of ``period`` before the history, the same in words or "") for a report's JSON
    (``days_before_history``, ``history_note``) and its notes."""
    first = first_local_day(history, history_start, tz)
    return days_before(period, first), gap_words(period, history, history_start, tz)


def gap_note(words: str) -> str:
    """``words`` (from ``gap_words``) as a Slack context note."""
    return f":warning: {words[0].upper()}{words[1:]}." if words else ""
