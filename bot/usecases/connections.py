"""A workspace's provider connections: disconnecting, re-encrypting their keys."""

from __future__ import annotations

from sqlalchemy import Engine

from ledger.accounts import disconnect, find_connection
from ledger.db import session_scope
from ledger.models import Workspace
from ledger.secrets import SecretBox, reencrypt_connections


def disconnect_cursor(engine: Engine, workspace: Workspace) -> bool:
    """Forget the workspace's Cursor key (history stays); False if it was not connected."""
    with session_scope(engine) as session:
        connection = find_connection(session, workspace, "cursor", required=False)
        if connection is None:
            return False
        disconnect(connection)
    return True


def reencrypt_keys(engine: Engine, box: SecretBox) -> int:
    """Re-encrypt every stored key under the newest secret key; returns the keys changed."""
    with session_scope(engine) as session:
        return reencrypt_connections(session, box)
