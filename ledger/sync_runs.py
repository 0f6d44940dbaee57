"""A sync's bookkeeping: its ``sync_run`` row, the connection's resume point and health.

The functions work inside the caller's transaction; ``SyncRunLog`` opens its own under
the sync's lease.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime

from sqlalchemy import Engine, func, select
from sqlmodel import Session, col

from connectors.cursor.source import EventPage
from connectors.cursor.windows import from_ms
from ledger.db import session_scope
from ledger.errors import LeaseLost
from ledger.lease import LEASE_LOST, SyncLeaseHandle
from ledger.models import (
    Connection,
    ConnectionStatus,
    SyncKind,
    SyncRun,
    SyncState,
    SyncStatus,
    SyncTrigger,
)
from ledger.sync_types import SyncOutcome

logger = logging.getLogger("ledger.sync")  # a sync logs under one name, whichever part speaks


def sync_state(session: Session, connection_id: int) -> SyncState:
    state = session.get(SyncState, connection_id)
    if state is None:
        state = SyncState(connection_id=connection_id)
        session.add(state)
    return state


def resume_point(state: SyncState) -> tuple[int, int, int] | None:
    """(window start ms, window end ms, page) where an unfinished window resumes, if any."""
    if state.resume_window_start_ms is None:
        return None
    assert state.resume_window_end_ms is not None and state.resume_page is not None
    return (state.resume_window_start_ms, state.resume_window_end_ms, state.resume_page)


def advance_cursor(state: SyncState, page: EventPage) -> None:
    """Move the resume point past ``page``, or past its window once the window is read."""
    if page.has_next and page.events:
        state.resume_window_start_ms = page.window_start_ms
        state.resume_window_end_ms = page.window_end_ms
        state.resume_page = page.page + 1
    else:
        state.resume_window_start_ms = state.resume_window_end_ms = state.resume_page = None
        reached = from_ms(page.window_end_ms)
        if state.events_synced_to is None or reached > state.events_synced_to:
            state.events_synced_to = reached


#: Runs that count as the connection's sync for their interval: a run that stopped early
#: (its process stopped or died) does not, so the next replica to look finishes the job.
COUNTED = (SyncStatus.OK, SyncStatus.FAILED)


def last_counted_start(
    session: Session, connection_id: int, *, kind: SyncKind | None = None
) -> datetime | None:
    """When the connection's latest finished sync (``COUNTED``) started, of ``kind`` if
    given (a deep sync also reads what a light one would); None if none did."""
    query = select(func.max(SyncRun.started_at)).where(
        col(SyncRun.connection_id) == connection_id,
        col(SyncRun.status).in_(COUNTED),
    )
    if kind is not None:
        query = query.where(col(SyncRun.kind) == kind)
    started = session.execute(query).scalar()
    return started if isinstance(started, datetime) else None


def write_run(session: Session, outcome: SyncOutcome) -> None:
    run = session.get(SyncRun, outcome.run_id)
    assert run is not None
    run.window_start, run.window_end = outcome.window_start, outcome.window_end
    run.pages = outcome.pages
    run.events_seen = outcome.events.seen
    run.events_new = outcome.events.new
    run.events_revised = outcome.events.revised
    run.kind = outcome.kind
    run.cursor_requests = outcome.requests


class SyncRunLog:
    """The ``sync_run`` row of one sync and the connection's health at its end.

    Writes go through ``writing()``: transactions that commit only while the sync still
    holds its lease (``ledger.lease``)."""

    def __init__(
        self, engine: Engine, lease: SyncLeaseHandle, connection_id: int, now: datetime
    ) -> None:
        self.engine = engine
        self.lease = lease
        self.connection_id = connection_id
        self.now = now

    @contextmanager
    def writing(self) -> Iterator[Session]:
        """A transaction that commits only while this sync still holds the lease."""
        with session_scope(self.engine) as session:
            self.lease.fence(session)
            yield session

    def start(self, trigger: SyncTrigger, kind: SyncKind = SyncKind.DEEP) -> SyncOutcome:
        with self.writing() as session:
            run = SyncRun(
                connection_id=self.connection_id, trigger=trigger, started_at=self.now, kind=kind
            )
            session.add(run)
            session.flush()
            assert run.id is not None
            return SyncOutcome(run_id=run.id, status=SyncStatus.RUNNING, kind=kind)

    def update(self, outcome: SyncOutcome) -> None:
        with self.writing() as session:
            write_run(session, outcome)

    def finish(self, outcome: SyncOutcome, *, error: str | None, status: ConnectionStatus) -> None:
        """Record the end of the run and the connection's health, if the lease is still ours
        (a sync that lost it while Cursor was answering ends as stopped instead)."""
        try:
            self._record_end(outcome, error=error, status=status)
        except LeaseLost:
            self.stopped(outcome, LEASE_LOST)

    def _record_end(
        self, outcome: SyncOutcome, *, error: str | None, status: ConnectionStatus
    ) -> None:
        outcome.status = SyncStatus.FAILED if error else SyncStatus.OK
        outcome.error = error
        if error:
            logger.warning("sync of connection %s failed: %s", self.connection_id, error)
        self.update(outcome)
        with self.writing() as session:
            run = session.get(SyncRun, outcome.run_id)
            connection = session.get(Connection, self.connection_id)
            assert run is not None and connection is not None
            run.status = outcome.status
            run.finished_at = self.now
            run.error = error
            if connection.status == ConnectionStatus.DISCONNECTED:
                return
            connection.status = status
            connection.last_error = error
            if error is None:
                connection.last_success_at = self.now
                connection.failing_since = None
            elif connection.failing_since is None:
                connection.failing_since = self.now

    def stopped(self, outcome: SyncOutcome, why: str) -> None:
        """Record an early end; the connection's status is left as it was."""
        outcome.status = SyncStatus.STOPPED
        outcome.error = why
        logger.info("sync of connection %s stopped: %s", self.connection_id, why)
        with session_scope(self.engine) as session:
            run = session.get(SyncRun, outcome.run_id)
            assert run is not None
            if run.status == SyncStatus.RUNNING:  # not already closed by a takeover
                write_run(session, outcome)
                run.status = SyncStatus.STOPPED
                run.finished_at = self.now
                run.error = why
