"""Slack installations (OAuth mode): the store, per-team bot lookup and token rotation.

:class:`Installations` owns slack_sdk's SQLAlchemy installation store on the ledger's
engine and answers one question for Bolt's requests and the background jobs alike: the
bot token of a team, fresh. A team's own install comes first; a team of an Enterprise
Grid org without one uses the org-wide install (stored with ``team_id`` NULL).

Rotating tokens are refreshed here when they expire within ``rotation_minutes``:
refresh tokens are single-use, so the refresh runs under a lock named after the
installation (``ledger.locks.held_lock``: a thread lock, plus a PostgreSQL advisory lock
across processes) and re-reads the installation inside it: the second of two refreshers
finds the token already fresh and uses it.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from typing import Any

from slack_bolt.authorization import AuthorizeResult
from slack_bolt.authorization.authorize import Authorize
from slack_bolt.context import BoltContext
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError
from slack_sdk.oauth.installation_store import Bot, Installation
from slack_sdk.oauth.installation_store.sqlalchemy import SQLAlchemyInstallationStore
from slack_sdk.oauth.token_rotation import TokenRotator
from sqlalchemy import Engine

from bot.slack.client import slack_client
from ledger.locks import held_lock
from ledger.slack_tables import BOTS_TABLE, INSTALLATIONS_TABLE

logger = logging.getLogger(__name__)

#: Told of every completed install: (enterprise id, team id or None for org-wide, team name).
InstallHook = Callable[[str | None, str | None, str], None]


class InstallationStore(SQLAlchemyInstallationStore):
    """slack_sdk's store on the ledger's tables; a completed install is also reported."""

    def __init__(self, client_id: str, engine: Engine, on_installed: InstallHook) -> None:
        super().__init__(
            client_id,
            engine,
            bots_table_name=BOTS_TABLE,
            installations_table_name=INSTALLATIONS_TABLE,
        )
        self.on_installed = on_installed

    def save(self, installation: Installation) -> None:
        super().save(installation)
        self.on_installed(
            installation.enterprise_id,
            None if installation.is_enterprise_install else installation.team_id,
            installation.team_name or installation.enterprise_name or "",
        )


class Installations:
    """Bot tokens per team, from the installation store, refreshed when they rotate."""

    def __init__(
        self,
        store: SQLAlchemyInstallationStore,
        *,
        client_secret: str,
        client: WebClient,
        rotation_minutes: int,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.store = store
        self.client = client
        self.rotation_minutes = rotation_minutes
        self.rotator = TokenRotator(
            client_id=store.client_id, client_secret=client_secret, client=client
        )
        self.clock = clock

    def find_bot(
        self, *, enterprise_id: str | None, team_id: str | None, org_wide: bool = False
    ) -> Bot | None:
        """The team's own install, else its enterprise's org-wide install, else None."""
        bot: Bot | None = None
        if team_id is not None and not org_wide:
            bot = self.store.find_bot(enterprise_id=enterprise_id, team_id=team_id)
        if bot is None and enterprise_id is not None:
            bot = self.store.find_bot(
                enterprise_id=enterprise_id, team_id=None, is_enterprise_install=True
            )
        return bot

    def fresh_bot(
        self, *, enterprise_id: str | None, team_id: str | None, org_wide: bool = False
    ) -> Bot | None:
        """:meth:`find_bot`, its token refreshed first when it expires soon."""
        bot = self.find_bot(enterprise_id=enterprise_id, team_id=team_id, org_wide=org_wide)
        if bot is None or not self._expiring(bot):
            return bot
        name = f"slack-bot:{self.store.client_id}:{bot.enterprise_id}:{bot.team_id}"
        with held_lock(self.store.engine, name):
            # Another thread or replica may have refreshed it while this one waited.
            current = self.store.find_bot(
                enterprise_id=bot.enterprise_id,
                team_id=bot.team_id,
                is_enterprise_install=bool(bot.is_enterprise_install),
            )
            if current is None or not self._expiring(current):
                return current
            try:
                rotated = self.rotator.perform_bot_token_rotation(
                    bot=current, minutes_before_expiration=self.rotation_minutes
                )
            except SlackApiError as exc:  # the token in hand still works until it expires
                logger.warning(
                    "refreshing the bot token of %s failed: %s",
                    bot.team_id or bot.enterprise_id,
                    exc.response.get("error"),
                )
                return current
            if rotated is None:
                return current
            self.store.save_bot(rotated)
            logger.info("refreshed the rotating bot token of %s", bot.team_id or bot.enterprise_id)
            return rotated

    def client_for(self, team_id: str, enterprise_id: str | None) -> WebClient:
        """A client with the team's bot token (none when the team has no installation:
        its calls then fail as ``not_authed``, like any refused Slack call)."""
        bot = self.fresh_bot(enterprise_id=enterprise_id, team_id=team_id)
        if bot is None:
            logger.warning("no Slack installation for team %s", team_id)
        return slack_client(bot.bot_token if bot else None, self.client.base_url)

    def _expiring(self, bot: Bot) -> bool:
        expires_at = bot.bot_token_expires_at
        return expires_at is not None and expires_at <= self.clock() + self.rotation_minutes * 60


class InstallationAuthorize(Authorize):
    """Bolt's authorize step on :class:`Installations`: the same lookup, the same locked
    rotation, for requests as for background jobs."""

    def __init__(self, installations: Installations) -> None:
        super().__init__()  # type: ignore[no-untyped-call]
        self.installations = installations

    def __call__(
        self,
        *,
        context: BoltContext,
        enterprise_id: str | None,
        team_id: str | None,
        user_id: str | None,
        **_actor: Any,
    ) -> AuthorizeResult | None:
        bot = self.installations.fresh_bot(
            enterprise_id=enterprise_id,
            team_id=team_id,
            org_wide=bool(context.is_enterprise_install) and team_id is None,
        )
        if bot is None:
            return None
        return AuthorizeResult(
            enterprise_id=enterprise_id,
            team_id=team_id,
            team=bot.team_name,
            bot_user_id=bot.bot_user_id,
            bot_id=bot.bot_id,
            bot_token=bot.bot_token,
            bot_scopes=bot.bot_scopes,
            user_id=user_id,
        )
