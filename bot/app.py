"""The Bolt app: one client setup, one error handler, every listener registered."""

from __future__ import annotations

import logging
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from slack_bolt import App
from slack_sdk import WebClient
from slack_sdk.http_retry.builtin_handlers import (
    ConnectionErrorRetryHandler,
    RateLimitErrorRetryHandler,
    ServerErrorRetryHandler,
)
from slack_sdk.webhook import WebhookClient

from bot.listeners import register_listeners
from bot.services import BotServices

logger = logging.getLogger(__name__)

SLACK_API_URL = "https://slack.com/api/"
#: Listener threads: acknowledgements must never wait behind slow reports or syncs.
LISTENER_THREADS = 32

SORRY = (
    ":warning: Something went wrong on our side while answering that. It has been logged; "
    "please try again in a minute."
)


def slack_client(token: str | None, api_url: str | None = None) -> WebClient:
    """A Web API client with retries for rate limits, server and connection errors."""
    base_url = (api_url or SLACK_API_URL).rstrip("/") + "/"
    return WebClient(
        token=token,
        base_url=base_url,
        retry_handlers=[
            RateLimitErrorRetryHandler(max_retry_count=3),
            ServerErrorRetryHandler(max_retry_count=2),
            ConnectionErrorRetryHandler(max_retry_count=2),
        ],
    )


def create_app(
    services: BotServices,
    *,
    signing_secret: str,
    token: str,
    slack_api_url: str | None = None,
    client: WebClient | None = None,
    token_verification_enabled: bool = True,
    listener_executor: ThreadPoolExecutor | None = None,
) -> App:
    app = App(
        token=token,
        signing_secret=signing_secret,
        client=client or slack_client(token, slack_api_url),
        listener_executor=listener_executor
        or ThreadPoolExecutor(max_workers=LISTENER_THREADS, thread_name_prefix="listener"),
        token_verification_enabled=token_verification_enabled,
        raise_error_for_unhandled_request=False,
    )
    app.error(on_error)
    register_listeners(app, services)
    return app


def on_error(error: Exception, body: dict[str, Any]) -> None:
    """The one error path: log who and what (never the payload, which may hold a key), apologise."""
    team = body.get("team_id") or (body.get("team") or {}).get("id")
    user = body.get("user_id") or (body.get("user") or {}).get("id")
    logger.error(
        "listener failed for team %s user %s: %s: %s",
        team,
        user,
        type(error).__name__,
        error,
        exc_info=(type(error), error, error.__traceback__),
    )
    response_url = body.get("response_url")
    if response_url:
        try:
            WebhookClient(response_url).send(text=SORRY, response_type="ephemeral")
        except Exception:  # the apology itself must never raise
            logger.warning("could not tell team %s user %s about the failure", team, user)
