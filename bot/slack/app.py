"""The Bolt app: one client setup, one error handler, every listener registered."""

from __future__ import annotations

import logging
import os
from concurrent.futures import ThreadPoolExecutor

from slack_bolt import App
from slack_sdk import WebClient

from bot.log_context import ContextExecutor
from bot.log_safety import protect_logging
from bot.services import BotServices
from bot.slack.errors import on_error
from bot.slack.listeners import register_listeners
from bot.slack.listeners.installs import InstallEvents
from bot.slack.oauth import OAuthParts

logger = logging.getLogger(__name__)

#: Listener threads: acknowledgements must never wait behind slow reports or syncs.
LISTENER_THREADS = 32


BOLT_OAUTH_VARIABLES = ("SLACK_CLIENT_ID", "SLACK_CLIENT_SECRET")


def _keep_bolt_from_oauth() -> None:
    """Single-workspace mode: Bolt turns OAuth on when both variables are in the
    environment, even empty (``SLACK_CLIENT_ID=`` in an env file). Empty ones are dropped;
    set ones mean the settings chose the wrong mode, which start-up refuses already."""
    for name in BOLT_OAUTH_VARIABLES:
        if name in os.environ and not os.environ[name].strip():
            del os.environ[name]
    if all(os.environ.get(name) for name in BOLT_OAUTH_VARIABLES):
        raise RuntimeError(
            "SLACK_CLIENT_ID and SLACK_CLIENT_SECRET are set: serve in OAuth mode "
            "(without SLACK_BOT_TOKEN), or remove them"
        )


def create_app(
    services: BotServices,
    client: WebClient,
    *,
    signing_secret: str,
    token_verification_enabled: bool = True,
    listener_executor: ThreadPoolExecutor | None = None,
    oauth: OAuthParts | None = None,
    uninstall_purges: bool = False,
) -> App:
    """The Bolt app on ``client`` (the assembly's one Slack client).

    Single-workspace mode (``oauth`` None): ``client`` carries the bot token. OAuth mode:
    ``client`` has no token; each request gets its team's token from the installations,
    and the install and redirect routes are on. The mode is always passed explicitly:
    Bolt would otherwise turn OAuth on by itself when SLACK_CLIENT_ID and
    SLACK_CLIENT_SECRET are in the environment.
    """
    executor = listener_executor or ContextExecutor(
        max_workers=LISTENER_THREADS, thread_name_prefix="listener"
    )
    if oauth is None:
        _keep_bolt_from_oauth()
        app = App(
            signing_secret=signing_secret,
            client=client,
            listener_executor=executor,
            token_verification_enabled=token_verification_enabled,
            raise_error_for_unhandled_request=False,
            oauth_settings=None,
            oauth_flow=None,
        )
    else:
        app = App(
            signing_secret=signing_secret,
            client=client,
            listener_executor=executor,
            raise_error_for_unhandled_request=False,
            oauth_settings=oauth.settings,
            authorize=oauth.authorize,  # type: ignore[arg-type]  # an Authorize is accepted
            installation_store_bot_only=True,
        )
    app.error(on_error)
    register_listeners(app, services)
    if oauth is not None:
        InstallEvents(oauth.installations, purge=uninstall_purges).register(app)
    protect_logging()  # Bolt's loggers, just made at the root's level, never log bodies
    return app
