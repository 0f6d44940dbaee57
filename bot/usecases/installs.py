"""Installs and uninstalls of the app (OAuth mode): which workspaces the jobs serve.

An install (or a re-install) clears the workspace's uninstalled mark; an uninstall sets
it, so that no sync, digest or alert runs for it, and with ``purge`` deletes every row of
its data. The scheduler is told either way, so jobs start or stop at once.
"""

from __future__ import annotations

import logging
from collections.abc import Callable

from bot.services import BotServices
from ledger.accounts import get_or_create_workspace
from ledger.db import session_scope
from ledger.installs import mark_installed, mark_uninstalled, purge_workspace, workspaces_of
from ledger.models import Workspace

logger = logging.getLogger(__name__)


def workspace_installed(
    services: BotServices, *, enterprise_id: str | None, team_id: str | None, name: str
) -> None:
    """A team installed the app (``team_id`` None: org-wide, for every team of the org)."""
    with session_scope(services.engine) as session:
        if team_id is None:
            workspaces = workspaces_of(session, team_id=None, enterprise_id=enterprise_id)
        else:
            workspace = get_or_create_workspace(
                session, team_id=team_id, name=name, enterprise_id=enterprise_id
            )
            workspaces = [workspace]
        mark_installed(session, workspaces)
    logger.info("installed in %s", team_id or enterprise_id)
    services.jobs.reconcile()


def workspace_uninstalled(
    services: BotServices,
    *,
    enterprise_id: str | None,
    team_id: str | None,
    purge: bool,
    still_served: Callable[[Workspace], bool] = lambda _workspace: False,
) -> list[str]:
    """The app left a team (``team_id`` None: an org-wide install left its org).

    Teams that ``still_served`` says have an installation of their own are left alone.
    Returns the team ids whose jobs stopped.
    """
    with session_scope(services.engine) as session:
        found = workspaces_of(session, team_id=team_id, enterprise_id=enterprise_id)
        gone = [w for w in found if not still_served(w)]
        mark_uninstalled(session, gone, services.clock())
        if purge:
            for workspace in gone:
                assert workspace.id is not None
                purge_workspace(session, workspace.id)
        teams = [w.slack_team_id for w in gone]
    logger.info(
        "uninstalled from %s: %d workspace(s) stopped%s",
        team_id or enterprise_id,
        len(teams),
        ", their data purged" if purge else ", their data kept",
    )
    services.jobs.reconcile()
    return teams
