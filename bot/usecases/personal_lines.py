"""`/spend me daily|weekly|off`: a person's own line by DM; and who may know who asked.

A person subscribes themselves only (the command has no subject). Admins see how many
people subscribed (``/spend status``), and who only when the workspace's visibility
policy is ``all``; members see their own subscription.
"""

from __future__ import annotations

from datetime import date
from zoneinfo import ZoneInfo

from slack_sdk import WebClient

from bot.jobs.personal_due import DEFAULT_LOCAL_TIME, next_occurrence
from bot.services import BotServices
from bot.slack import grammar
from bot.usecases.callers import Caller, Reply, email_of, text_reply, workspace_for
from bot.usecases.personal_people import valid_zone
from digests.daily_words import short_date
from ledger import personal
from ledger.accounts import find_connection
from ledger.db import session_scope
from ledger.models import Visibility, Workspace
from ledger.personal_models import LineCadence, PersonalSubscription
from ledger.visibility import Viewer

NO_EMAIL = (
    "I could not find your email in Slack, so I cannot match you to a Cursor user. "
    "Ask an admin to check that the bot has the `users:read.email` scope, or to link you "
    "with `/spend settings link`."
)

REMOVED = (
    "Cursor lists you as removed from the team, so there is no spend of yours to send. "
    "If that is wrong, ask an admin to check the team in Cursor's dashboard."
)
NOT_LISTED = (
    "(Cursor does not list your email among the team's members yet: your lines show $0 "
    "until it does, or until an admin links you with `/spend settings link`.)"
)

NOT_CONNECTED = "(Cursor is not connected yet: lines start once an admin connects it.)"


def subscribe(
    services: BotServices, client: WebClient, caller: Caller, command: grammar.PersonalLine
) -> Reply:
    """Subscribe the caller at their profile's local time (the workspace's if it has none)."""
    workspace = workspace_for(services, caller)
    email = email_of(services, client, caller, caller.user_id)
    if email is None:
        return text_reply(NO_EMAIL)
    with session_scope(services.engine) as session:
        listed = personal.membership(session, workspace, email)
        connected = find_connection(session, workspace, "cursor", required=False) is not None
    if listed == "removed":
        return text_reply(REMOVED)
    person = services.directory.person(client, caller.team_id, caller.user_id)
    zone = valid_zone(person.tz)
    timezone = zone or workspace.timezone
    cadence = LineCadence(command.cadence)
    at = command.local_time or DEFAULT_LOCAL_TIME
    now = services.clock()
    with session_scope(services.engine) as session:
        personal.subscribe(
            session,
            workspace,
            user_id=caller.user_id,
            cadence=cadence,
            local_time=at,
            timezone=timezone,
            now=now,
        )
    first = next_occurrence(cadence, at, ZoneInfo(timezone), ZoneInfo(workspace.timezone), now)
    local = first.due_at.astimezone(ZoneInfo(timezone))
    every = "every day" if cadence is LineCadence.DAILY else "every Monday"
    source = "your Slack profile's timezone" if zone else "the workspace's timezone"
    return text_reply(
        f"Done: your own Cursor spend comes by DM {every} at {at:%H:%M} {timezone} "
        f"({source}). The first, for {_period(first.first, first.last)}, "
        f"on {local:%a} {short_date(local.date())} at {local:%H:%M}. "
        "Only you get it. `/spend me off` stops it."
        + ("" if listed else f" {NOT_LISTED if connected else NOT_CONNECTED}")
    )


def _period(first: date, last: date) -> str:
    if first == last:
        return f"{first:%a} {short_date(first)}"
    return f"the week of {short_date(first)} to {short_date(last)}"


def unsubscribe(services: BotServices, caller: Caller) -> Reply:
    workspace = workspace_for(services, caller)
    with session_scope(services.engine) as session:
        removed = personal.unsubscribe(session, workspace, caller.user_id)
    if removed:
        return text_reply("Your personal line is off: no more DMs. `/spend me daily` restarts it.")
    return text_reply(
        "You had no personal line. `/spend me daily` or `/spend me weekly` starts one."
    )


#: Subscribers named in `/spend status` (the rest are counted): Slack's section holds
#: 3,000 characters, and the status has more to say after them.
NAMED = 50


def _named(subscriptions: list[PersonalSubscription]) -> str:
    who = ", ".join(f"<@{s.slack_user_id}>" for s in subscriptions[:NAMED])
    more = len(subscriptions) - NAMED
    return who + (f" and {more:,} more" if more > 0 else "")


def status_lines(
    services: BotServices, workspace: Workspace, viewer: Viewer, user_id: str
) -> list[str]:
    """The personal-lines part of `/spend status`: counts for admins (who, under ``all``),
    the caller's own subscription for everyone."""
    lines: list[str] = []
    with session_scope(services.engine) as session:
        own = personal.subscription_of(session, workspace, user_id)
        if viewer.is_admin:
            counts = personal.counts(session, workspace)
            line = (
                f"Personal lines: {counts.total} people subscribed "
                f"({counts.daily} daily, {counts.weekly} weekly)"
            )
            if workspace.visibility is Visibility.ALL and counts.total:
                line += f": {_named(personal.subscribers(session, workspace))}"
            lines.append(line)
    if own is not None:
        lines.append(
            f"Your personal line: {own.cadence.value} at {own.local_time:%H:%M} {own.timezone}"
        )
    return lines
