"""Workspaces whose newest data has not been through an alert evaluation yet.

Every sync that lands data should be followed by an evaluation of the workspace's budgets.
The scheduler follows its own syncs and a person's `/spend cursor sync` at once; syncs run
for a digest, a personal line or a question about today are followed here, by the sweep:
a workspace is pending when its newest successful sync began after its last evaluation
began (the ``alerts:<workspace>`` work claim), and no evaluation is going on now.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Engine, func
from sqlmodel import col, select

from ledger.db import session_scope
from ledger.models import Connection, SyncRun, SyncStatus, WorkClaim


def evaluation_key(workspace_id: int) -> str:
    """The work claim of a workspace's alert evaluation."""
    return f"alerts:{workspace_id}"


def pending_evaluations(engine: Engine, now: datetime) -> list[int]:
    """The workspaces whose newest successful sync no evaluation has read yet."""
    with session_scope(engine) as session:
        synced = session.exec(
            select(Connection.workspace_id, func.max(SyncRun.finished_at))
            .join(Connection, col(Connection.id) == col(SyncRun.connection_id))
            .where(col(SyncRun.status) == SyncStatus.OK)
            .group_by(col(Connection.workspace_id))
        ).all()
        claims = {
            claim.key: claim
            for claim in session.exec(
                select(WorkClaim).where(col(WorkClaim.key).startswith("alerts:"))
            ).all()
        }
    return [
        workspace_id
        for workspace_id, newest in synced
        if newest is not None and _behind(claims.get(evaluation_key(workspace_id)), newest, now)
    ]


def _behind(claim: WorkClaim | None, newest_sync: datetime, now: datetime) -> bool:
    """Whether the last evaluation began before that sync (none going on now)."""
    if claim is None:
        return True
    going = claim.expires_at is not None and claim.expires_at > now
    return not going and claim.claimed_at < newest_sync
