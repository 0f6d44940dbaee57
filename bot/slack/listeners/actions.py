"""Buttons: confirm or cancel a disconnect, and quick questions."""

from __future__ import annotations

from typing import Any

from slack_bolt import Ack, Respond
from slack_sdk import WebClient

from bot.services import BotServices
from bot.slack import grammar
from bot.slack.listeners.commands import answer, in_background
from bot.slack.listeners.delivery import deliver
from bot.usecases import callers
from bot.usecases.callers import ADMIN_ONLY, Caller
from bot.usecases.connections import disconnect_cursor


def caller_from_action(body: dict[str, Any]) -> Caller:
    channel = body.get("channel") or {}
    return Caller(
        team_id=(body.get("team") or {}).get("id") or body["user"].get("team_id", ""),
        user_id=body["user"]["id"],
        channel_id=channel.get("id"),
        enterprise_id=(body.get("enterprise") or {}).get("id"),
    )


def on_disconnect(
    ack: Ack, body: dict[str, Any], client: WebClient, respond: Respond, services: BotServices
) -> None:
    """The disconnect prompt's confirm button (admins only)."""
    ack()
    caller = caller_from_action(body)
    if not callers.is_admin(services, client, caller):
        respond(text=ADMIN_ONLY.format(what="disconnect Cursor"), replace_original=False)
        return
    workspace = callers.workspace_for(services, caller)
    disconnected = disconnect_cursor(services.engine, workspace)
    services.jobs.reconcile()  # its sync job goes at once
    if not disconnected:  # never connected, or disconnected already (a second press)
        respond(
            text="There was nothing to disconnect: Cursor is not connected in this "
            "workspace. Connect it with `/spend cursor connect`.",
            replace_original=True,
        )
        return
    respond(
        text=f"Cursor was disconnected by <@{caller.user_id}>. The key is deleted; "
        "synced history is kept. Reconnect any time with `/spend cursor connect`.",
        replace_original=True,
    )


def on_cancel(ack: Ack, respond: Respond) -> None:
    """The disconnect prompt's cancel button."""
    ack()
    respond(text="Nothing changed: Cursor stays connected.", replace_original=True)


def on_quick(
    ack: Ack, body: dict[str, Any], client: WebClient, respond: Respond, services: BotServices
) -> None:
    """A quick-question button (replies, digests, App Home): answered like the command."""
    ack()
    caller = caller_from_action(body)
    command = grammar.parse(body["actions"][0].get("value") or "")

    def work() -> None:
        reply = answer(services, client, caller, command, respond)
        if reply is None:
            return
        if body.get("response_url"):
            reply.replace_original = False
            deliver(client, respond, caller, reply)
        else:  # App Home has no response URL: answer in the app's DM
            channel = client.conversations_open(users=caller.user_id)["channel"]["id"]
            client.chat_postMessage(channel=channel, **reply.message.as_kwargs())

    in_background(services, respond, caller, work)
