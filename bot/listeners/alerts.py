"""Alert buttons: acknowledge, snooze, show the breakdown; every copy of the alert is updated."""

from __future__ import annotations

import logging
from typing import Any
from zoneinfo import ZoneInfo

from slack_bolt import Ack, App, Respond
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError
from sqlmodel import select

from bot import grammar, handlers
from bot.alert_jobs import view_of
from bot.handlers import Caller
from bot.listeners.actions import caller_from_action
from bot.listeners.commands import in_background
from bot.listeners.delivery import deliver
from bot.services import BotServices
from digests.alerts import ACK, BREAKDOWN, SNOOZE_DAY, SNOOZE_WEEK, alerts_message
from ledger.accounts import LedgerError
from ledger.alerting import act
from ledger.db import session_scope
from ledger.models import Alert, AlertMessage, Budget, Workspace

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
                message = alerts_message([view_of(a) for a in shown], workspace.timezone)
                updates.append((copy.channel_id, copy.ts, message))
    for channel, ts, message in updates:
        try:
            client.chat_update(channel=channel, ts=ts, **message.as_kwargs())
        except SlackApiError as exc:
            logger.warning("could not update alert message %s: %s", ts, exc.response.get("error"))
    return len(updates)


def _owned_alert(services: BotServices, caller: Caller, alert_id: int) -> Alert:
    workspace = handlers.workspace_for(services, caller)
    with session_scope(services.engine) as session:
        alert = session.get(Alert, alert_id)
        if alert is None or alert.workspace_id != workspace.id:
            raise LedgerError("That alert no longer exists.")
        return alert


def workspace_tz(services: BotServices, caller: Caller) -> str:
    return handlers.workspace_for(services, caller).timezone


def register(app: App, services: BotServices) -> None:
    def on_state(ack: Ack, body: dict[str, Any], client: WebClient, respond: Respond) -> None:
        ack()
        caller = caller_from_action(body)
        action = body["actions"][0]
        alert_id = int(action["value"])

        def work() -> None:
            try:
                alert = _owned_alert(services, caller, alert_id)
                with session_scope(services.engine) as session:
                    act(
                        session,
                        alert_id,
                        action=ACTIONS[action["action_id"]],
                        user_id=caller.user_id,
                        now=services.clock(),
                        workspace_id=alert.workspace_id,
                    )
            except LedgerError as exc:
                respond(text=str(exc), response_type="ephemeral", replace_original=False)
                return
            refresh_copies(services, client, alert_id)

        in_background(services, respond, caller, work)

    def on_breakdown(ack: Ack, body: dict[str, Any], client: WebClient, respond: Respond) -> None:
        ack()
        caller = caller_from_action(body)
        alert_id = int(body["actions"][0]["value"])

        def work() -> None:
            alert = _owned_alert(services, caller, alert_id)
            subject = None
            period = "7d"
            if alert.budget_id is not None:
                with session_scope(services.engine) as session:
                    budget = session.get(Budget, alert.budget_id)
                    subject = budget.subject_email if budget else None
                if alert.period_start is not None:
                    today = services.clock().astimezone(ZoneInfo(workspace_tz(services, caller)))
                    period = f"{alert.period_start.isoformat()}..{today.date().isoformat()}"
            elif alert.kind == "anomaly_user":
                subject = alert.subject
            query = grammar.SpendQuery(period=period, by="model", email=subject)
            reply = handlers.handle_query(services, client, caller, query)
            reply.replace_original = False
            deliver(client, respond, caller, reply)

        in_background(services, respond, caller, work)

    for action_id in ACTIONS:
        app.action(action_id)(on_state)
    app.action(BREAKDOWN)(on_breakdown)
