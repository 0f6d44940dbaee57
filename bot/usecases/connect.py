"""Connecting Cursor: check a key with one live call, then store it encrypted."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING

from sqlalchemy import Engine

from ledger.accounts import get_or_create_workspace, store_connection
from ledger.db import session_scope
from ledger.secrets import SecretBox

if TYPE_CHECKING:
    from connectors.cursor.access import CursorAccess


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
