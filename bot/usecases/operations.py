"""Use cases shared by the CLI and Slack: connect, sync, report.

Each takes the engine and plain values, opens its own transactions and
returns plain results; callers decide how to show them.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Engine
from sqlmodel import col, select

from bot.usecases.report_cache import ReportCache
from connectors.cursor.access import CursorAccess
from ledger.accounts import (
    find_workspace,
    get_or_create_workspace,
    store_connection,
)
from ledger.db import session_scope
from ledger.errors import NotConnected
from ledger.models import Connection, ConnectionStatus, SyncTrigger, Workspace
from ledger.periods import parse_period
from ledger.queries import (
    Breakdown,
    Report,
    build_report,
    current_cycle,
    freshness,
    scope_for,
)
from ledger.secrets import SecretBox
from ledger.sync import PageCallback, SyncOptions, SyncOutcome, sync_connection


@dataclass(frozen=True)
class Connected:
    workspace: str
    connection_id: int
    key_hint: str
    members: int


def check_cursor_key(access: CursorAccess, api_key: str) -> tuple[str, int]:
    """(key hint, team size) after one live call; raises ConnectorError on a bad key."""
    client = access.client(api_key)
    try:
        members = client.get_members().teamMembers
    finally:
        client.close()
    return client.key_hint, len(members)


def store_cursor_key(
    engine: Engine,
    *,
    box: SecretBox,
    team_id: str,
    api_key: str,
    key_hint: str,
    connected_by: str,
    now: datetime,
    workspace_name: str = "",
    enterprise_id: str | None = None,
) -> tuple[str, int]:
    """Store a checked key encrypted; returns (workspace team id, connection id)."""
    with session_scope(engine) as session:
        workspace = get_or_create_workspace(
            session, team_id=team_id, name=workspace_name, enterprise_id=enterprise_id
        )
        connection = store_connection(
            session,
            workspace=workspace,
            provider="cursor",
            api_key=api_key,
            box=box,
            key_hint=key_hint,
            connected_by=connected_by,
            now=now,
        )
        assert connection.id is not None
        return workspace.slack_team_id, connection.id


def connect_cursor(
    engine: Engine,
    *,
    access: CursorAccess,
    box: SecretBox,
    team_id: str,
    api_key: str,
    connected_by: str,
    now: datetime,
    workspace_name: str = "",
    enterprise_id: str | None = None,
) -> Connected:
    """Check the key with one live call, then store it encrypted. Raises on a bad key."""
    key_hint, members = check_cursor_key(access, api_key)
    workspace, connection_id = store_cursor_key(
        engine,
        box=box,
        team_id=team_id,
        api_key=api_key,
        key_hint=key_hint,
        connected_by=connected_by,
        now=now,
        workspace_name=workspace_name,
        enterprise_id=enterprise_id,
    )
    return Connected(workspace, connection_id, key_hint, members)


def connections_to_sync(engine: Engine, workspace_ref: str | None) -> list[tuple[str, int]]:
    """(workspace team id, connection id) of every connection a sync should visit."""
    with session_scope(engine) as session:
        query = select(Workspace, Connection).join(
            Connection, col(Connection.workspace_id) == col(Workspace.id)
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
        )
    finally:
        access.close()


def report_for(
    engine: Engine,
    *,
    workspace_ref: str,
    period_text: str,
    by: str,
    now: datetime,
    user: str | None = None,
    provider: str = "cursor",
    cache: ReportCache | None = None,
) -> Report:
    """Parse the request, then answer it from the rollups of the workspace's connection."""
    breakdown = Breakdown.parse(by)
    with session_scope(engine) as session:
        workspace = find_workspace(session, workspace_ref)
        scope = scope_for(session, workspace, provider)
        today = now.astimezone(scope.tz).date()
        cycle = current_cycle(session, scope, today)
        period = parse_period(period_text, today=today, cycle=cycle)

        def build() -> Report:
            return build_report(
                session, scope=scope, period=period, by=breakdown, cycle=cycle, user=user
            )

        if cache is None:
            return build()
        as_of, _ = freshness(session, scope)
        key = (
            scope.connection_id,
            workspace.timezone,
            period,
            breakdown,
            (user or "").lower(),
            cycle,
            as_of,
            scope.connection.last_success_at,
        )
        return cache.get_or_build(key, build)
