"""Answers to `/spend` commands, independent of how Slack delivers them.

Each handler takes the services, the caller and a Slack client (for directory
look-ups only) and returns a ``Reply`` (``bot.usecases.callers``); listeners deliver it.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from slack_sdk import WebClient
from sqlmodel import col, select

from bot.services import BotServices
from bot.slack import grammar, ids
from bot.usecases.budget_view import alert_lines, budget_lines
from bot.usecases.callers import Caller, Reply, email_of, text_reply, viewer_for, workspace_for
from bot.usecases.chart_replies import query_chart
from bot.usecases.comparison_replies import comparison_reply
from bot.usecases.personal_lines import status_lines
from bot.usecases.reports import report_for
from bot.usecases.seats import seat_price_line
from bot.usecases.sync_status import freshness_lines
from digests.blocks import Button, Message, actions, section
from digests.format import escape, local_time
from digests.history_words import local_day
from digests.slack_reports import report_csv, report_message
from ledger.accounts import (
    find_connection,
    link_member,
    set_timezone,
    set_visibility,
)
from ledger.db import session_scope
from ledger.import_join import History, connection_history
from ledger.lease import Holder, current_holder, wall_clock
from ledger.models import (
    Connection,
    ConnectionStatus,
    SyncRun,
    SyncState,
    SyncStatus,
    SyncTrigger,
    Visibility,
    Workspace,
)
from ledger.visibility import Viewer, may_see_person


def handle_query(
    services: BotServices, client: WebClient, caller: Caller, query: grammar.SpendQuery
) -> Reply:
    workspace = workspace_for(services, caller)
    viewer = viewer_for(services, client, caller, workspace)
    subject, refusal = _subject(services, client, caller, query, viewer)
    if refusal is not None:
        return text_reply(refusal)
    if query.compare is not None:
        return comparison_reply(
            services, workspace.slack_team_id, query, subject=subject, viewer=viewer
        )
    report = report_for(
        services.engine,
        workspace_ref=workspace.slack_team_id,
        period_text=query.period,
        by=query.by,
        user=subject,
        now=services.clock(),
        provider=query.provider,
        cache=services.reports,
        group=query.group,
    )
    message = report_message(report, viewer=viewer, top=query.top)
    csv_file = None
    if query.csv:
        name = (
            f"{report.provider}-{report.period.start}-{report.period.end}-by-{report.by.value}.csv"
        )
        csv_file = (name, report_csv(report, viewer))
    chart = (
        query_chart(services, workspace.slack_team_id, query, subject=subject, viewer=viewer)
        if query.chart
        else None
    )
    return Reply(message, public=query.public, csv=csv_file, chart=chart)


def _subject(
    services: BotServices,
    client: WebClient,
    caller: Caller,
    query: grammar.SpendQuery,
    viewer: Viewer,
) -> tuple[str | None, str | None]:
    """(whose spend the query asks for, None for the team; None) or (None, why not)."""
    subject = query.email
    if query.me:
        if viewer.email is None:
            return None, (
                "I could not find your email in Slack, so I cannot match you to a Cursor user. "
                "Ask an admin to check that the bot has the `users:read.email` scope."
            )
        subject = viewer.email
    elif query.user_id:
        subject = email_of(services, client, caller, query.user_id)
        if subject is None:
            return None, f"I could not find an email for <@{query.user_id}> in Slack."
    if not may_see_person(viewer, subject):
        return None, (
            "In this workspace members see their own spend and team totals only. "
            "Try `/spend me` or `/spend cursor`."
        )
    return subject, None


def handle_status(services: BotServices, caller: Caller, client: WebClient) -> Reply:
    workspace = workspace_for(services, caller)
    viewer = viewer_for(services, client, caller, workspace)
    now = services.clock()
    with session_scope(services.engine) as session:
        connection = find_connection(session, workspace, "cursor")
        assert connection is not None and connection.id is not None
        state = session.get(SyncState, connection.id)
        last_run = session.exec(
            select(SyncRun)
            .where(SyncRun.connection_id == connection.id)
            .order_by(col(SyncRun.started_at).desc())
        ).first()
        running = current_holder(session, connection.id, wall_clock())
        history = connection_history(session, connection.id, connection.history_start)
    synced_to = state.events_synced_to if state else None
    lines = _connection_lines(services, connection, synced_to, workspace.timezone)
    lines.append(_history_line(history, workspace.timezone))
    with session_scope(services.engine) as session:
        lines += freshness_lines(services, session, connection, synced_to, workspace.timezone)
    with session_scope(services.engine) as session:
        lines += _budget_lines(
            budget_lines(session, workspace, now, viewer), alert_lines(session, workspace, viewer)
        )
    lines += _warning_lines(running, last_run, (now - synced_to) if synced_to else None, workspace)
    lines += status_lines(services, workspace, viewer, caller.user_id)
    return Reply(Message(text="Cursor connection status", blocks=[section("\n".join(lines))]))


def _connection_lines(
    services: BotServices, connection: Connection, synced_to: datetime | None, tz: str
) -> list[str]:
    return [
        f"*Cursor connection:* {connection.status} (key {escape(connection.key_hint)}, "
        f"connected by <@{connection.connected_by}> on {connection.connected_at.date()})",
        f"*Last successful sync:* {local_time(connection.last_success_at, tz)}",
        f"*Data synced up to:* {local_time(synced_to, tz)}",
        f"*Next scheduled sync:* {next_sync_text(services, connection, tz)}",
        "*History starts:* "
        + (str(connection.history_start.date()) if connection.history_start else "unknown"),
    ]


def _history_line(history: History, tz: str) -> str:
    """Where the ledger's history starts and from which source (imports, the API)."""
    if history.imported_start is None or history.imported_end is None:
        source = "the API only" if history.api_start else "nothing yet"
        return f"*History source:* {source} (`stackspend import cursor-csv` adds older months)"
    imported = (
        f"imported CSV from {local_day(history.imported_start, tz)}"
        f" to {local_day(history.imported_end, tz)}"
    )
    then = ", then the API" if history.api_start else "; not synced yet"
    return f"*History source:* {imported}{then}"


def _budget_lines(budgets: tuple[str, ...], alerts: tuple[str, ...]) -> list[str]:
    lines = []
    if budgets:
        lines.append("*Budgets:*\n" + "\n".join(f"• {escape(line)}" for line in budgets))
    if alerts:
        lines.append(f"*Open alerts ({len(alerts)}):* see `/spend alerts`")
    return lines


def _warning_lines(
    running: Holder | None,
    last_run: SyncRun | None,
    unsynced: timedelta | None,
    workspace: Workspace,
) -> list[str]:
    lines = []
    if running is not None:
        since = local_time(running.acquired_at, workspace.timezone)
        lines.append(f"*Syncing now:* since {since} ({running.trigger})")
    if last_run is not None and last_run.status is SyncStatus.FAILED:
        lines.append(f"*Last run failed:* {escape(last_run.error)}")
    if unsynced is not None and unsynced > timedelta(days=2):
        lines.append(
            f":warning: {unsynced.days} days are not synced yet. Cursor keeps only a short window "
            "of history: run `/spend cursor sync` before those days are lost."
        )
    return lines


def next_sync_text(services: BotServices, connection: Connection, tz: str) -> str:
    """The next sync as the running scheduler has it, or why there is none."""
    if connection.status == ConnectionStatus.DISCONNECTED:
        return "none: Cursor is disconnected (`/spend cursor connect` to start again)"
    if connection.status == ConnectionStatus.REVOKED:
        return "none: Cursor rejected the key; connect a new one with `/spend cursor connect`"
    if not services.jobs.running:
        return "none: the scheduler is not running in this process (`stackspend serve` runs it)"
    assert connection.id is not None
    moment = services.jobs.next_sync_at(connection.id)
    if moment is None:
        services.jobs.reconcile()  # a job missing is a bug: repair it, then report what is
        moment = services.jobs.next_sync_at(connection.id)
    if moment is None:
        return "none: the scheduler has no sync job for this connection (see the logs)"
    return local_time(moment, tz)


def sync_allowed(services: BotServices, caller: Caller) -> tuple[int | None, str | None]:
    """(connection id, None) when a sync may start now, else (None, why not)."""
    workspace = workspace_for(services, caller)
    now = services.clock()
    with session_scope(services.engine) as session:
        connection = find_connection(session, workspace, "cursor")
        assert connection is not None and connection.id is not None
        running = current_holder(session, connection.id, wall_clock())
        if running is not None:
            since = local_time(running.acquired_at, workspace.timezone)
            return None, (
                f"A sync has been running since {since} ({running.trigger}); "
                "its result will show in `/spend cursor status`."
            )
        recent = session.exec(
            select(SyncRun)
            .where(
                SyncRun.connection_id == connection.id,
                col(SyncRun.trigger).in_((SyncTrigger.SLACK, SyncTrigger.CONNECT)),
                SyncRun.started_at > now - services.manual_sync_interval,
            )
            .order_by(col(SyncRun.started_at).desc())
        ).first()
    if recent is not None:
        again = recent.started_at + services.manual_sync_interval
        return None, (
            "A sync was started less than an hour ago; Cursor asks clients to poll at most hourly. "
            f"You can sync again after {local_time(again, workspace.timezone)}."
        )
    return connection.id, None


def handle_settings(
    services: BotServices, command: grammar.SetTimezone | grammar.SetVisibility, caller: Caller
) -> Reply:
    workspace = workspace_for(services, caller)
    with session_scope(services.engine) as session:
        stored = session.get(Workspace, workspace.id)
        assert stored is not None
        if isinstance(command, grammar.SetTimezone):
            rebuilt = set_timezone(session, stored, command.zone)
            session.commit()
            services.jobs.reconcile()  # digests fire at local times: their triggers change
            return text_reply(
                f"Reports now use *{stored.timezone}*; "
                f"{rebuilt:,} events were re-bucketed by local day."
            )
        set_visibility(stored, command.policy)
        who = (
            "everyone's spend"
            if stored.visibility is Visibility.ALL
            else "their own spend and team totals"
        )
        return text_reply(f"Members now see {who}.")


def handle_link(services: BotServices, command: grammar.LinkPerson, caller: Caller) -> Reply:
    workspace = workspace_for(services, caller)
    with session_scope(services.engine) as session:
        connection = find_connection(session, workspace, "cursor")
        assert connection is not None
        link_member(session, connection, slack_user_id=command.user_id, email=command.email)
    return text_reply(f"<@{command.user_id}> is now matched to the Cursor user {command.email}.")


def handle_show_settings(services: BotServices, caller: Caller) -> Reply:
    workspace = workspace_for(services, caller)
    return text_reply(
        f"*Timezone:* {workspace.timezone} (`/spend settings timezone Europe/Paris`)\n"
        f"*Visibility:* {workspace.visibility} (`/spend settings visibility own|all`)\n"
        + seat_price_line(services, workspace)
    )


def disconnect_prompt() -> Reply:
    text = (
        "Disconnect Cursor? The stored key is deleted and syncing stops. "
        "History already synced is kept."
    )
    blocks = [
        section(text),
        actions(
            Button("Disconnect", ids.DISCONNECT_CONFIRM, "cursor", style="danger"),
            Button("Cancel", ids.DISCONNECT_CANCEL, "cursor"),
        ),
    ]
    return Reply(Message(text=text, blocks=blocks))
