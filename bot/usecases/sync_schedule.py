"""What the scheduler plans syncs from: each syncable connection's latest light and deep
syncs, and its workspace's reporting timezone (deep syncs run at a local hour)."""

from __future__ import annotations

from sqlalchemy import Engine
from sqlmodel import col, func, select

from bot.jobs.sync_plan import LastSyncs
from bot.usecases.syncs import UNSCHEDULED
from ledger.db import session_scope
from ledger.installs import installed
from ledger.models import Connection, SyncKind, SyncRun, SyncStatus, Workspace
from ledger.sync_runs import COUNTED


def last_syncs(engine: Engine, connection_id: int | None = None) -> dict[int, LastSyncs]:
    """Each connection that can sync (or just ``connection_id``, if it can), with the starts
    of its latest sync and latest deep sync that finished or are running."""
    live = col(SyncRun.status).in_((*COUNTED, SyncStatus.RUNNING))
    with session_scope(engine) as session:
        query = (
            select(Connection.id, Workspace.timezone)
            .join(Workspace, col(Workspace.id) == col(Connection.workspace_id))
            .where(col(Connection.status).not_in(UNSCHEDULED), installed)
        )
        if connection_id is not None:
            query = query.where(Connection.id == connection_id)
        zones = dict(session.exec(query).all())
        latest = dict(
            session.exec(
                select(SyncRun.connection_id, func.max(SyncRun.started_at))
                .where(live)
                .group_by(col(SyncRun.connection_id))
            ).all()
        )
        deep = dict(
            session.exec(
                select(SyncRun.connection_id, func.max(SyncRun.started_at))
                .where(live, col(SyncRun.kind) == SyncKind.DEEP)
                .group_by(col(SyncRun.connection_id))
            ).all()
        )
    return {
        cid: LastSyncs(latest.get(cid), deep.get(cid), zone)
        for cid, zone in zones.items()
        if cid is not None
    }
