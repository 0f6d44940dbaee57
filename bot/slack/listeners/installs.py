"""OAuth mode: `app_uninstalled` and `tokens_revoked` events.

Both delete the tokens from the installation store (what Bolt's own revocation listeners
do, which this replaces: Bolt runs one listener per event) and stop the workspace's jobs;
an uninstall also keeps or purges its data as ``STACKSPEND_UNINSTALL_DATA`` says.
An org-wide install on Enterprise Grid leaves every team of the org that has no install of
its own.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from slack_bolt import App, BoltContext

from bot.services import BotServices
from bot.slack.installations import Installations
from bot.usecases.installs import workspace_uninstalled
from ledger.models import Workspace


@dataclass(frozen=True)
class InstallEvents:
    installations: Installations
    purge: bool

    def register(self, app: App) -> None:
        app.event("app_uninstalled")(self.on_app_uninstalled)
        app.event("tokens_revoked")(self.on_tokens_revoked)

    def on_app_uninstalled(self, context: BoltContext, services: BotServices) -> None:
        enterprise_id, team_id = _installed_as(context)
        # Jobs first, tokens last: Slack sends the event once, and a workspace whose
        # tokens are gone must not be left scheduled if stopping it fails.
        self._stop(services, enterprise_id, team_id, purge=self.purge)
        self.installations.store.delete_all(enterprise_id=enterprise_id, team_id=team_id)

    def on_tokens_revoked(
        self, event: dict[str, Any], context: BoltContext, services: BotServices
    ) -> None:
        enterprise_id, team_id = _installed_as(context)
        tokens = event.get("tokens") or {}
        for user_id in tokens.get("oauth") or []:
            self.installations.store.delete_installation(
                enterprise_id=enterprise_id, team_id=team_id, user_id=user_id
            )
        if tokens.get("bot"):
            self.installations.store.delete_bot(enterprise_id=enterprise_id, team_id=team_id)
            # Without its bot token nothing can be posted there: stop, keep the data.
            self._stop(services, enterprise_id, team_id, purge=False)

    def _stop(
        self,
        services: BotServices,
        enterprise_id: str | None,
        team_id: str | None,
        *,
        purge: bool,
    ) -> None:
        def served(workspace: Workspace) -> bool:
            """An org-wide uninstall spares a team that installed the app itself."""
            own = self.installations.store.find_bot(
                enterprise_id=workspace.enterprise_id, team_id=workspace.slack_team_id
            )
            return team_id is None and own is not None

        workspace_uninstalled(
            services,
            enterprise_id=enterprise_id,
            team_id=team_id,
            purge=purge,
            still_served=served,
        )


def _installed_as(context: BoltContext) -> tuple[str | None, str | None]:
    """(enterprise id, team id) as the installation is stored: an org-wide install has none."""
    if context.is_enterprise_install:
        return context.enterprise_id, None
    return context.enterprise_id, context.team_id
