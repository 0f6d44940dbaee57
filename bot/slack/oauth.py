"""OAuth mode: Bolt's install flow on the ledger's database.

``GET /slack/install`` shows the "Add to Slack" page and sets the state cookie;
``GET /slack/oauth_redirect`` checks the state against the cookie and the state store,
exchanges the code with ``oauth.v2.access`` (on the configured Slack API URL: Bolt's OAuth
flow uses the app's client) and saves the installation. Requests are authorized by
:class:`~bot.slack.installations.InstallationAuthorize`, which refreshes rotating tokens.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Final

from slack_bolt.oauth.oauth_settings import OAuthSettings
from slack_sdk import WebClient
from slack_sdk.oauth.sqlalchemy_utils import normalize_datetime_for_db
from slack_sdk.oauth.state_store.sqlalchemy import SQLAlchemyOAuthStateStore
from sqlalchemy import Engine

from bot.slack.installations import (
    InstallationAuthorize,
    Installations,
    InstallationStore,
    InstallHook,
)
from ledger.slack_tables import OAUTH_STATES_TABLE

INSTALL_PATH: Final = "/slack/install"
REDIRECT_PATH: Final = "/slack/oauth_redirect"
#: How long an install may take between the install page and the redirect back.
STATE_SECONDS: Final = 600

#: The bot scopes of manifest.yml (a test keeps the two the same).
BOT_SCOPES: Final = (
    "commands",
    "chat:write",
    "im:write",
    "files:write",
    "files:read",
    "users:read",
    "users:read.email",
    "channels:read",
    "groups:read",
    "channels:history",
    "groups:history",
    "im:history",
)


@dataclass(frozen=True)
class OAuthConfig:
    """The OAuth settings the app needs, as plain values."""

    client_id: str
    client_secret: str
    redirect_uri: str | None
    rotation_minutes: int


@dataclass(frozen=True)
class OAuthParts:
    """What OAuth mode adds to the app: Bolt's settings, the installations, the authorize."""

    settings: OAuthSettings
    installations: Installations
    authorize: InstallationAuthorize


class StateStore(SQLAlchemyOAuthStateStore):
    """slack_sdk's state store, which deletes a state only when it is consumed: every visit
    of the public install page adds one. Expired states are deleted as new ones are issued,
    so the table holds at most the states of the last ``STATE_SECONDS``."""

    def issue(self, *args: Any, **kwargs: Any) -> str:
        with self.engine.begin() as connection:
            connection.execute(
                self.oauth_states.delete().where(
                    self.oauth_states.c.expire_at < normalize_datetime_for_db(datetime.now(UTC))
                )
            )
        return super().issue(*args, **kwargs)


def oauth_parts(
    config: OAuthConfig, engine: Engine, client: WebClient, on_installed: InstallHook
) -> OAuthParts:
    """Bolt's OAuth settings on SQLAlchemy stores in the ledger's database.

    The default file stores (under the home directory) never come into play, and
    ``client`` (the configured Slack API URL) serves the code exchange and refreshes.
    """
    store = InstallationStore(config.client_id, engine, on_installed)
    installations = Installations(
        store,
        client_secret=config.client_secret,
        client=client,
        rotation_minutes=config.rotation_minutes,
    )
    settings = OAuthSettings(
        client_id=config.client_id,
        client_secret=config.client_secret,
        scopes=list(BOT_SCOPES),
        user_scopes=[],
        redirect_uri=config.redirect_uri,
        install_path=INSTALL_PATH,
        redirect_uri_path=REDIRECT_PATH,
        installation_store=store,
        installation_store_bot_only=True,
        state_store=StateStore(
            expiration_seconds=STATE_SECONDS, engine=engine, table_name=OAUTH_STATES_TABLE
        ),
        state_expiration_seconds=STATE_SECONDS,
        token_rotation_expiration_minutes=config.rotation_minutes,
    )
    return OAuthParts(settings, installations, InstallationAuthorize(installations))
