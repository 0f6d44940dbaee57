"""Installs and uninstalls of the Slack app, as the ledger sees them.

An uninstalled workspace keeps its row with ``uninstalled_at`` set: every scheduled job
skips it (:data:`installed`) until it is installed again. :func:`purge_workspace` deletes
every row that belongs to a workspace, found through the foreign keys, so a table added
later under ``workspace`` or ``connection`` is purged too.

Every function takes the session and leaves the commit to the caller.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, Table, delete
from sqlalchemy import select as sa_select
from sqlmodel import Session, SQLModel, col, select

from ledger.models import Workspace

#: The where-clause every scheduler input adds: the workspace has not uninstalled the app.
installed: ColumnElement[bool] = col(Workspace.uninstalled_at).is_(None)


def workspaces_of(
    session: Session, *, team_id: str | None, enterprise_id: str | None
) -> list[Workspace]:
    """The workspace of a team, or (``team_id`` None) every workspace of an enterprise."""
    query = select(Workspace).where(col(Workspace.enterprise_id) == enterprise_id)
    if team_id is not None:
        query = query.where(Workspace.slack_team_id == team_id)
    elif enterprise_id is None:
        return []
    return list(session.exec(query).all())


def mark_uninstalled(session: Session, workspaces: list[Workspace], now: datetime) -> None:
    for workspace in workspaces:
        if workspace.uninstalled_at is None:
            workspace.uninstalled_at = now
            session.add(workspace)
    session.flush()


def mark_installed(session: Session, workspaces: list[Workspace]) -> None:
    for workspace in workspaces:
        if workspace.uninstalled_at is not None:
            workspace.uninstalled_at = None
            session.add(workspace)
    session.flush()


def _owned_rows(table: Table, workspace_id: int) -> ColumnElement[bool] | None:
    """Which rows of ``table`` belong to the workspace, by a chain of foreign keys to it."""
    workspace = Workspace.__table__  # type: ignore[attr-defined]
    if table is workspace:
        return workspace.c.id == workspace_id
    for fk in table.foreign_keys:
        parent = fk.column.table
        if not isinstance(parent, Table) or parent is table:
            continue
        parent_rows = _owned_rows(parent, workspace_id)
        if parent_rows is not None:
            owned: Any = sa_select(fk.column).where(parent_rows)
            return fk.parent.in_(owned)
    return None


def purge_workspace(session: Session, workspace_id: int) -> dict[str, int]:
    """Delete every row of the workspace, children first; returns rows deleted per table."""
    deleted: dict[str, int] = {}
    for table in reversed(SQLModel.metadata.sorted_tables):
        rows = _owned_rows(table, workspace_id)
        if rows is None:
            continue
        result: Any = session.execute(delete(table).where(rows))
        if result.rowcount:
            deleted[table.name] = result.rowcount
    session.flush()
    return deleted
