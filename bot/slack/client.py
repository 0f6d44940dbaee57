"""The Slack Web API client: one setup, with retries, for the app and every sender."""

from __future__ import annotations

from slack_sdk import WebClient
from slack_sdk.http_retry.builtin_handlers import (
    ConnectionErrorRetryHandler,
    RateLimitErrorRetryHandler,
    ServerErrorRetryHandler,
)

SLACK_API_URL = "https://slack.com/api/"


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
