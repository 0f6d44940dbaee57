"""One sync run of one connection: members, usage events, spend, daily activity.

Every page of events is committed together with the rollups it changes and the
progress it makes, so a run killed at any point loses nothing and the next run
picks up where it stopped. Runs are recorded in ``sync_run`` (``ledger.sync_runs``).
"""

from __future__ import annotations

import logging
import threading
import time
import traceback
from collections.abc import Callable
from dataclasses import replace
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import Engine
from sqlmodel import Session, select

from connectors.cursor.source import EventPage
from connectors.cursor.windows import from_ms, settled_end
from connectors.errors import AuthError, ConnectorError
from ledger.activity_window import activity_start
from ledger.db import session_scope
from ledger.errors import LeaseLost, SecretKeyError, SyncNotDue
from ledger.group_sync import sync_groups
from ledger.import_join import replace_imported
from ledger.ingest import IngestResult, ingest_events
from ledger.lease import LEASE_LOST, SyncLeaseHandle
from ledger.metrics import record_events_stored, record_sync_run
from ledger.models import (
    Connection,
    ConnectionStatus,
    SyncKind,
    SyncState,
    SyncTrigger,
    Workspace,
)
from ledger.secrets import SecretBox
from ledger.snapshots import upsert_activity, upsert_members, upsert_spend
from ledger.sync_runs import (
    SyncRunLog,
    advance_cursor,
    last_counted_start,
    resume_point,
    sync_state,
    write_run,
)
from ledger.sync_types import (
    CountsRequests,
    PageCallback,
    Source,
    SourceFactory,
    SyncOptions,
    SyncOutcome,
    SyncStopped,
)

__all__ = [
    "ConnectionSync",
    "PageCallback",
    "Source",
    "SourceFactory",
    "SyncOptions",
    "SyncOutcome",
    "SyncStopped",
    "sync_connection",
]

logger = logging.getLogger(__name__)


class ConnectionSync:
    """Runs one sync of one connection. Build it, call ``run()`` once.

    ``run()`` first takes the connection's lease (``ledger.lease``) and raises
    ``SyncAlreadyRunning`` if another sync holds it; every transaction that writes
    synced data renews it (a fence). Setting ``stop`` ends the run after the page being
    committed, with the lease released and the resume point stored.
    """

    def __init__(
        self,
        engine: Engine,
        *,
        connection_id: int,
        source_for_key: SourceFactory,
        box: SecretBox,
        now: datetime,
        trigger: SyncTrigger,
        options: SyncOptions | None = None,
        on_page: PageCallback | None = None,
        stop: threading.Event | None = None,
        on_started: Callable[[], None] | None = None,
        unless_synced_since: datetime | None = None,
        kind: SyncKind = SyncKind.DEEP,
    ) -> None:
        self.engine = engine
        self.kind = kind
        self._source: Source | None = None
        self.connection_id = connection_id
        self.source_for_key = source_for_key
        self.box = box
        self.now = now
        self.trigger = trigger
        self.options = options or SyncOptions()
        self.on_page = on_page
        self.stop = stop or threading.Event()
        self.on_started = on_started
        self.unless_synced_since = unless_synced_since
        self.lease = SyncLeaseHandle(
            engine, connection_id, trigger=trigger, ttl=self.options.lease_ttl
        )
        self.runs = SyncRunLog(engine, self.lease, connection_id, now)

    def run(self) -> SyncOutcome:
        self.lease.acquire()
        started = time.monotonic()
        try:
            self._check_due()
            outcome = self._run()
            record_sync_run(outcome.status, time.monotonic() - started)
            return outcome
        finally:
            try:
                self.lease.release()
            except Exception as exc:  # it expires on its own
                logger.warning(
                    "could not release the sync lease of connection %s: %s",
                    self.connection_id,
                    type(exc).__name__,
                )

    def _run(self) -> SyncOutcome:
        outcome = self.runs.start(self.trigger, self._kind())
        if self.on_started is not None:
            try:
                self.on_started()
            except Exception as exc:  # the caller's bookkeeping must not fail the sync
                logger.warning("on_started of a sync failed: %s", type(exc).__name__)
        try:
            self._steps(outcome)
        except SyncStopped:
            self._tally(outcome)
            self.runs.stopped(outcome, "the process was stopping; the next sync resumes from here")
        except LeaseLost:
            self._tally(outcome)
            self.runs.stopped(outcome, LEASE_LOST)
        except AuthError as exc:
            self._tally(outcome)
            self.runs.finish(outcome, error=str(exc), status=ConnectionStatus.REVOKED)
        except (ConnectorError, SecretKeyError) as exc:
            self._tally(outcome)
            self.runs.finish(outcome, error=str(exc), status=ConnectionStatus.FAILING)
        except Exception as exc:
            # A database error's message quotes row values (PostgreSQL's DETAIL names the
            # duplicate key): the log gets the frames and the class, people a plain line.
            logger.error(
                "sync of connection %s hit an internal error %s:\n%s",
                self.connection_id,
                type(exc).__name__,
                "".join(traceback.format_tb(exc.__traceback__)),
            )
            self._tally(outcome)
            self.runs.finish(
                outcome,
                error=f"internal error ({type(exc).__name__}); the bot's logs have the details",
                status=ConnectionStatus.FAILING,
            )
        else:
            self._tally(outcome)
            self.runs.finish(outcome, error=None, status=ConnectionStatus.ACTIVE)
        return outcome

    def _steps(self, outcome: SyncOutcome) -> None:
        """A deep sync reads members, events, spend, billing groups and daily activity; a light
        one events only."""
        source = self._open()
        self._source = source
        self._check_running()
        deep = outcome.kind is SyncKind.DEEP
        if deep:
            self._sync_members(source)
        self._sync_events(source, outcome)
        if deep:
            self._check_running()
            self._sync_spend(source)
            self._check_running()
            self._sync_groups(source)
            self._check_running()
            self._sync_activity(source)

    def _kind(self) -> SyncKind:
        """The kind asked for, except that a connection never synced starts deep."""
        if self.kind is SyncKind.DEEP:
            return SyncKind.DEEP
        with session_scope(self.engine) as session:
            state = session.get(SyncState, self.connection_id)
            synced = state is not None and state.events_synced_to is not None
        return SyncKind.LIGHT if synced else SyncKind.DEEP

    def _tally(self, outcome: SyncOutcome) -> None:
        if isinstance(self._source, CountsRequests):
            outcome.requests = self._source.requests_sent

    # Steps ---------------------------------------------------------------------

    def _check_due(self) -> None:
        """With ``unless_synced_since``: raise ``SyncNotDue`` if a sync that counts started
        since (read under the lease, so two replicas never both find the connection due)."""
        if self.unless_synced_since is None:
            return
        kind = SyncKind.DEEP if self.kind is SyncKind.DEEP else None  # a deep one counts too
        with session_scope(self.engine) as session:
            last = last_counted_start(session, self.connection_id, kind=kind)
        if last is not None and last >= self.unless_synced_since:
            raise SyncNotDue(self.connection_id, last)

    def _check_running(self) -> None:
        if self.lease.lost.is_set():
            raise LeaseLost(self.connection_id)
        if self.stop.is_set():
            raise SyncStopped

    def _open(self) -> Source:
        with session_scope(self.engine) as session:
            connection = session.get(Connection, self.connection_id)
            if connection is None or connection.status == ConnectionStatus.DISCONNECTED:
                raise ConnectorError("This connection was disconnected; connect it again to sync.")
            key = self.box.decrypt(connection.encrypted_key)
            return self.source_for_key(key)

    def _sync_members(self, source: Source) -> None:
        snapshot = source.members()
        with self.runs.writing() as session:
            upsert_members(session, self.connection_id, snapshot, self.now)
            self._state(session).members_synced_at = self.now

    def _event_range(
        self, source: Source, outcome: SyncOutcome
    ) -> tuple[datetime, tuple[int, int, int] | None]:
        with session_scope(self.engine) as session:
            state = sync_state(session, self.connection_id)
            connection = session.get(Connection, self.connection_id)
            assert connection is not None
            resume = resume_point(state)
            if resume is not None:
                return from_ms(resume[0]), resume
            if state.events_synced_to is not None:
                outcome.history_start = connection.history_start
                overlap = (
                    self.options.light_overlap
                    if outcome.kind is SyncKind.LIGHT
                    else self.options.overlap
                )
                return state.events_synced_to - overlap, None
            history_start = connection.history_start
        if history_start is None:
            history_start = source.oldest_event_at(
                self.now, max_lookback_days=self.options.max_history_days
            ) or settled_end(self.now) - timedelta(days=1)
            with self.runs.writing() as session:
                connection = session.get(Connection, self.connection_id)
                assert connection is not None
                connection.history_start = history_start
        outcome.history_start = history_start
        return history_start, None

    def _sync_events(self, source: Source, outcome: SyncOutcome) -> None:
        start, resume = self._event_range(source, outcome)
        end = settled_end(self.now)
        outcome.window_start, outcome.window_end = start, end
        self.runs.update(outcome)
        for page in source.usage_event_pages(start, end, resume=resume):
            result = self._store_page(page, outcome)
            if self.on_page is not None:
                self.on_page(page, result)
            self._check_running()

    def _store_page(self, page: EventPage, outcome: SyncOutcome) -> IngestResult:
        """Commit the page's events, its rollups, the cursor and the run's counts at once,
        with the imported rows of the page's window deleted (``ledger.import_join``).

        The workspace's timezone is read (and on PostgreSQL its row locked) inside the
        page's transaction, after the lease fence: a timezone change, which updates that
        row before rebuilding the rollups, is serialised with every page, so rollups are
        never bucketed in two zones.
        """
        before = outcome.pages, replace(outcome.events)
        try:
            with self.runs.writing() as session:
                tz = self._timezone(session)
                # The API's events of this window replace any imported ones (one index
                # probe when there are none, as on every page after a window's first).
                replace_imported(
                    session,
                    connection_id=self.connection_id,
                    tz=tz,
                    start=from_ms(page.window_start_ms),
                    end=from_ms(page.window_end_ms + 1),  # windows are inclusive
                )
                result = ingest_events(
                    session, connection_id=self.connection_id, tz=tz, events=page.events
                )
                advance_cursor(sync_state(session, self.connection_id), page)
                outcome.pages += 1
                outcome.events.add(result)
                self._tally(outcome)
                write_run(session, outcome)
        except BaseException:
            outcome.pages, outcome.events = before  # nothing of the page was committed
            raise
        record_events_stored(result)
        return result

    def _timezone(self, session: Session) -> ZoneInfo:
        name = session.exec(
            select(Workspace.timezone)
            .join(Connection, Connection.workspace_id == Workspace.id)  # type: ignore[arg-type]
            .where(Connection.id == self.connection_id)
            .with_for_update(of=Workspace)
        ).one()
        return ZoneInfo(name)

    def _sync_spend(self, source: Source) -> None:
        snapshot = source.spend()
        with self.runs.writing() as session:
            upsert_spend(session, self.connection_id, snapshot, self.now)
            self._state(session).spend_synced_at = self.now

    def _sync_groups(self, source: Source) -> None:
        with session_scope(self.engine) as session:
            connection = session.get(Connection, self.connection_id)
            history_start = connection.history_start if connection is not None else None
        sync_groups(source, self.runs.writing, self.connection_id, self.now, history_start)

    def _sync_activity(self, source: Source) -> None:
        end = settled_end(self.now)
        with session_scope(self.engine) as session:
            connection = session.get(Connection, self.connection_id)
            start = activity_start(
                end,
                synced_at=self._state(session).activity_synced_at,
                history_start=connection.history_start if connection else None,
                days=self.options.activity_days,
                max_days=self.options.activity_backfill_days,
            )
        rows = source.daily_activity(start, end)
        with self.runs.writing() as session:
            upsert_activity(session, self.connection_id, rows)
            self._state(session).activity_synced_at = self.now

    # Bookkeeping ---------------------------------------------------------------

    def _state(self, session: Session) -> SyncState:
        return sync_state(session, self.connection_id)


def sync_connection(
    engine: Engine,
    *,
    connection_id: int,
    source_for_key: SourceFactory,
    box: SecretBox,
    now: datetime,
    trigger: SyncTrigger = SyncTrigger.MANUAL,
    options: SyncOptions | None = None,
    on_page: PageCallback | None = None,
    stop: threading.Event | None = None,
    on_started: Callable[[], None] | None = None,
    unless_synced_since: datetime | None = None,
    kind: SyncKind = SyncKind.DEEP,
) -> SyncOutcome:
    """Sync one connection; raises ``SyncAlreadyRunning`` while another sync holds it.

    ``on_started`` is called once the lease is held and the run recorded. With
    ``unless_synced_since``, raises ``SyncNotDue`` instead of syncing when a finished sync
    started at or after that instant (a scheduled sync that another replica did); for a
    deep ``kind`` only a deep sync counts. A light ``kind`` reads only the events from
    the newest synced instant less ``SyncOptions.light_overlap`` (a connection never
    synced is synced deep)."""
    return ConnectionSync(
        engine,
        connection_id=connection_id,
        source_for_key=source_for_key,
        box=box,
        now=now,
        trigger=trigger,
        options=options,
        on_page=on_page,
        stop=stop,
        on_started=on_started,
        unless_synced_since=unless_synced_since,
        kind=kind,
    ).run()
