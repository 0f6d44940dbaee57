"""Acting on an alert from its buttons: acknowledge, snooze, show the breakdown.

Acknowledging or snoozing acts for everyone, so only the alert's recipients and workspace
admins may do it; every copy of the alert is then shown again as it now stands.
"""

from __future__ import annotations

from dataclasses import dataclass
from zoneinfo import ZoneInfo

from slack_sdk import WebClient
from sqlalchemy import Engine
from sqlmodel import Session, select

from bot.services import BotServices
from bot.slack import grammar
from bot.usecases import callers
from bot.usecases.alert_delivery import gets_limit_button, is_slack_user, recipients_of, view_of
from bot.usecases.callers import Caller
from digests.alerts import alerts_message
from digests.blocks import Message
from ledger.alerts.lifecycle import act
from ledger.db import session_scope
from ledger.errors import NotFound, Thing
from ledger.models import Alert, AlertKind, AlertMessage, Budget, Workspace


@dataclass(frozen=True)
class AlertCopy:
    """A message that shows an alert, rendered again as its alerts now stand."""

    channel_id: str
    ts: str
    message: Message


def owned_alert(services: BotServices, caller: Caller, alert_id: int) -> Alert:
    """The caller's workspace's alert ``alert_id``; ``NotFound`` for any other."""
    return _alert_of(services.engine, callers.workspace_for(services, caller), alert_id)


def _alert_of(engine: Engine, workspace: Workspace, alert_id: int) -> Alert:
    with session_scope(engine) as session:
        alert = session.get(Alert, alert_id)
        if alert is None or alert.workspace_id != workspace.id:
            raise NotFound(Thing.ALERT, alert_id)
        return alert


def alert_recipients(services: BotServices, alert: Alert) -> set[str]:
    """The Slack users this alert was sent to, or is for (the same rule delivery follows)."""
    with session_scope(services.engine) as session:
        sent_to = session.exec(
            select(AlertMessage.recipient).where(AlertMessage.alert_id == alert.id)
        ).all()
        workspace = session.get(Workspace, alert.workspace_id)
        chosen = recipients_of(session, alert, workspace).users if workspace else ()
    return {user for user in (*sent_to, *chosen) if is_slack_user(user)}


def may_act_on(services: BotServices, client: WebClient, caller: Caller, alert: Alert) -> bool:
    """Acknowledging or snoozing acts for everyone: the alert's recipients and admins only."""
    if caller.user_id in alert_recipients(services, alert):
        return True
    return callers.is_admin(services, client, caller)


def act_on_alert(
    services: BotServices, client: WebClient, caller: Caller, alert_id: int, action: str
) -> bool:
    """Record ``action`` (``ledger.alerts.lifecycle``'s) on the alert for the caller.

    False, and nothing changes, when the caller may not act on it; ``NotFound`` when it is
    not (or no longer) an alert of the caller's workspace.
    """
    alert = owned_alert(services, caller, alert_id)
    if not may_act_on(services, client, caller, alert):
        return False
    with session_scope(services.engine) as session:
        act(
            session,
            alert_id,
            action=action,
            user_id=caller.user_id,
            now=services.clock(),
            workspace_id=alert.workspace_id,
        )
    return True


def copies_to_refresh(
    services: BotServices, alert_id: int, client: WebClient | None = None
) -> list[AlertCopy]:
    """Every message that shows ``alert_id``, rendered again (a DM may hold several alerts);
    with ``client``, admins' copies keep their "Set spend limit" buttons."""
    with session_scope(services.engine) as session:
        copies = session.exec(select(AlertMessage).where(AlertMessage.alert_id == alert_id)).all()
        rendered = (_rendered(session, copy, services, client) for copy in copies)
        return [copy for copy in rendered if copy is not None]


def _rendered(
    session: Session, copy: AlertMessage, services: BotServices, client: WebClient | None
) -> AlertCopy | None:
    shown = session.exec(
        select(Alert)
        .join(AlertMessage, AlertMessage.alert_id == Alert.id)  # type: ignore[arg-type]
        .where(AlertMessage.channel_id == copy.channel_id, AlertMessage.ts == copy.ts)
    ).all()
    workspace = session.get(Workspace, shown[0].workspace_id) if shown else None
    if workspace is None:
        return None
    views = [view_of(alert, workspace.timezone) for alert in shown]
    button = client is not None and gets_limit_button(services, client, workspace, copy.recipient)
    message = alerts_message(views, workspace.timezone, limit_button=button)
    return AlertCopy(copy.channel_id, copy.ts, message)


def breakdown_query(services: BotServices, caller: Caller, alert_id: int) -> grammar.SpendQuery:
    """The spend by model behind an alert: its budget's person (or the team) since its
    period began, an unusual person's last week, else the team's last week."""
    workspace = callers.workspace_for(services, caller)
    alert = _alert_of(services.engine, workspace, alert_id)
    subject = None
    period = "7d"
    if alert.budget_id is not None:
        subject = _budget_subject(services.engine, alert.budget_id)
        if alert.period_start is not None:
            today = services.clock().astimezone(ZoneInfo(workspace.timezone))
            period = f"{alert.period_start.isoformat()}..{today.date().isoformat()}"
    elif alert.kind is AlertKind.ANOMALY_USER:
        subject = alert.subject
    return grammar.SpendQuery(period=period, by="model", email=subject)


def _budget_subject(engine: Engine, budget_id: int) -> str | None:
    with session_scope(engine) as session:
        budget = session.get(Budget, budget_id)
        return budget.subject_email if budget else None
