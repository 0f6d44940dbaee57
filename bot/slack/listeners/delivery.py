"""Delivering a reply: respond (ephemeral or in channel), and files to the user's DM."""

from __future__ import annotations

import logging

from slack_bolt import Respond
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from bot.slack.listeners.chart_delivery import send_chart
from bot.usecases.callers import Caller, Reply

logger = logging.getLogger(__name__)


def deliver(client: WebClient, respond: Respond, caller: Caller, reply: Reply) -> None:
    respond(
        text=reply.message.text,
        blocks=reply.message.blocks,
        response_type="in_channel" if reply.public else "ephemeral",
        replace_original=reply.replace_original,
    )
    if reply.csv is not None:
        send_file_to_user(client, respond, caller.user_id, *reply.csv)
    if reply.chart is not None:
        send_chart(client, respond, caller, reply.chart, public=reply.public)


def send_file_to_user(
    client: WebClient, respond: Respond, user_id: str, filename: str, content: str
) -> None:
    """Upload ``content`` to the user's DM with the bot; say so, or say why not."""
    try:
        channel = client.conversations_open(users=user_id)["channel"]["id"]
        client.files_upload_v2(
            channel=channel,
            content=content,
            filename=filename,
            title=filename,
            initial_comment="Here are all the rows as CSV.",
        )
    except SlackApiError as exc:
        logger.warning("csv upload to %s failed: %s", user_id, exc.response.get("error"))
        respond(
            text=f"I could not send you the CSV ({exc.response.get('error')}).",
            response_type="ephemeral",
            replace_original=False,
        )
        return
    respond(
        text=f"I sent you `{filename}` in a direct message.",
        response_type="ephemeral",
        replace_original=False,
    )
