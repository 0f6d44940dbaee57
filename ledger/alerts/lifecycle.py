"""An alert's lifecycle: acknowledged or snoozed by people, due again, marked as sent."""

from __future__ import annotations

from collections.abc import Collection, Iterable
from datetime import datetime, timedelta

from sqlalchemy import and_, or_, update
from sqlmodel import Session, col
from sqlmodel import select as orm_select

from ledger.alerts.store import ALERTS, chunks
from ledger.errors import Input, InvalidValue, NotFound, Thing
from ledger.installs import installed
from ledger.models import Alert, AlertStatus, Workspace

ACTIONS = {
    "acknowledge": None,
    "snooze_1d": timedelta(days=1),
    "snooze_7d": timedelta(days=7),
}
LIVE = (AlertStatus.OPEN.value, AlertStatus.SNOOZED.value)


def act(
    session: Session,
    alert_id: int,
    *,
    action: str,
    user_id: str,
    now: datetime,
    workspace_id: int | None = None,
) -> Alert:
    """Acknowledge an alert, or snooze it for a day or a week.

    A resolved alert stays resolved (returned unchanged). With ``workspace_id``,
    an alert of another workspace is refused like an unknown one (``NotFound``).
    """
    if action not in ACTIONS:
        raise InvalidValue(Input.ACTION, action)
    alert = session.get(Alert, alert_id)
    if alert is None or (workspace_id is not None and alert.workspace_id != workspace_id):
        raise NotFound(Thing.ALERT, alert_id)
    if alert.status == AlertStatus.RESOLVED:
        return alert
    snooze = ACTIONS[action]
    if snooze is None:
        alert.status = AlertStatus.ACKNOWLEDGED
        alert.snoozed_until = None
    else:
        alert.status = AlertStatus.SNOOZED
        alert.snoozed_until = now + snooze
    alert.acted_by = user_id
    alert.acted_at = now
    session.add(alert)
    session.flush()
    return alert


def due_notifications(
    session: Session,
    *,
    now: datetime,
    workspace_id: int | None = None,
    workspace_ids: Collection[int] | None = None,
) -> list[Alert]:
    """The alerts to send now, oldest first.

    Open alerts never sent yet; and snoozed alerts whose snooze has ended: they are
    opened again here and are due once more, as a reminder (until ``mark_notified``
    records a notification after the snooze's end). Acknowledged and resolved: never.
    """
    scope = [] if workspace_id is None else [ALERTS.c.workspace_id == workspace_id]
    if workspace_ids is not None:
        scope.append(ALERTS.c.workspace_id.in_(list(workspace_ids)))
    session.execute(
        update(ALERTS)
        .where(
            *scope,
            ALERTS.c.status == AlertStatus.SNOOZED.value,
            ALERTS.c.snoozed_until <= now,
        )
        .values(status=AlertStatus.OPEN.value)
    )
    woke = and_(
        col(Alert.snoozed_until).is_not(None),
        or_(
            col(Alert.last_notified_at).is_(None),
            col(Alert.last_notified_at) < col(Alert.snoozed_until),
        ),
    )
    query = (
        orm_select(Alert)
        .join(Workspace, col(Workspace.id) == col(Alert.workspace_id))
        .where(Alert.status == AlertStatus.OPEN.value, or_(col(Alert.notify_count) == 0, woke))
        .where(installed)
        .order_by(col(Alert.created_at), col(Alert.id))
        .execution_options(populate_existing=True)
    )
    if workspace_id is not None:
        query = query.where(Alert.workspace_id == workspace_id)
    if workspace_ids is not None:
        query = query.where(col(Alert.workspace_id).in_(list(workspace_ids)))
    return list(session.exec(query).all())


def mark_notified(session: Session, alert_ids: Iterable[int], now: datetime) -> None:
    """Record that these alerts were sent at ``now``."""
    ids = sorted(set(alert_ids))
    for chunk in chunks(ids):
        session.execute(
            update(Alert)
            .where(col(Alert.id).in_(chunk))
            .values(notify_count=col(Alert.notify_count) + 1, last_notified_at=now)
            .execution_options(synchronize_session="fetch")
        )


def open_alerts(session: Session, workspace_id: int, *, limit: int | None = None) -> list[Alert]:
    """Open and snoozed alerts of a workspace, newest first."""
    query = (
        orm_select(Alert)
        .where(Alert.workspace_id == workspace_id, col(Alert.status).in_(LIVE))
        .order_by(col(Alert.created_at).desc(), col(Alert.id).desc())
        .execution_options(populate_existing=True)
    )
    if limit is not None:
        query = query.limit(limit)
    return list(session.exec(query).all())
