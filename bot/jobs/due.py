"""When a digest is due: pure functions of a schedule, its timezone and the clock."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from ledger.models import Cadence

WEEKDAYS = (
    Cadence.MON,
    Cadence.TUE,
    Cadence.WED,
    Cadence.THU,
    Cadence.FRI,
    Cadence.SAT,
    Cadence.SUN,
)


@dataclass(frozen=True)
class Occurrence:
    local_date: date
    due_at: datetime  # UTC


def runs_on(cadence: Cadence, day: date) -> bool:
    if cadence is Cadence.DAILY:
        return True
    if cadence is Cadence.WEEKDAYS:
        return day.weekday() < 5
    return WEEKDAYS.index(cadence) == day.weekday()


def due_at(day: date, at: time, tz: ZoneInfo) -> datetime:
    """The instant ``at`` o'clock on ``day`` in ``tz`` (a time skipped by DST moves forward)."""
    local = datetime.combine(day, at, tz)
    round_trip = local.astimezone(ZoneInfo("UTC")).astimezone(tz)
    if round_trip.replace(tzinfo=None) != local.replace(tzinfo=None):
        local = local + timedelta(hours=1)  # in the spring-forward gap
    return local.astimezone(ZoneInfo("UTC"))


def last_occurrence(cadence: Cadence, at: time, tz: ZoneInfo, now: datetime) -> Occurrence | None:
    """The most recent time the schedule was due at or before ``now`` (within 8 days)."""
    today = now.astimezone(tz).date()
    for back in range(8):
        day = today - timedelta(days=back)
        if runs_on(cadence, day):
            moment = due_at(day, at, tz)
            if moment <= now:
                return Occurrence(day, moment)
    return None


def cron_fields(cadence: Cadence) -> str:
    """APScheduler ``day_of_week`` for a cadence."""
    if cadence is Cadence.DAILY:
        return "*"
    if cadence is Cadence.WEEKDAYS:
        return "mon-fri"
    return cadence.value
