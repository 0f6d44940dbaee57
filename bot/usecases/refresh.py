"""Fresh on demand: a question about a period that includes today, asked when the newest
synced hour is more than an hour old, is preceded by a light sync.

Cursor aggregates usage hourly and asks clients to poll at most once an hour, so a
refresh is asked for only when no sync of the connection started within the hour (a
sync that is running, here or on another replica, is waited for instead of doubled).
Refreshes run on their own small pool, one per connection at a time in this process;
the sync lease shares them out between replicas.
"""

from __future__ import annotations

import logging
import threading
import time
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import TYPE_CHECKING

from sqlmodel import Session, col, func, select

from bot import log_context
from bot.usecases.syncs import sync_for_bot
from ledger.accounts import find_connection, find_workspace
from ledger.db import session_scope
from ledger.errors import LedgerError, SyncAlreadyRunning, SyncNotDue
from ledger.lease import current_holder, wall_clock
from ledger.models import ConnectionStatus, SyncKind, SyncRun, SyncTrigger
from ledger.periods import parse_period
from ledger.queries import current_cycle, freshness, scope_for
from ledger.sync_runs import COUNTED

if TYPE_CHECKING:
    from bot.services import CoreServices

logger = logging.getLogger(__name__)

#: Data whose newest synced hour ended longer ago than this is refreshed before an answer.
STALE_AFTER = timedelta(hours=1)
#: Cursor asks clients to poll usage at most hourly: no refresh within this of a sync.
POLL_EVERY = timedelta(hours=1)
#: A sync that started this much less than ``POLL_EVERY`` ago still counts (clock skew).
TOLERANCE = timedelta(minutes=5)
#: How long a refresh waits for a sync already running elsewhere, at most.
BUSY_WAIT = timedelta(minutes=5)
_ONE_MS = timedelta(milliseconds=1)


@dataclass(frozen=True)
class Staleness:
    """A question that a light sync should come before: what it would answer on now."""

    connection_id: int
    as_of: datetime
    timezone: str
    today: date


def is_stale(as_of: datetime, now: datetime) -> bool:
    """The newest synced hour ended more than ``STALE_AFTER`` before ``now``."""
    return now - (as_of + _ONE_MS) > STALE_AFTER


def needs_refresh(
    services: CoreServices, team_id: str, period_text: str, provider: str = "cursor"
) -> Staleness | None:
    """A ``Staleness`` when a light sync should come first, else None: the period does not
    include today, the data is fresh, the connection cannot sync, or Cursor was polled
    within the hour (or is being polled now)."""
    now = services.clock()
    try:
        with session_scope(services.engine) as session:
            workspace = find_workspace(session, team_id)
            connection = find_connection(session, workspace, provider, required=False)
            if connection is None or connection.id is None:
                return None
            if connection.status in (ConnectionStatus.DISCONNECTED, ConnectionStatus.REVOKED):
                return None
            scope = scope_for(session, workspace, provider)
            today = now.astimezone(scope.tz).date()
            period = parse_period(
                period_text, today=today, cycle=current_cycle(session, scope, today)
            )
            as_of, _ = freshness(session, scope)
            if not period.start <= today <= period.end or as_of is None:
                return None  # a first sync is the connect flow's, never a question's
            if not is_stale(as_of, now) or _polled_recently(session, connection.id, now):
                return None
            return Staleness(connection.id, as_of, workspace.timezone, today)
    except LedgerError:
        return None  # the answer itself says what is wrong


def _polled_recently(session: Session, connection_id: int, now: datetime) -> bool:
    """A sync that finished (ok or failed) started within the hour. One running now is
    not: the question waits for it (``light_refresh``) instead of answering stale."""
    started = session.exec(
        select(func.max(SyncRun.started_at)).where(
            col(SyncRun.connection_id) == connection_id, col(SyncRun.status).in_(COUNTED)
        )
    ).one()
    return started is not None and now - started < POLL_EVERY - TOLERANCE


def light_refresh(services: CoreServices, connection_id: int) -> None:
    """A light sync now, unless another replica synced within the hour; if one is running,
    wait (bounded) for it to end. Returns once newer data is in, or there is none to get."""
    now = services.clock()
    try:
        outcome = sync_for_bot(
            services,
            connection_id,
            trigger=SyncTrigger.QUESTION,
            now=now,
            kind=SyncKind.LIGHT,
            unless_synced_since=now - POLL_EVERY + TOLERANCE,
        )
    except SyncNotDue:
        return
    except SyncAlreadyRunning:
        _wait_for_lease(services, connection_id)
        return
    logger.info("sync for a question on connection %s: %s", connection_id, outcome.summary())


def _wait_for_lease(services: CoreServices, connection_id: int) -> None:
    deadline = time.monotonic() + BUSY_WAIT.total_seconds()
    while time.monotonic() < deadline and not services.stopping.is_set():
        with session_scope(services.engine) as session:
            if current_holder(session, connection_id, wall_clock()) is None:
                return
        services.stopping.wait(0.2)


class RefreshPool:
    """Light syncs asked for by questions: one per connection at a time in this process
    (a second question joins the first's), on a few threads of their own."""

    def __init__(self, workers: int = 2) -> None:
        self._pool = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="refresh")
        self._lock = threading.Lock()
        self._running: dict[int, Future[None]] = {}

    def refresh(self, services: CoreServices, connection_id: int) -> Future[None]:
        with self._lock:
            running = self._running.get(connection_id)
            if running is not None and not running.done():
                return running
            future = self._pool.submit(
                log_context.carry(lambda: light_refresh(services, connection_id))
            )
            self._running[connection_id] = future
            return future

    def shutdown(self, *, wait: bool = True) -> None:
        self._pool.shutdown(wait=wait)
