"""Connecting Cursor: a modal takes the key, one live call checks it, then it is stored."""

from __future__ import annotations

import json
import logging
from typing import Any

from slack_bolt import Ack
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from bot.services import BotServices
from bot.slack import ids
from bot.slack.listeners.syncing import run_sync_and_report
from bot.usecases import callers
from bot.usecases.callers import Caller
from bot.usecases.connect import check_cursor_key, store_cursor_key
from connectors.errors import AuthError, ConnectorError, PlanError, UnavailableError
from ledger.models import SyncTrigger

logger = logging.getLogger(__name__)


def connect_view(caller: Caller) -> dict[str, Any]:
    return {
        "type": "modal",
        "callback_id": ids.CONNECT_VIEW,
        "title": {"type": "plain_text", "text": "Connect Cursor"},
        "submit": {"type": "plain_text", "text": "Connect"},
        "close": {"type": "plain_text", "text": "Cancel"},
        "private_metadata": json.dumps({"channel_id": caller.channel_id}),
        "blocks": [
            {
                "type": "section",
                "text": {
                    "type": "mrkdwn",
                    "text": "Paste a Cursor *Admin API key* "
                    "(Cursor dashboard > Settings > API Keys). "
                    "It is checked with one call to Cursor, then stored encrypted; "
                    "it is never shown again.",
                },
            },
            {
                "type": "input",
                "block_id": ids.CONNECT_KEY_BLOCK,
                "label": {"type": "plain_text", "text": "Admin API key"},
                "element": {
                    "type": "plain_text_input",
                    "action_id": ids.CONNECT_KEY_INPUT,
                    "placeholder": {"type": "plain_text", "text": "crsr_…"},
                },
            },
        ],
    }


def open_connect_modal(client: WebClient, trigger_id: str, caller: Caller) -> None:
    client.views_open(trigger_id=trigger_id, view=connect_view(caller))


def key_problem(services: BotServices, api_key: str) -> tuple[str | None, tuple[str, int] | None]:
    """(error to show in the modal, None) or (None, (key hint, team size))."""
    if not api_key or any(ch.isspace() for ch in api_key):
        return "Paste the key alone, with no spaces.", None
    try:
        return None, check_cursor_key(services.cursor_check_access(), api_key)
    except AuthError:
        return "Cursor rejected this key (invalid or revoked). Check it is an Admin API key.", None
    except PlanError:
        return "Cursor says this team's plan has no Admin API access (Enterprise only).", None
    except UnavailableError:
        return "Cursor did not answer in time. Nothing was stored: try again in a minute.", None
    except ConnectorError as exc:
        return f"Cursor refused the check: {exc}"[:150], None


def on_submit(ack: Ack, body: dict[str, Any], client: WebClient, services: BotServices) -> None:
    """The connect modal's key: check it live, store it encrypted, run the first sync."""
    view = body["view"]
    caller = Caller(
        team_id=body["team"]["id"],
        user_id=body["user"]["id"],
        channel_id=json.loads(view.get("private_metadata") or "{}").get("channel_id"),
        enterprise_id=(body.get("enterprise") or {}).get("id"),
    )
    value = view["state"]["values"][ids.CONNECT_KEY_BLOCK][ids.CONNECT_KEY_INPUT]["value"]
    api_key = (value or "").strip()
    if not callers.is_admin(services, client, caller):
        ack(response_action="errors", errors={ids.CONNECT_KEY_BLOCK: "Only admins can connect."})
        return
    problem, checked = key_problem(services, api_key)
    if problem is not None or checked is None:
        ack(response_action="errors", errors={ids.CONNECT_KEY_BLOCK: problem or "Try again."})
        return
    ack()
    key_hint, members = checked
    _, connection_id = store_cursor_key(
        services.engine,
        box=services.box,
        team_id=caller.team_id,
        enterprise_id=caller.enterprise_id,
        api_key=api_key,
        key_hint=key_hint,
        connected_by=caller.user_id,
        now=services.clock(),
    )
    tell = notifier(client, caller)
    tell(
        text=f":white_check_mark: Cursor connected (key {key_hint}, {members} members). "
        "The first sync has started; I will tell you how much history Cursor returned."
    )
    try:  # the scheduler learns of the connection as soon as this first sync has started
        run_sync_and_report(services, connection_id, trigger=SyncTrigger.CONNECT, respond=tell)
    finally:
        services.jobs.reconcile()


def notifier(client: WebClient, caller: Caller) -> Any:
    """Tell the admin privately: in the channel they used if possible, else by DM."""

    def tell(text: str, **_: Any) -> None:
        if caller.channel_id:
            try:
                client.chat_postEphemeral(channel=caller.channel_id, user=caller.user_id, text=text)
                return
            except SlackApiError as exc:
                logger.info(
                    "ephemeral to %s failed: %s", caller.channel_id, exc.response.get("error")
                )
        dm = client.conversations_open(users=caller.user_id)["channel"]["id"]
        client.chat_postMessage(channel=dm, text=text)

    return tell
