"""Budget and alert lines for digests and `/spend cursor status`."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

from sqlmodel import Session

from digests.alerts import budget_line
from ledger.alerting import budget_status, open_alerts
from ledger.models import Workspace


def budget_lines(session: Session, workspace: Workspace, now: datetime) -> tuple[str, ...]:
    return tuple(
        budget_line(
            subject=status.budget.subject_email or "Team",
            period=status.budget.period,
            spent_cents=status.spent_cents,
            amount_cents=Decimal(status.budget.amount_cents),
            percent=status.percent,
            projected_day=status.projected_day,
        )
        for status in budget_status(session, workspace, now=now)
        if status.budget.enabled
    )


def alert_lines(session: Session, workspace: Workspace) -> tuple[str, ...]:
    assert workspace.id is not None
    return tuple(
        f"{alert.title} ({alert.status})" for alert in open_alerts(session, workspace.id, limit=20)
    )
