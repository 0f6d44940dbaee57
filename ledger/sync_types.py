"""What a sync works with: its source, its options and the outcome it reports."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Protocol, runtime_checkable

from connectors.cursor.source import EventPage, SpendSnapshot
from connectors.records import DailyActivity, MemberSnapshot
from ledger.ingest import IngestResult
from ledger.lease import DEFAULT_TTL
from ledger.models import SyncKind, SyncStatus


class Source(Protocol):
    """What a sync needs from a provider (``connectors.cursor.source.CursorSource``)."""

    def members(self) -> list[MemberSnapshot]: ...

    def usage_event_pages(
        self, start: datetime, end: datetime, *, resume: tuple[int, int, int] | None = None
    ) -> Iterator[EventPage]: ...

    def spend(self) -> SpendSnapshot: ...

    def daily_activity(self, start: datetime, end: datetime) -> list[DailyActivity]: ...

    def oldest_event_at(
        self, now: datetime, *, max_lookback_days: int = ...
    ) -> datetime | None: ...


SourceFactory = Callable[[str], Source]


@runtime_checkable
class CountsRequests(Protocol):
    """A source that knows how many HTTP requests it has sent (``CursorSource`` does)."""

    @property
    def requests_sent(self) -> int: ...


@dataclass(frozen=True)
class SyncOptions:
    #: Re-read this much before the newest synced instant: Cursor revises recent hours.
    overlap: timedelta = timedelta(hours=48)
    #: A light sync re-reads only this much before the newest synced instant.
    light_overlap: timedelta = timedelta(hours=2)
    #: How far back the first run looks for history.
    max_history_days: int = 400
    #: Days of daily activity re-read on each run.
    activity_days: int = 7
    #: Most days of daily activity one run reads (the first run, or one after a gap).
    activity_backfill_days: int = 90
    #: How long a sync's lease lives unrenewed (see ``ledger.lease``).
    lease_ttl: timedelta = DEFAULT_TTL


class SyncStopped(Exception):
    """The process is stopping: the sync ends after the page it was committing."""


@dataclass
class SyncOutcome:
    run_id: int
    status: SyncStatus
    window_start: datetime | None = None
    window_end: datetime | None = None
    pages: int = 0
    events: IngestResult = field(default_factory=IngestResult)
    history_start: datetime | None = None
    error: str | None = None
    kind: SyncKind = SyncKind.DEEP
    #: HTTP requests sent to the provider so far (retries included).
    requests: int = 0

    @property
    def ok(self) -> bool:
        return self.status is SyncStatus.OK

    def summary(self) -> str:
        if self.status is SyncStatus.STOPPED:
            return f"sync stopped after {self.pages} pages: {self.error}"
        if not self.ok:
            return f"sync failed: {self.error}"
        return (
            f"synced {self.pages} pages: {self.events.seen} events seen, "
            f"{self.events.new} new, {self.events.revised} revised "
            f"({self.kind} sync, {self.requests} Cursor "
            f"request{'' if self.requests == 1 else 's'})"
        )


PageCallback = Callable[[EventPage, IngestResult], None]
