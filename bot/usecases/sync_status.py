"""`/spend cursor status`: how fresh the data is, the last light and deep syncs, and the
next of each as the running scheduler has them."""

from __future__ import annotations

from datetime import datetime
from typing import Protocol, runtime_checkable
from zoneinfo import ZoneInfo

from sqlmodel import Session, col, select

from bot.jobs.sync_plan import NextSyncs
from bot.services import BotServices
from digests.format import local_time
from digests.freshness_words import data_as_of
from ledger.models import Connection, ConnectionStatus, SyncKind, SyncRun, SyncStatus


@runtime_checkable
class PlansSyncKinds(Protocol):
    """A scheduler that tells the next light and deep syncs (``bot.jobs.scheduler``)."""

    def next_syncs(self, connection_id: int) -> NextSyncs | None: ...


def last_run_of(session: Session, connection_id: int, kind: SyncKind) -> SyncRun | None:
    """The latest sync of ``kind`` that finished (ok or failed) or is running."""
    return session.exec(
        select(SyncRun)
        .where(
            SyncRun.connection_id == connection_id,
            col(SyncRun.kind) == kind,
            col(SyncRun.status).in_((SyncStatus.OK, SyncStatus.FAILED, SyncStatus.RUNNING)),
        )
        .order_by(col(SyncRun.started_at).desc())
    ).first()


def run_text(run: SyncRun | None, tz: str) -> str:
    if run is None:
        return "never"
    requests = f"{run.cursor_requests} Cursor request{'s' if run.cursor_requests != 1 else ''}"
    return f"{local_time(run.started_at, tz)} ({run.status}, {requests})"


def freshness_lines(
    services: BotServices,
    session: Session,
    connection: Connection,
    synced_to: datetime | None,
    tz: str,
) -> list[str]:
    """Data as of, the last light and deep syncs, and the next of each."""
    assert connection.id is not None
    today = services.clock().astimezone(ZoneInfo(tz)).date()
    lines = [
        f"*{data_as_of(synced_to, tz, today)}*",
        f"*Last light sync:* {run_text(last_run_of(session, connection.id, SyncKind.LIGHT), tz)}",
        f"*Last deep sync:* {run_text(last_run_of(session, connection.id, SyncKind.DEEP), tz)}",
    ]
    planned = _next_syncs(services, connection)
    if planned is not None:
        lines.append(f"*Next light sync:* {local_time(planned.light, tz)}")
        lines.append(f"*Next deep sync:* {local_time(planned.deep, tz)}")
    return lines


def _next_syncs(services: BotServices, connection: Connection) -> NextSyncs | None:
    """None where there is nothing to plan (disconnected, revoked, no scheduler here): the
    status's "Next scheduled sync" line says why."""
    if connection.status in (ConnectionStatus.DISCONNECTED, ConnectionStatus.REVOKED):
        return None
    jobs = services.jobs
    if not jobs.running or not isinstance(jobs, PlansSyncKinds) or connection.id is None:
        return None
    return jobs.next_syncs(connection.id)
