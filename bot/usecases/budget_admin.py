"""Budgets and alerts from the terminal: ``stackspend budget …`` and ``stackspend alerts``.

Kept apart from ``bot.usecases.budgets`` (the Slack side) so the CLI imports no Slack code.
Each function takes the engine and a workspace reference (Slack team id or name), opens its
own transaction and returns plain values; the CLI decides how to show them.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Engine

from ledger.accounts import find_connection, find_workspace
from ledger.alerts.lifecycle import open_alerts
from ledger.budgets import add_budget, list_budgets, remove_budget
from ledger.db import session_scope
from ledger.group_budgets import groups_of, resolve_group
from ledger.models import Alert, Budget


@dataclass(frozen=True)
class BudgetDraft:
    """A budget as typed at the terminal, its values parsed."""

    amount_cents: int
    period: str
    thresholds: tuple[int, ...]
    subject_email: str | None = None
    notify_user_ids: tuple[str, ...] = ()
    notify_channel_id: str | None = None
    #: A billing group's name: that group's budget.
    group: str | None = None


@dataclass(frozen=True)
class OpenAlerts:
    """A workspace's open and snoozed alerts, newest first, and the timezone to show them in."""

    timezone: str
    alerts: Sequence[Alert]


def set_budget(engine: Engine, workspace_ref: str, draft: BudgetDraft, now: datetime) -> Budget:
    """Create or change a budget (one per person or team and period)."""
    with session_scope(engine) as session:
        workspace = find_workspace(session, workspace_ref)
        group = None
        if draft.group is not None:
            connection = find_connection(session, workspace)
            assert connection is not None and connection.id is not None
            group = resolve_group(session, connection.id, draft.group)
        return add_budget(
            session,
            workspace,
            group=group,
            subject_email=draft.subject_email,
            amount_cents=draft.amount_cents,
            period=draft.period,
            thresholds=draft.thresholds,
            notify_user_ids=draft.notify_user_ids,
            notify_channel_id=draft.notify_channel_id,
            created_by="cli",
            now=now,
        )


def workspace_budgets(engine: Engine, workspace_ref: str) -> list[Budget]:
    with session_scope(engine) as session:
        return list_budgets(session, find_workspace(session, workspace_ref))


def budget_groups(engine: Engine, budgets: list[Budget]) -> dict[int, str]:
    """The billing group's name of each group budget among ``budgets``."""
    with session_scope(engine) as session:
        return {i: row.group_name for i, row in groups_of(session, (b.id for b in budgets)).items()}


def remove(engine: Engine, workspace_ref: str, budget_id: int) -> Budget:
    """Remove a budget, and the alerts it raised with it."""
    with session_scope(engine) as session:
        return remove_budget(session, find_workspace(session, workspace_ref), budget_id)


def workspace_open_alerts(engine: Engine, workspace_ref: str) -> OpenAlerts:
    with session_scope(engine) as session:
        workspace = find_workspace(session, workspace_ref)
        assert workspace.id is not None
        return OpenAlerts(workspace.timezone, open_alerts(session, workspace.id))
