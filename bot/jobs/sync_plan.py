"""Which sync a connection is due, and when the scheduler runs the next of each kind.

Pure functions of the clock, the connection's last syncs and the cadence:

- a **light** sync (``SyncKind.LIGHT``) every ``light_every``, on the hour (its ticks are
  the multiples of ``light_every`` since the Unix epoch, so hourly syncs run at HH:00 UTC
  and read every hour Cursor has aggregated);
- a **deep** sync once a day, at the first tick at or after ``deep_hour`` o'clock in the
  workspace's reporting timezone. A deep sync also does a light one's work, so the tick
  that is due a deep sync runs only that. One that was missed (the bot was down) is due
  until one has run: the next tick, or the sweep, catches it up.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo

from apscheduler.triggers.base import BaseTrigger

from bot.jobs.due import due_at
from ledger.models import SyncKind

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
#: A sync that started this much before its moment still counts for it (replicas' clocks
#: and the sweep fire about, never exactly, on time).
DUE_TOLERANCE = timedelta(minutes=5)


@dataclass(frozen=True)
class SyncCadence:
    light_every: timedelta = timedelta(hours=1)
    #: The local hour (0-23, reporting timezone) the daily deep sync is due from.
    deep_hour: int = 3


@dataclass(frozen=True)
class LastSyncs:
    """Starts of a connection's latest syncs that finished or are running (None: never)."""

    any: datetime | None
    deep: datetime | None
    timezone: str = "UTC"


def tick_at_or_after(moment: datetime, every: timedelta) -> datetime:
    """The first multiple of ``every`` since the epoch at or after ``moment``."""
    steps = -((_EPOCH - moment.astimezone(UTC)) // every)  # ceiling division
    return _EPOCH + steps * every


def deep_moment(now: datetime, cadence: SyncCadence, timezone: str) -> datetime:
    """The latest instant at or before ``now`` that a deep sync was due from."""
    tz = ZoneInfo(timezone)
    today = now.astimezone(tz).date()
    moment = due_at(today, time(cadence.deep_hour), tz)
    if moment > now:
        moment = due_at(today - timedelta(days=1), time(cadence.deep_hour), tz)
    return moment


def next_deep_moment(now: datetime, cadence: SyncCadence, timezone: str) -> datetime:
    """The first instant after ``now`` that a deep sync falls due."""
    tz = ZoneInfo(timezone)
    day = now.astimezone(tz).date()
    for ahead in range(3):
        moment = due_at(day + timedelta(days=ahead), time(cadence.deep_hour), tz)
        if moment > now:
            return moment
    raise AssertionError("a local hour occurs every day")  # pragma: no cover


def deep_due(last: LastSyncs, now: datetime, cadence: SyncCadence) -> bool:
    """No deep sync since the latest moment one was due (less the tolerance)."""
    moment = deep_moment(now, cadence, last.timezone)
    return last.deep is None or last.deep < moment - DUE_TOLERANCE


def light_due(last: LastSyncs, now: datetime, cadence: SyncCadence) -> bool:
    """No sync of any kind for ``light_every`` less the tolerance."""
    return last.any is None or now - last.any >= cadence.light_every - DUE_TOLERANCE


def due_kind(last: LastSyncs, now: datetime, cadence: SyncCadence) -> SyncKind | None:
    """The sync a connection is due now: deep first (it does a light one's work too)."""
    if deep_due(last, now, cadence):
        return SyncKind.DEEP
    if light_due(last, now, cadence):
        return SyncKind.LIGHT
    return None


def first_tick(last_any: datetime | None, now: datetime, cadence: SyncCadence) -> datetime:
    """When a new sync job first runs: at once if never synced or overdue, else on the
    tick one interval after the latest sync."""
    if last_any is None:
        return now
    planned = tick_at_or_after(last_any + cadence.light_every - DUE_TOLERANCE, cadence.light_every)
    return max(now, planned)


@dataclass(frozen=True)
class NextSyncs:
    light: datetime
    deep: datetime


def next_syncs(
    next_run: datetime, last: LastSyncs, now: datetime, cadence: SyncCadence
) -> NextSyncs:
    """The next light and deep syncs, given the job's next run: a deep sync overdue runs
    then; otherwise at the first tick at or after the next deep moment."""
    if deep_due(last, now, cadence):
        return NextSyncs(next_run, next_run)
    moment = next_deep_moment(now, cadence, last.timezone)
    if moment <= next_run:
        return NextSyncs(next_run, next_run)
    return NextSyncs(next_run, tick_at_or_after(moment, cadence.light_every))


def cadence_notes(cadence: SyncCadence) -> list[str]:
    """What the process says at start-up about its syncs; the second line only when
    ``STACKSPEND_SYNC_INTERVAL_HOURS`` still holds a value from before light syncs."""
    hours = cadence.light_every.total_seconds() / 3600
    notes = [
        f"syncs: light every {hours:g} h on the hour, deep daily at "
        f"{cadence.deep_hour:02d}:00 in each workspace's reporting timezone"
    ]
    if cadence.light_every >= timedelta(hours=24):
        notes.append(
            f"STACKSPEND_SYNC_INTERVAL_HOURS={hours:g} now sets how often the light sync runs "
            "(default 1); the deep sync (STACKSPEND_SYNC_DEEP_HOUR) re-reads what the single "
            "sync did. Unset it for `today` answers fresh within the hour."
        )
    return notes


class TickTrigger(BaseTrigger):  # type: ignore[misc]  # APScheduler 3 is untyped
    """APScheduler trigger firing at the multiples of ``every`` since the epoch (UTC)."""

    def __init__(self, every: timedelta) -> None:
        self.every = every

    def get_next_fire_time(
        self, previous_fire_time: datetime | None, now: datetime
    ) -> datetime | None:
        if previous_fire_time is None:
            return tick_at_or_after(now, self.every)
        return tick_at_or_after(previous_fire_time + timedelta(microseconds=1), self.every)

    def __str__(self) -> str:
        return f"every {self.every} on the tick"
