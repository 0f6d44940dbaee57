"""`/spend digest …`: add, list, remove, preview and send digests."""

from __future__ import annotations

from zoneinfo import ZoneInfo

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from bot.services import BotServices
from bot.slack import grammar
from bot.usecases.callers import Caller, Reply, text_reply, workspace_for
from bot.usecases.digest_delivery import DeliveryOutcome
from bot.usecases.digest_rendering import render_digest
from digests.blocks import section
from digests.format import escape
from ledger import schedules
from ledger.accounts import find_connection
from ledger.db import session_scope
from ledger.group_budgets import resolve_group
from ledger.models import ScheduleStatus, Workspace


def _not_in_channel(client: WebClient, channel_id: str) -> str | None:
    """Why the bot cannot post in ``channel_id``, or None when it can."""
    try:
        channel = client.conversations_info(channel=channel_id)["channel"]
    except SlackApiError as exc:
        if exc.response.get("error") == "channel_not_found":
            return (
                f"I cannot see <#{channel_id}>. If it is private, invite me first: "
                f"`/invite @StackSpend` in that channel."
            )
        raise
    if channel.get("is_archived"):
        return f"<#{channel_id}> is archived: pick another channel."
    if not channel.get("is_member"):
        return f"I am not in <#{channel_id}> yet: type `/invite @StackSpend` there, then try again."
    return None


def add(
    services: BotServices, client: WebClient, caller: Caller, command: grammar.DigestAdd
) -> Reply:
    problem = _not_in_channel(client, command.channel_id)
    if problem:
        return text_reply(problem)
    workspace = workspace_for(services, caller)
    with session_scope(services.engine) as session:
        stored = session.get(Workspace, workspace.id)
        assert stored is not None
        group = None
        if command.group is not None:
            connection = find_connection(session, stored)
            assert connection is not None and connection.id is not None
            group = resolve_group(session, connection.id, command.group)
        schedule = schedules.add_schedule(
            session,
            stored,
            channel_id=command.channel_id,
            local_time=command.local_time,
            cadence=command.cadence,
            created_by=caller.user_id,
            now=services.clock(),
            group=group,
        )
    services.jobs.reconcile()
    whose = escape(f' of group "{group[1]}"') if group else ""
    return text_reply(
        f"Digest {schedule.id}{whose}: <#{command.channel_id}> at {command.local_time:%H:%M} "
        f"{workspace.timezone}, {command.cadence}. Preview it with `/spend digest preview`."
    )


def list_all(services: BotServices, caller: Caller) -> Reply:
    workspace = workspace_for(services, caller)
    with session_scope(services.engine) as session:
        rows = schedules.list_schedules(session, workspace)
        groups = {
            i: g.group_name
            for i, g in schedules.digest_groups(session, (s.id for s in rows)).items()
        }
    if not rows:
        return text_reply("No digests yet: `/spend digest add #channel 09:00 weekdays`.")
    lines = [
        f"*{s.id}* · <#{s.channel_id}> at {s.local_time:%H:%M} {workspace.timezone}, {s.cadence}"
        + (escape(f' · group "{groups[s.id or 0]}"') if (s.id or 0) in groups else "")
        + (
            f" · :warning: failing ({escape(s.last_error)})"
            if s.status is ScheduleStatus.FAILING
            else ""
        )
        for s in rows
    ]
    return text_reply("*Digests*\n" + "\n".join(lines))


def remove(services: BotServices, caller: Caller, command: grammar.DigestRemove) -> Reply:
    workspace = workspace_for(services, caller)
    with session_scope(services.engine) as session:
        removed = schedules.remove_schedule(session, workspace, command.id)
    services.jobs.reconcile()
    return text_reply(f"Digest {removed.id} for <#{removed.channel_id}> removed.")


def preview(services: BotServices, caller: Caller) -> Reply:
    workspace = workspace_for(services, caller)
    today = services.clock().astimezone(ZoneInfo(workspace.timezone)).date()
    rendered = render_digest(services, workspace, today=today, chart=False)
    message = rendered.message
    message.blocks.append(section("_Preview: only you see this._"))
    return Reply(message)


def send_now(services: BotServices, caller: Caller, command: grammar.DigestSend) -> Reply:
    workspace = workspace_for(services, caller)
    with session_scope(services.engine) as session:
        schedule = schedules.get_schedule(session, workspace, command.id)
    outcome = services.digests.send_now(schedule, workspace, now=services.clock())
    if outcome == DeliveryOutcome.SENT:
        return text_reply(f"Digest {schedule.id} posted to <#{schedule.channel_id}>.")
    return text_reply(
        f"Digest {schedule.id} could not be posted ({outcome}); see `/spend digest list`."
    )
