"""One sync per connection at a time, across threads and processes: a lease row.

A sync first takes the connection's ``sync_lease`` row (owner and expiry) in one
``INSERT … ON CONFLICT DO UPDATE … WHERE expires_at < now`` statement, which is atomic
on SQLite and PostgreSQL alike; while someone else's lease is alive, the statement
changes nothing and the caller is told who has been syncing since when
(``SyncAlreadyRunning``).

While it runs, the holder renews the lease from a heartbeat thread (every third of its
lifetime, so a slow Cursor answer does not lose it) and inside every transaction that
writes synced data (``renew`` is a fence: a page commits only while its writer still
holds the lease, so a sync whose lease expired and was taken over can never write).

A process killed mid-sync stops renewing; its lease expires after ``ttl`` and the next
sync takes it over, marks the dead run stopped and resumes from the stored resume point.
A process that stops cleanly releases its leases (``release_owned_by``).

Lease times are wall-clock UTC from the process that writes them: hosts sharing a
database should keep their clocks in sync (NTP), as the expiry tolerates skew far
smaller than ``ttl`` only.
"""

from __future__ import annotations

import itertools
import logging
import os
import socket
import threading
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlalchemy import ColumnElement, Engine, Table, delete, func, select, update
from sqlmodel import Session

from ledger.db import session_scope
from ledger.errors import LeaseLost, SyncAlreadyRunning
from ledger.metrics import record_claim_expired
from ledger.models import SyncLease, SyncRun, SyncStatus, SyncTrigger
from ledger.statements import dialect_insert

logger = logging.getLogger(__name__)

LEASES: Table = SyncLease.__table__  # type: ignore[attr-defined]
RUNS: Table = SyncRun.__table__  # type: ignore[attr-defined]

#: How long a lease lives without renewal: a killed process's sync can be taken over after it.
DEFAULT_TTL = timedelta(seconds=90)

#: This process, in every lease it takes (host, pid and a token, since pids are reused).
PROCESS_OWNER = f"{socket.gethostname()[:60]}:{os.getpid()}:{uuid.uuid4().hex[:8]}"
_serial = itertools.count(1)

INTERRUPTED = "interrupted: the process running this sync stopped; the next sync resumed from here"
#: The error recorded on a run that stopped because another took its lease over.
LEASE_LOST = (
    "stopped: this sync lost its lease (it stalled for longer than the lease lives); "
    "the sync that took over continues"
)


def wall_clock() -> datetime:
    return datetime.now(UTC)


@dataclass(frozen=True)
class Holder:
    owner: str
    trigger: SyncTrigger
    acquired_at: datetime
    expires_at: datetime


def current_holder(session: Session, connection_id: int, now: datetime) -> Holder | None:
    """Who holds the connection's lease now, if anyone (an expired lease is nobody's)."""
    row = session.execute(
        select(LEASES.c.owner, LEASES.c.trigger, LEASES.c.acquired_at, LEASES.c.expires_at).where(
            LEASES.c.connection_id == connection_id
        )
    ).first()
    if row is None or row.expires_at <= now:
        return None
    return Holder(row.owner, row.trigger, row.acquired_at, row.expires_at)


def renew(
    session: Session, connection_id: int, owner: str, *, now: datetime, ttl: timedelta
) -> None:
    """Extend the lease inside the caller's transaction; raises ``LeaseLost`` if not ours."""
    renewed = session.execute(
        update(LEASES)
        .where(LEASES.c.connection_id == connection_id, LEASES.c.owner == owner)
        .values(expires_at=now + ttl)
    )
    if renewed.rowcount != 1:  # type: ignore[attr-defined]
        raise LeaseLost(connection_id)


class SyncLeaseHandle:
    """A held lease: renewed by a heartbeat until ``release()``."""

    def __init__(
        self,
        engine: Engine,
        connection_id: int,
        *,
        trigger: SyncTrigger,
        ttl: timedelta = DEFAULT_TTL,
        clock: Callable[[], datetime] = wall_clock,
    ) -> None:
        self.engine = engine
        self.connection_id = connection_id
        self.trigger = trigger
        self.ttl = ttl
        self.clock = clock
        self.owner = f"{PROCESS_OWNER}/{next(_serial)}"
        self.lost = threading.Event()
        self._stop = threading.Event()
        self._heartbeat: threading.Thread | None = None

    def acquire(self) -> None:
        """Take the lease or raise ``SyncAlreadyRunning``; mark runs it orphaned stopped."""
        now = self.clock()
        values = {
            "connection_id": self.connection_id,
            "owner": self.owner,
            "trigger": self.trigger,
            "acquired_at": now,
            "expires_at": now + self.ttl,
        }
        with session_scope(self.engine) as session:
            insert = dialect_insert(session)(LEASES).values(**values)
            session.execute(
                insert.on_conflict_do_update(
                    index_elements=["connection_id"],
                    set_={k: insert.excluded[k] for k in values if k != "connection_id"},
                    where=LEASES.c.expires_at <= now,  # expired: the same rule as current_holder
                )
            )
            row = session.execute(
                select(LEASES.c.owner, LEASES.c.trigger, LEASES.c.acquired_at).where(
                    LEASES.c.connection_id == self.connection_id
                )
            ).one()
            if row.owner != self.owner:
                raise SyncAlreadyRunning(self.connection_id, row.acquired_at, row.trigger)
            # Any run still "running" now was left by a sync whose lease expired.
            orphaned = session.execute(
                update(RUNS)
                .where(
                    RUNS.c.connection_id == self.connection_id, RUNS.c.status == SyncStatus.RUNNING
                )
                .values(status=SyncStatus.STOPPED, finished_at=now, error=INTERRUPTED)
            )
            if orphaned.rowcount:  # type: ignore[attr-defined]
                record_claim_expired("sync")  # taken over from a process that stopped
        self._heartbeat = threading.Thread(
            target=self._beat, name=f"lease-{self.connection_id}", daemon=True
        )
        self._heartbeat.start()

    def fence(self, session: Session) -> None:
        """Call first in every transaction that writes synced data."""
        renew(session, self.connection_id, self.owner, now=self.clock(), ttl=self.ttl)

    def release(self) -> None:
        self._stop.set()
        if self._heartbeat is not None and self._heartbeat is not threading.current_thread():
            self._heartbeat.join(timeout=5)
        with session_scope(self.engine) as session:
            session.execute(
                delete(LEASES).where(
                    LEASES.c.connection_id == self.connection_id, LEASES.c.owner == self.owner
                )
            )

    def _beat(self) -> None:
        interval = self.ttl.total_seconds() / 3
        while not self._stop.wait(interval):
            try:
                with session_scope(self.engine) as session:
                    self.fence(session)
            except LeaseLost:
                logger.warning("sync of connection %s lost its lease", self.connection_id)
                self.lost.set()
                return
            except Exception as exc:  # a database hiccup: try again at the next beat
                logger.warning(
                    "renewing the sync lease of connection %s failed: %s",
                    self.connection_id,
                    type(exc).__name__,
                )


def orphaned_syncs(engine: Engine, now: datetime) -> set[int]:
    """Connections with a sync still marked running whose lease has expired or is gone:
    the process running it died, and the next sync takes it over and resumes it."""
    alive = select(LEASES.c.connection_id).where(LEASES.c.expires_at > now)
    with session_scope(engine) as session:
        rows = session.execute(
            select(RUNS.c.connection_id)
            .where(RUNS.c.status == SyncStatus.RUNNING, RUNS.c.connection_id.not_in(alive))
            .distinct()
        ).scalars()
        return {int(connection_id) for connection_id in rows}


def _owned_by_this_process() -> ColumnElement[bool]:
    return LEASES.c.owner.startswith(PROCESS_OWNER + "/", autoescape=True)


def leases_held_by_this_process(engine: Engine) -> int:
    """How many sync leases this process holds now (a sync is running in it)."""
    with session_scope(engine) as session:
        held = session.execute(
            select(func.count()).select_from(LEASES).where(_owned_by_this_process())
        )
        return int(held.scalar_one())


def release_owned_by_this_process(engine: Engine) -> int:
    """Drop every lease this process holds (clean shutdown); returns how many."""
    with session_scope(engine) as session:
        result = session.execute(delete(LEASES).where(_owned_by_this_process()))
        return int(result.rowcount)  # type: ignore[attr-defined]
