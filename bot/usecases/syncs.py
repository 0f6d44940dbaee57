"""Syncs on the bot's behalf (scheduled, asked for in Slack, before a digest), and what the
scheduler and listeners need to know about connections that sync."""

from __future__ import annotations

import threading
from collections.abc import Callable
from datetime import datetime
from typing import TYPE_CHECKING

from sqlalchemy import Engine
from sqlmodel import col, func, select

from ledger.accounts import find_workspace
from ledger.db import session_scope
from ledger.errors import NotConnected
from ledger.installs import installed
from ledger.models import (
    Connection,
    ConnectionStatus,
    SyncKind,
    SyncRun,
    SyncStatus,
    SyncTrigger,
    Workspace,
)
from ledger.sync import PageCallback, SyncOptions, SyncOutcome, sync_connection
from ledger.sync_runs import COUNTED

if TYPE_CHECKING:
    from bot.services import CoreServices
    from connectors.cursor.access import CursorAccess
    from ledger.secrets import SecretBox

#: Connections in these states have no sync job (a revoked key needs a new one first).
UNSCHEDULED = (ConnectionStatus.DISCONNECTED, ConnectionStatus.REVOKED)


def connections_to_sync(engine: Engine, workspace_ref: str | None) -> list[tuple[str, int]]:
    """(workspace team id, connection id) of every connection a sync should visit."""
    with session_scope(engine) as session:
        query = (
            select(Workspace, Connection)
            .join(Connection, col(Connection.workspace_id) == col(Workspace.id))
            .where(installed)
        )
        if workspace_ref is not None:
            workspace = find_workspace(session, workspace_ref)
            query = query.where(Workspace.id == workspace.id)
        rows = session.exec(query).all()
        usable = [
            (w.slack_team_id, c.id)
            for w, c in rows
            if c.id is not None and c.status != ConnectionStatus.DISCONNECTED
        ]
    if workspace_ref is not None and not usable:
        raise NotConnected(workspace_ref, None)
    return usable


def sync_one(
    engine: Engine,
    *,
    connection_id: int,
    access: CursorAccess,
    box: SecretBox,
    now: datetime,
    trigger: SyncTrigger,
    options: SyncOptions | None = None,
    on_page: PageCallback | None = None,
    stop: threading.Event | None = None,
    on_started: Callable[[], None] | None = None,
    unless_synced_since: datetime | None = None,
    kind: SyncKind = SyncKind.DEEP,
) -> SyncOutcome:
    """One sync; raises ``ledger.lease.SyncAlreadyRunning`` while another holds the lease."""
    try:
        return sync_connection(
            engine,
            connection_id=connection_id,
            source_for_key=access.source,
            box=box,
            now=now,
            trigger=trigger,
            options=options,
            on_page=on_page,
            stop=stop,
            on_started=on_started,
            unless_synced_since=unless_synced_since,
            kind=kind,
        )
    finally:
        access.close()


def sync_for_bot(
    services: CoreServices,
    connection_id: int,
    *,
    trigger: SyncTrigger,
    now: datetime | None = None,
    on_started: Callable[[], None] | None = None,
    unless_synced_since: datetime | None = None,
    kind: SyncKind = SyncKind.DEEP,
) -> SyncOutcome:
    """Sync with the bot's Cursor access, options and stop signal (at ``now``, by default
    the services' clock).

    Raises ``ledger.lease.SyncAlreadyRunning`` while another sync holds the connection,
    and, with ``unless_synced_since``, ``SyncNotDue`` when a finished sync started since.
    """
    return sync_one(
        services.engine,
        connection_id=connection_id,
        access=services.cursor_access(),
        box=services.box,
        now=now or services.clock(),
        trigger=trigger,
        options=services.sync_options,
        stop=services.stopping,
        on_started=on_started,
        unless_synced_since=unless_synced_since,
        kind=kind,
    )


def syncable_connections(engine: Engine) -> dict[int, datetime | None]:
    """Each connection that can sync (not disconnected, key not revoked), with the start of
    its latest sync that finished or is running (None if none did; a sync that stopped
    early does not count, see ``ledger.sync_runs.COUNTED``): what the scheduler makes sync
    jobs from and finds due syncs by."""
    with session_scope(engine) as session:
        ids = session.exec(
            select(Connection.id)
            .join(Workspace, col(Workspace.id) == col(Connection.workspace_id))
            .where(col(Connection.status).not_in(UNSCHEDULED), installed)
        ).all()
        latest = dict(
            session.exec(
                select(SyncRun.connection_id, func.max(SyncRun.started_at))
                .where(col(SyncRun.status).in_((*COUNTED, SyncStatus.RUNNING)))
                .group_by(col(SyncRun.connection_id))
            ).all()
        )
    return {connection_id: latest.get(connection_id) for connection_id in ids if connection_id}


def workspace_of(engine: Engine, connection_id: int, *, syncable: bool = False) -> int | None:
    """The workspace id of a connection; None if there is none (or, with ``syncable``, if it
    can no longer sync: disconnected, key revoked, or the app uninstalled from it)."""
    with session_scope(engine) as session:
        connection = session.get(Connection, connection_id)
        workspace = session.get(Workspace, connection.workspace_id) if connection else None
    if connection is None or workspace is None:
        return None
    if syncable and (connection.status in UNSCHEDULED or workspace.uninstalled_at is not None):
        return None
    return connection.workspace_id


def timezone_of(engine: Engine, connection_id: int) -> str:
    """The reporting timezone of the connection's workspace (UTC if it is gone)."""
    with session_scope(engine) as session:
        connection = session.get(Connection, connection_id)
        workspace = session.get(Workspace, connection.workspace_id) if connection else None
    return workspace.timezone if workspace else "UTC"
