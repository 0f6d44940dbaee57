"""The one error path for listeners: log who and what, apologise, never stay silent."""

from __future__ import annotations

import logging
from typing import Any

from slack_sdk.webhook import WebhookClient

logger = logging.getLogger(__name__)

SORRY = (
    ":warning: Something went wrong on our side while answering that. It has been logged; "
    "please try again in a minute."
)


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
