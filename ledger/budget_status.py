"""Where each budget stands in its current period: spend, percent, the forecast.

For digests, App Home and ``/spend … status``; the forecast is the ledger's one
(``ledger.budget_rules.project``), the same that raises budget forecast alerts.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal

from sqlmodel import Session, col
from sqlmodel import select as orm_select

from ledger.alerts.spend import Spend, cycle_of, history_day, local_today
from ledger.budget_rules import Projection, percent_of, period_bounds
from ledger.group_budgets import groups_of, spend_key
from ledger.group_models import GroupBudget
from ledger.models import Budget, Connection, Workspace
from ledger.periods import Cycle
from ledger.queries import Scope

_ZERO = Decimal(0)


@dataclass(frozen=True)
class BudgetStatus:
    """Where a budget stands in its current period (for digests and status replies)."""

    budget: Budget
    period_start: date
    period_end: date
    spent_cents: Decimal
    #: spent / amount x 100, to two decimal places.
    percent: Decimal
    #: The day the spend is projected to reach the amount within the period, if it is.
    projected_day: date | None
    #: The spend projected for the whole period (None: too early to say).
    projected_cents: Decimal | None = None
    #: A billing group's budget: the group's name (``ledger.group_budgets``).
    group_name: str | None = None


def _status(
    budget: Budget, spend: Spend | None, cycle: Cycle, today: date, group: GroupBudget | None
) -> BudgetStatus:
    start, end = period_bounds(budget.period, today, cycle)
    subject = spend_key(group.group_id) if group is not None else budget.subject_email
    spent = spend.spent(subject, start) if spend is not None else _ZERO
    projection: Projection | None = (
        spend.projection(subject, start, end) if spend is not None else None
    )
    return BudgetStatus(
        budget=budget,
        period_start=start,
        period_end=end,
        spent_cents=spent,
        percent=percent_of(budget.amount_cents, spent),
        projected_day=projection.crossing(budget.amount_cents) if projection else None,
        projected_cents=projection.end_cents if projection else None,
        group_name=group.group_name if group is not None else None,
    )


def budget_status(session: Session, workspace: Workspace, *, now: datetime) -> list[BudgetStatus]:
    """Every budget of the workspace (enabled or not) in its current period, by ID."""
    query = orm_select(Budget).where(Budget.workspace_id == workspace.id)
    budgets = list(session.exec(query.order_by(col(Budget.id))).all())
    if not budgets:
        return []
    tz, today = local_today(workspace, now)
    connections = {
        c.provider: c
        for c in session.exec(
            orm_select(Connection).where(Connection.workspace_id == workspace.id)
        ).all()
    }
    views: dict[str, tuple[Spend | None, Cycle]] = {}
    for provider in dict.fromkeys(b.provider for b in budgets):
        connection = connections.get(provider)
        scope = Scope(workspace, connection) if connection is not None else None
        cycle = cycle_of(session, scope, today)
        spend = None
        if scope is not None:
            mine = [b for b in budgets if b.provider == provider]
            first = min(period_bounds(b.period, today, cycle)[0] for b in mine)
            known_from = history_day(session, scope, tz)
            spend = Spend(session, scope, today=today, first=first, known_from=known_from)
        views[provider] = (spend, cycle)
    groups = groups_of(session, (b.id for b in budgets))
    return [_status(b, *views[b.provider], today, groups.get(b.id or 0)) for b in budgets]
