"""Alert buttons: acknowledge, snooze, show the breakdown; every copy of the alert is updated."""

from __future__ import annotations

import logging
from typing import Any
from zoneinfo import ZoneInfo

from slack_bolt import Ack, App, Respond
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError
from sqlmodel import select

from bot.services import BotServices
from bot.slack import grammar
from bot.slack.listeners.actions import caller_from_action
from bot.slack.listeners.commands import in_background
from bot.slack.listeners.delivery import deliver
from bot.usecases import answers
from bot.usecases.alert_delivery import is_slack_user, recipients_of, view_of
from bot.usecases.answers import Caller
from digests.alerts import ACK, BREAKDOWN, SNOOZE_DAY, SNOOZE_WEEK, alerts_message
from digests.errors import error_text
from ledger.alerts.lifecycle import act
from ledger.db import session_scope
from ledger.errors import LedgerError, NotFound, Thing
from ledger.models import Alert, AlertKind, AlertMessage, Budget, Workspace

logger = logging.getLogger(__name__)

ACTIONS = {ACK: "acknowledge", SNOOZE_DAY: "snooze_1d", SNOOZE_WEEK: "snooze_7d"}


def refresh_copies(services: BotServices, client: WebClient, alert_id: int) -> int:
    """Re-render every message that shows ``alert_id`` (a DM may hold several alerts)."""
    with session_scope(services.engine) as session:
        copies = session.exec(select(AlertMessage).where(AlertMessage.alert_id == alert_id)).all()
        updates = []
        for copy in copies:
            shown = session.exec(
                select(Alert)
                .join(AlertMessage, AlertMessage.alert_id == Alert.id)  # type: ignore[arg-type]
                .where(AlertMessage.channel_id == copy.channel_id, AlertMessage.ts == copy.ts)
            ).all()
            workspace = session.get(Workspace, shown[0].workspace_id) if shown else None
            if workspace is not None:
                message = alerts_message(
                    [view_of(a, workspace.timezone) for a in shown], workspace.timezone
                )
                updates.append((copy.channel_id, copy.ts, message))
    for channel, ts, message in updates:
        try:
            client.chat_update(channel=channel, ts=ts, **message.as_kwargs())
        except SlackApiError as exc:
            logger.warning("could not update alert message %s: %s", ts, exc.response.get("error"))
    return len(updates)


GONE = (
    "This alert no longer exists: its budget was probably removed. "
    "See `/spend alerts` for the open ones."
)
BAD_ID = "That alert id is not valid. See `/spend alerts` for the open ones."
NOT_RECIPIENT = (
    "Only the people this alert was sent to can acknowledge or snooze it "
    "(or a workspace admin). It stays as it is."
)


def _alert_id(value: object) -> int | None:
    """The alert id a button carries; None when the value is not one (a crafted request)."""
    text = str(value or "").strip()
    if not text.isascii() or not text.isdigit() or len(text) > 18:
        return None
    return int(text)


def _owned_alert(services: BotServices, caller: Caller, alert_id: int) -> Alert:
    workspace = answers.workspace_for(services, caller)
    with session_scope(services.engine) as session:
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
    return answers.is_admin(services, client, caller)


def _tell(respond: Respond, text: str) -> None:
    """An answer for the person who pressed the button only; the alert stays as it is."""
    respond(text=text, response_type="ephemeral", replace_original=False)


def workspace_tz(services: BotServices, caller: Caller) -> str:
    return answers.workspace_for(services, caller).timezone


def register(app: App, services: BotServices) -> None:
    def on_state(ack: Ack, body: dict[str, Any], client: WebClient, respond: Respond) -> None:
        ack()
        caller = caller_from_action(body)
        action = body["actions"][0]
        alert_id = _alert_id(action.get("value"))
        if alert_id is None:
            _tell(respond, BAD_ID)
            return

        def work() -> None:
            try:
                alert = _owned_alert(services, caller, alert_id)
                if not may_act_on(services, client, caller, alert):
                    _tell(respond, NOT_RECIPIENT)
                    return
                with session_scope(services.engine) as session:
                    act(
                        session,
                        alert_id,
                        action=ACTIONS[action["action_id"]],
                        user_id=caller.user_id,
                        now=services.clock(),
                        workspace_id=alert.workspace_id,
                    )
            except NotFound:
                _tell(respond, GONE)
                return
            except LedgerError as exc:
                _tell(respond, error_text(exc))
                return
            refresh_copies(services, client, alert_id)

        in_background(services, respond, caller, work)

    def on_breakdown(ack: Ack, body: dict[str, Any], client: WebClient, respond: Respond) -> None:
        ack()
        caller = caller_from_action(body)
        alert_id = _alert_id(body["actions"][0].get("value"))
        if alert_id is None:
            _tell(respond, BAD_ID)
            return

        def work() -> None:
            try:
                alert = _owned_alert(services, caller, alert_id)
            except NotFound:
                _tell(respond, GONE)
                return
            subject = None
            period = "7d"
            if alert.budget_id is not None:
                with session_scope(services.engine) as session:
                    budget = session.get(Budget, alert.budget_id)
                    subject = budget.subject_email if budget else None
                if alert.period_start is not None:
                    today = services.clock().astimezone(ZoneInfo(workspace_tz(services, caller)))
                    period = f"{alert.period_start.isoformat()}..{today.date().isoformat()}"
            elif alert.kind is AlertKind.ANOMALY_USER:
                subject = alert.subject
            query = grammar.SpendQuery(period=period, by="model", email=subject)
            reply = answers.handle_query(services, client, caller, query)
            reply.replace_original = False
            deliver(client, respond, caller, reply)

        in_background(services, respond, caller, work)

    for action_id in ACTIONS:
        app.action(action_id)(on_state)
    app.action(BREAKDOWN)(on_breakdown)
