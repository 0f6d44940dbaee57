"""Delivering an on-demand chart: to the asker's DM with the bot, or with `public` to the
channel the command came from, through Slack's external upload (``files_upload_v2`` calls
files.getUploadURLExternal, posts the bytes, then files.completeUploadExternal)."""

from __future__ import annotations

import logging

from slack_bolt import Respond
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from bot.usecases.callers import Caller, ChartFile

logger = logging.getLogger(__name__)


def send_chart(
    client: WebClient, respond: Respond, caller: Caller, chart: ChartFile, *, public: bool
) -> None:
    """Upload ``chart`` where the reply went (the channel when public, else the asker's DM);
    say so, or say why not."""
    try:
        if public and caller.channel_id:
            channel = caller.channel_id
        else:
            channel = client.conversations_open(users=caller.user_id)["channel"]["id"]
        client.files_upload_v2(
            channel=channel,
            content=chart.png,
            filename=chart.filename,
            title=chart.title,
            alt_txt=chart.alt_text,
        )
    except SlackApiError as exc:
        error = exc.response.get("error")
        logger.warning("chart upload for %s failed: %s", caller.user_id, error)
        hint = " Invite me to this channel, or ask without `public`." if public else ""
        respond(
            text=f"I could not send the chart ({error}).{hint}",
            response_type="ephemeral",
            replace_original=False,
        )
        return
    if not public:
        respond(
            text="I sent you the chart in a direct message.",
            response_type="ephemeral",
            replace_original=False,
        )
