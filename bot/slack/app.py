"""The Bolt app: one client setup, one error handler, every listener registered."""

from __future__ import annotations

import logging
from concurrent.futures import ThreadPoolExecutor

from slack_bolt import App
from slack_sdk import WebClient

from bot.log_context import ContextExecutor
from bot.log_safety import protect_logging
from bot.services import BotServices
from bot.slack.errors import on_error
from bot.slack.listeners import register_listeners

logger = logging.getLogger(__name__)

#: Listener threads: acknowledgements must never wait behind slow reports or syncs.
LISTENER_THREADS = 32


def create_app(
    services: BotServices,
    client: WebClient,
    *,
    signing_secret: str,
    token_verification_enabled: bool = True,
    listener_executor: ThreadPoolExecutor | None = None,
) -> App:
    """The Bolt app on ``client`` (the assembly's one Slack client, with its bot token)."""
    app = App(
        signing_secret=signing_secret,
        client=client,
        listener_executor=listener_executor
        or ContextExecutor(max_workers=LISTENER_THREADS, thread_name_prefix="listener"),
        token_verification_enabled=token_verification_enabled,
        raise_error_for_unhandled_request=False,
    )
    app.error(on_error)
    register_listeners(app, services)
    protect_logging()  # Bolt's loggers, just made at the root's level, never log bodies
    return app
