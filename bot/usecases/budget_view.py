"""Budget and alert lines for digests, App Home and `/spend cursor status`.

Only what ``viewer`` may see (``ledger.visibility``): a member sees team budgets and
alerts and their own, a channel the team's only. Lines are plain text (they carry
emails): escape them where they go into mrkdwn.
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

from sqlmodel import Session

from digests.alert_words import title
from digests.alerts import budget_line
from ledger.alerts.lifecycle import open_alerts
from ledger.budget_status import budget_status
from ledger.group_budgets import alert_subject, groups_of
from ledger.models import Alert, Workspace
from ledger.visibility import Viewer, may_see_budget, visible_alerts


def budget_lines(
    session: Session,
    workspace: Workspace,
    now: datetime,
    viewer: Viewer,
    *,
    group_id: str | None = None,
) -> tuple[str, ...]:
    """Every budget's line; with ``group_id``, only that billing group's budgets."""
    statuses = budget_status(session, workspace, now=now)
    if group_id is not None:
        groups = groups_of(session, (s.budget.id for s in statuses))
        statuses = [
            s
            for s in statuses
            if s.budget.id in groups and groups[s.budget.id].group_id == group_id
        ]
    return tuple(
        budget_line(
            subject=(
                f'Group "{status.group_name}"'
                if status.group_name
                else status.budget.subject_email or "Team"
            ),
            period=status.budget.period,
            spent_cents=status.spent_cents,
            amount_cents=Decimal(status.budget.amount_cents),
            percent=status.percent,
            projected_day=status.projected_day,
        )
        for status in statuses
        if status.budget.enabled and may_see_budget(viewer, status.budget)
    )


def visible_open_alerts(session: Session, workspace: Workspace, viewer: Viewer) -> list[Alert]:
    """Open and snoozed alerts the viewer may see, newest first."""
    assert workspace.id is not None
    return visible_alerts(viewer, open_alerts(session, workspace.id))


def alert_lines(
    session: Session, workspace: Workspace, viewer: Viewer, *, group: str | None = None
) -> tuple[str, ...]:
    """Open alerts' lines; with ``group`` (a billing group's name), only its budget's."""
    return tuple(
        f"{title(alert, workspace.timezone)} ({alert.status})"
        for alert in visible_open_alerts(session, workspace, viewer)
        if group is None or alert.subject == alert_subject(group)
    )
