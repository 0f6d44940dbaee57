"""Workspaces and their provider connections: find, create, configure.

Every function takes the session and leaves the commit to the caller.
"""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from sqlmodel import Session, select

from ledger.errors import Input, InvalidValue, NotConnected, NotFound, Thing
from ledger.models import Connection, ConnectionStatus, Member, Visibility, Workspace
from ledger.rollups import rebuild_rollups
from ledger.secrets import SecretBox


def parse_timezone(name: str) -> ZoneInfo:
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise InvalidValue(Input.TIMEZONE, name) from None


def get_or_create_workspace(
    session: Session, *, team_id: str, name: str = "", enterprise_id: str | None = None
) -> Workspace:
    query = select(Workspace).where(
        Workspace.slack_team_id == team_id, Workspace.enterprise_id == enterprise_id
    )
    workspace = session.exec(query).first()
    if workspace is None:
        workspace = Workspace(
            slack_team_id=team_id, enterprise_id=enterprise_id, name=name or team_id
        )
        session.add(workspace)
        session.flush()
    elif name and workspace.name != name:
        workspace.name = name
    return workspace


def find_workspace(session: Session, ref: str) -> Workspace:
    """A workspace by Slack team id or by name."""
    by_id = session.exec(select(Workspace).where(Workspace.slack_team_id == ref)).first()
    if by_id is not None:
        return by_id
    by_name = session.exec(select(Workspace).where(Workspace.name == ref)).all()
    if len(by_name) == 1:
        return by_name[0]
    known = tuple(w.slack_team_id for w in session.exec(select(Workspace)).all())
    raise NotFound(Thing.WORKSPACE, ref, known)


def find_connection(
    session: Session, workspace: Workspace, provider: str = "cursor", *, required: bool = True
) -> Connection | None:
    query = select(Connection).where(
        Connection.workspace_id == workspace.id, Connection.provider == provider
    )
    connection = session.exec(query).first()
    usable = connection is not None and connection.status != ConnectionStatus.DISCONNECTED
    if not usable and required:
        raise NotConnected(workspace.slack_team_id, provider)
    return connection if usable else None


def store_connection(
    session: Session,
    *,
    workspace: Workspace,
    provider: str,
    api_key: str,
    box: SecretBox,
    key_hint: str,
    connected_by: str,
    now: datetime,
) -> Connection:
    """Connect (or reconnect with a new key); the key is stored encrypted only."""
    assert workspace.id is not None
    query = select(Connection).where(
        Connection.workspace_id == workspace.id, Connection.provider == provider
    )
    connection = session.exec(query).first()
    if connection is None:
        connection = Connection(
            workspace_id=workspace.id, provider=provider, encrypted_key="", key_hint=""
        )
        session.add(connection)
    connection.encrypted_key = box.encrypt(api_key)
    connection.key_hint = key_hint
    connection.status = ConnectionStatus.ACTIVE
    connection.connected_by = connected_by
    connection.connected_at = now
    connection.last_error = None
    connection.failing_since = None
    session.flush()
    return connection


def disconnect(connection: Connection) -> None:
    """Forget the key; keep every row of history."""
    connection.status = ConnectionStatus.DISCONNECTED
    connection.encrypted_key = ""
    connection.key_hint = ""


def set_timezone(session: Session, workspace: Workspace, name: str) -> int:
    """Change the reporting timezone and rebuild the rollups; returns events re-rolled.

    Safe while a sync runs: see the comment below and ``ConnectionSync._store_page``."""
    tz = parse_timezone(name)
    # Lock the workspace row first: every sync page locks it before bucketing events
    # (``ledger.sync``), so pages and this rebuild never interleave on PostgreSQL; on SQLite
    # the rebuild's first write takes the database's write lock for the same effect.
    session.execute(select(Workspace.id).where(Workspace.id == workspace.id).with_for_update())
    workspace.timezone = tz.key
    session.add(workspace)
    session.flush()
    total = 0
    connections = session.exec(select(Connection).where(Connection.workspace_id == workspace.id))
    for connection in connections.all():
        assert connection.id is not None
        total += rebuild_rollups(session, connection_id=connection.id, tz=tz)
    return total


def set_visibility(workspace: Workspace, policy: str) -> None:
    try:
        workspace.visibility = Visibility(policy.lower())
    except ValueError:
        raise InvalidValue(Input.VISIBILITY, policy) from None


def link_member(
    session: Session, connection: Connection, *, slack_user_id: str, email: str
) -> None:
    """Match a Slack person to a provider member by hand (their emails differ)."""
    members = session.exec(select(Member).where(Member.connection_id == connection.id)).all()
    target = next((m for m in members if m.email == email.lower()), None)
    if target is None:
        raise NotFound(Thing.MEMBER, email)
    for member in members:
        if member.slack_user_id == slack_user_id:
            member.slack_user_id = None
    target.slack_user_id = slack_user_id
