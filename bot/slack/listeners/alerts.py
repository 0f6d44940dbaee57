"""Alert buttons: acknowledge, snooze, show the breakdown; every copy of the alert is updated."""

from __future__ import annotations

import logging
from typing import Any

from slack_bolt import Ack, Respond
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from bot.services import BotServices
from bot.slack.listeners.actions import caller_from_action
from bot.slack.listeners.commands import in_background
from bot.slack.listeners.delivery import deliver
from bot.usecases import alert_actions, answers
from digests.alerts import ACK, SNOOZE_DAY, SNOOZE_WEEK
from digests.errors import error_text
from ledger.errors import LedgerError, NotFound

logger = logging.getLogger(__name__)

#: The state buttons' action ids, and what each does (``ledger.alerts.lifecycle``'s words).
ACTIONS = {ACK: "acknowledge", SNOOZE_DAY: "snooze_1d", SNOOZE_WEEK: "snooze_7d"}

GONE = (
    "This alert no longer exists: its budget was probably removed. "
    "See `/spend alerts` for the open ones."
)
BAD_ID = "That alert id is not valid. See `/spend alerts` for the open ones."
NOT_RECIPIENT = (
    "Only the people this alert was sent to can acknowledge or snooze it "
    "(or a workspace admin). It stays as it is."
)


def refresh_copies(services: BotServices, client: WebClient, alert_id: int) -> int:
    """Re-render every message that shows ``alert_id`` (a DM may hold several alerts)."""
    copies = alert_actions.copies_to_refresh(services, alert_id, client)
    for copy in copies:
        try:
            client.chat_update(channel=copy.channel_id, ts=copy.ts, **copy.message.as_kwargs())
        except SlackApiError as exc:
            logger.warning(
                "could not update alert message %s: %s", copy.ts, exc.response.get("error")
            )
    return len(copies)


def _alert_id(value: object) -> int | None:
    """The alert id a button carries; None when the value is not one (a crafted request)."""
    text = str(value or "").strip()
    if not text.isascii() or not text.isdigit() or len(text) > 18:
        return None
    return int(text)


def _tell(respond: Respond, text: str) -> None:
    """An answer for the person who pressed the button only; the alert stays as it is."""
    respond(text=text, response_type="ephemeral", replace_original=False)


def on_state(
    ack: Ack, body: dict[str, Any], client: WebClient, respond: Respond, services: BotServices
) -> None:
    """Acknowledge or snooze: recorded for everyone, then every copy shows the new state."""
    ack()
    caller = caller_from_action(body)
    action = body["actions"][0]
    alert_id = _alert_id(action.get("value"))
    if alert_id is None:
        _tell(respond, BAD_ID)
        return

    def work() -> None:
        try:
            acted = alert_actions.act_on_alert(
                services, client, caller, alert_id, ACTIONS[action["action_id"]]
            )
        except NotFound:
            _tell(respond, GONE)
            return
        except LedgerError as exc:
            _tell(respond, error_text(exc))
            return
        if not acted:
            _tell(respond, NOT_RECIPIENT)
            return
        refresh_copies(services, client, alert_id)

    in_background(services, respond, caller, work)


def on_breakdown(
    ack: Ack, body: dict[str, Any], client: WebClient, respond: Respond, services: BotServices
) -> None:
    """The breakdown button: the spend behind the alert, by model."""
    ack()
    caller = caller_from_action(body)
    alert_id = _alert_id(body["actions"][0].get("value"))
    if alert_id is None:
        _tell(respond, BAD_ID)
        return

    def work() -> None:
        try:
            query = alert_actions.breakdown_query(services, caller, alert_id)
        except NotFound:
            _tell(respond, GONE)
            return
        reply = answers.handle_query(services, client, caller, query)
        reply.replace_original = False
        deliver(client, respond, caller, reply)

    in_background(services, respond, caller, work)
