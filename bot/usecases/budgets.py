"""`/spend budget …` and `/spend alerts`."""

from __future__ import annotations

from decimal import Decimal

from slack_sdk import WebClient

from bot.services import BotServices
from bot.slack import grammar
from bot.usecases.alert_delivery import view_of
from bot.usecases.budget_view import visible_open_alerts
from bot.usecases.callers import Caller, Reply, email_of, text_reply, viewer_for, workspace_for
from digests.alerts import alerts_list
from digests.format import dollars, escape
from digests.words import period_label
from ledger.accounts import find_connection
from ledger.budgets import add_budget, list_budgets, remove_budget
from ledger.db import session_scope
from ledger.group_budgets import groups_of, resolve_group
from ledger.models import Budget, Workspace
from ledger.visibility import visible_budgets


def describe(budget: Budget, group: str | None = None) -> str:
    """One budget in a line; ``group``: the billing group's name, for a group's budget."""
    who = (
        f"<@{budget.subject_user_id}>"
        if budget.subject_user_id
        else escape(f'group "{group}"' if group else budget.subject_email or "the team")
    )
    notify = ", ".join(f"<@{u}>" for u in budget.notify_user_ids) or f"<@{budget.created_by}>"
    if budget.notify_channel_id:
        notify += f" and <#{budget.notify_channel_id}>"
    thresholds = "/".join(str(t) for t in budget.thresholds)
    return (
        f"*{budget.id}* · {who}: {dollars(Decimal(budget.amount_cents))} a "
        f"{period_label(budget.period)}, alerts at {thresholds}% "
        f"to {notify}"
    )


def set_budget(
    services: BotServices, client: WebClient, caller: Caller, command: grammar.BudgetSet
) -> Reply:
    workspace = workspace_for(services, caller)
    subject_email = None
    if command.user_id is not None:
        subject_email = email_of(services, client, caller, command.user_id)
        if subject_email is None:
            return text_reply(f"I could not find an email for <@{command.user_id}> in Slack.")
    with session_scope(services.engine) as session:
        stored = session.get(Workspace, workspace.id)
        assert stored is not None
        group = None
        if command.group is not None:
            connection = find_connection(session, stored)
            assert connection is not None and connection.id is not None
            group = resolve_group(session, connection.id, command.group)
        budget = add_budget(
            session,
            stored,
            provider=command.provider,
            subject_email=subject_email,
            subject_user_id=command.user_id,
            amount_cents=command.amount_cents,
            period=command.period,
            thresholds=command.thresholds,
            notify_user_ids=command.notify_user_ids,
            notify_channel_id=command.notify_channel_id,
            created_by=caller.user_id,
            now=services.clock(),
            group=group,
        )
        text = f"Budget set: {describe(budget, group[1] if group else None)}."
    services.evaluate_alerts(workspace.id or 0)
    return text_reply(text)


def list_all(services: BotServices, client: WebClient, caller: Caller) -> Reply:
    """The budgets the caller may see: the team's, and people's as the policy allows."""
    workspace = workspace_for(services, caller)
    viewer = viewer_for(services, client, caller, workspace)
    with session_scope(services.engine) as session:
        budgets = visible_budgets(viewer, list_budgets(session, workspace))
        groups = groups_of(session, (b.id for b in budgets))
        lines = [describe(b, groups[b.id].group_name if b.id in groups else None) for b in budgets]
    if not lines:
        return text_reply("No budgets yet: `/spend budget set cursor $5000 at 50,80,100`.")
    return text_reply("*Budgets*\n" + "\n".join(lines))


def remove(services: BotServices, caller: Caller, command: grammar.BudgetRemove) -> Reply:
    workspace = workspace_for(services, caller)
    with session_scope(services.engine) as session:
        budget = remove_budget(session, workspace, command.id)
    return text_reply(f"Budget {budget.id} removed.")


def list_alerts(services: BotServices, client: WebClient, caller: Caller) -> Reply:
    """Open alerts the caller may see: the team's, and people's as the policy allows."""
    workspace = workspace_for(services, caller)
    viewer = viewer_for(services, client, caller, workspace)
    with session_scope(services.engine) as session:
        views = [
            view_of(alert, workspace.timezone)
            for alert in visible_open_alerts(session, workspace, viewer)
        ]
    return Reply(alerts_list(views, workspace.timezone))
