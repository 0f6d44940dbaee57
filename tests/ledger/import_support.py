"""Helpers for tests of imported history: the simulator's events as an export would give
them, its truth per local day, and the ledger's per day (rollups and raw rows)."""

from __future__ import annotations

import io
from datetime import date, datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

from sqlalchemy import func, select

from connectors.cursor.csv_export import ExportReader
from connectors.cursor.sim_export import export_bytes
from connectors.cursor.simulator import CursorSimulator, wire_charge
from connectors.cursor.windows import settled_end
from connectors.records import UsageEvent
from ledger.db import session_scope
from ledger.event_rows import EVENTS
from ledger.rollups import ROLLUPS
from ledger.sync import SyncOptions, SyncOutcome, sync_connection
from ledger.types import quantize_money
from tests.ledger.support import Team


def exported_events(sim: CursorSimulator, start: datetime, end: datetime) -> list[UsageEvent]:
    """The simulator's events in [start, end] through its CSV export and the export's
    reader (keys never equal to an API key), oldest first."""
    data = export_bytes(sim, start, end + timedelta(milliseconds=1), newest_first=False)
    reader = ExportReader(io.BytesIO(data))
    events = [event for batch in reader.batches() for event in batch]
    assert reader.bad_count == 0, reader.bad_rows
    return events


def truth_by_day(team: Team, tz: str = "UTC", days: int = 40) -> dict[date, Decimal]:
    """The simulator's charge per local day, each event rounded as the ledger stores it."""
    end = settled_end(team.clock.now)
    totals: dict[date, Decimal] = {}
    zone = ZoneInfo(tz)
    for event in team.sim.wire_events(end - timedelta(days=days), end):
        moment = datetime.fromtimestamp(int(event["timestamp"]) / 1000, zone)
        day = moment.date()
        totals[day] = totals.get(day, Decimal(0)) + quantize_money(wire_charge(event))
    return totals


def ledger_by_day(team: Team) -> dict[date, Decimal]:
    query = (
        select(ROLLUPS.c.day, func.sum(ROLLUPS.c.charged_cents))
        .where(ROLLUPS.c.connection_id == team.connection_id)
        .group_by(ROLLUPS.c.day)
    )
    with session_scope(team.engine) as session:
        rows = session.execute(query).all()
    return {day: Decimal(total) for day, total in rows if Decimal(total) != 0}


def raw_by_source(team: Team) -> dict[str, tuple[int, Decimal]]:
    """source -> (rows, charged cents) of the raw events."""
    query = (
        select(EVENTS.c.source, func.count(), func.sum(EVENTS.c.charged_cents))
        .where(EVENTS.c.connection_id == team.connection_id)
        .group_by(EVENTS.c.source)
    )
    with session_scope(team.engine) as session:
        return {s: (n, Decimal(c)) for s, n, c in session.execute(query).all()}


def sync_a_week(team: Team) -> SyncOutcome:
    """A sync whose API reaches a week back only (as Cursor's does)."""
    access = team.access()
    try:
        return sync_connection(
            team.engine,
            connection_id=team.connection_id,
            source_for_key=access.source,
            box=team.box,
            now=team.clock.now,
            options=SyncOptions(max_history_days=7),
        )
    finally:
        access.close()
