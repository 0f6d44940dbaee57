"""The Bolt app: one client setup, one error handler, every listener registered."""

from __future__ import annotations

import logging
from concurrent.futures import ThreadPoolExecutor

from slack_bolt import App
from slack_sdk import WebClient
from slack_sdk.http_retry.builtin_handlers import (
    ConnectionErrorRetryHandler,
    RateLimitErrorRetryHandler,
    ServerErrorRetryHandler,
)

from bot.alert_jobs import AlertNotifier
from bot.errors import on_error
from bot.listeners import register_listeners
from bot.log_safety import protect_logging
from bot.services import BotServices

logger = logging.getLogger(__name__)

SLACK_API_URL = "https://slack.com/api/"
#: Listener threads: acknowledgements must never wait behind slow reports or syncs.
LISTENER_THREADS = 32


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
    notifier = AlertNotifier(services, lambda _team: app.client)

    def evaluate_alerts(workspace_id: int) -> None:
        notifier.run(workspace_id=workspace_id)

    services.evaluate_alerts = evaluate_alerts
    register_listeners(app, services)
    protect_logging()  # Bolt's loggers, just made at the root's level, never log bodies
    return app
