"""Evaluating budgets and sending alerts: each recipient gets one DM per evaluation."""

from __future__ import annotations

import logging
import time
from collections import defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError
from sqlalchemy import Engine
from sqlmodel import Session, col, select

from bot.metrics import record_alert_message
from bot.services import CoreServices
from digests.alerts import AlertView, alert_view, alerts_message
from ledger import claims, deliveries
from ledger.alerts.evaluate import AlertSettings, evaluate
from ledger.alerts.lifecycle import due_notifications, mark_notified
from ledger.alerts.pending import evaluation_key
from ledger.db import session_scope
from ledger.deliveries import Claim
from ledger.installs import installed
from ledger.metrics import claim_held
from ledger.models import (
    Alert,
    AlertKind,
    AlertMessage,
    Budget,
    Connection,
    ConnectionStatus,
    DeliveryKind,
    Member,
    Workspace,
)

logger = logging.getLogger(__name__)


def view_of(alert: Alert, timezone: str) -> AlertView:
    return alert_view(alert, timezone)


def gets_limit_button(
    services: CoreServices, client: WebClient, workspace: Workspace, recipient: str
) -> bool:
    """Whether a copy for ``recipient`` offers "Set spend limit": admins' DMs only (the
    button and the dialog check again); a channel copy is seen by members too."""
    if not recipient.startswith(("U", "W")):
        return False
    if recipient in services.admin_user_ids:
        return True
    return services.directory.person(client, workspace.slack_team_id, recipient).is_admin


@dataclass(frozen=True)
class Recipients:
    users: tuple[str, ...]
    channel: str | None
    owner: str | None  # told when a recipient cannot be reached


def _slack_id_for(session: Session, workspace: Workspace, email: str) -> str | None:
    linked = session.exec(
        select(Member.slack_user_id)
        .join(Connection, Connection.id == Member.connection_id)  # type: ignore[arg-type]
        .where(Connection.workspace_id == workspace.id, Member.email == email)
    ).first()
    return linked or None


def is_slack_user(value: str | None) -> bool:
    """Slack user ids; a budget made from the CLI has "cli" as its creator, not a person."""
    return bool(value) and str(value).startswith(("U", "W"))


def recipients_of(session: Session, alert: Alert, workspace: Workspace) -> Recipients:
    """Budget owners and the person concerned; for anomalies the person; for health the admin."""
    if alert.budget_id is not None:
        budget = session.get(Budget, alert.budget_id)
        if budget is not None:
            users = list(budget.notify_user_ids) or [budget.created_by]
            if budget.dm_subject and budget.subject_user_id:
                users.append(budget.subject_user_id)
            return Recipients(
                tuple(dict.fromkeys(u for u in users if is_slack_user(u))),
                budget.notify_channel_id,
                budget.created_by,
            )
    connection = session.exec(
        select(Connection).where(Connection.workspace_id == workspace.id)
    ).first()
    admin = connection.connected_by if connection else None
    users = [admin] if admin and is_slack_user(admin) else []
    if alert.kind is AlertKind.ANOMALY_USER:
        person = _slack_id_for(session, workspace, alert.subject)
        if person:
            users.append(person)
    return Recipients(tuple(dict.fromkeys(users)), None, admin)


#: A workspace's evaluation is claimed for this long: a replica that dies mid-evaluation
#: leaves it to the next one to look after this.
EVALUATION_TTL = timedelta(minutes=5)
#: The hourly pass skips a workspace evaluated this recently (after its sync, say).
HOURLY_FRESHNESS = timedelta(minutes=50)
#: An evaluation asked for now waits this long for one in progress elsewhere to end.
EVALUATION_WAIT = timedelta(seconds=30)
#: The hourly pass claims and evaluates workspaces this many at a time.
EVALUATION_BATCH = 500


def workspaces_to_evaluate(engine: Engine) -> list[int]:
    """Installed workspaces with a connection (the others have nothing to evaluate)."""
    with session_scope(engine) as session:
        ids = session.exec(
            select(Connection.workspace_id)
            .join(Workspace, col(Workspace.id) == col(Connection.workspace_id))
            .where(Connection.status != ConnectionStatus.DISCONNECTED, installed)
            .distinct()
            .order_by(col(Connection.workspace_id))
        ).all()
    return list(ids)


class AlertNotifier:
    def __init__(
        self,
        services: CoreServices,
        client_for: Callable[[Workspace], WebClient],
        *,
        settings: AlertSettings | None = None,
    ) -> None:
        self.services = services
        self.client_for = client_for
        self.settings = settings or services.alert_settings

    def run(self, now: datetime | None = None, workspace_id: int | None = None) -> int:
        """Evaluate, then send what is due; returns how many messages went out.

        One workspace (after its sync or a budget change) is evaluated at once, waiting
        for an evaluation in progress on another replica to end first. All of them (the
        hourly pass, which every replica runs) are shared out: each workspace is claimed
        by one replica and left alone if it was evaluated within ``HOURLY_FRESHNESS``."""
        if workspace_id is not None:
            return self.run_workspace(workspace_id, now) or 0
        now = now or self.services.clock()
        claim_clock = _moving_on_from(now)
        workspaces = workspaces_to_evaluate(self.services.engine)
        return sum(
            self._run_batch(workspaces[start : start + EVALUATION_BATCH], now, claim_clock)
            for start in range(0, len(workspaces), EVALUATION_BATCH)
        )

    def run_workspace(self, workspace_id: int, now: datetime | None = None) -> int | None:
        """Evaluate one workspace now (after its sync or a budget change), waiting up to
        ``EVALUATION_WAIT`` for an evaluation in progress elsewhere; None if that one is
        still going (it may have read the data from before the change: ask again later)."""
        now = now or self.services.clock()
        return self._run_claimed(
            workspace_id, now, _moving_on_from(now), fresh_within=None, wait=EVALUATION_WAIT
        )

    def _run_batch(
        self, workspace_ids: Sequence[int], now: datetime, claim_clock: Callable[[], datetime]
    ) -> int:
        """Claim a batch of workspaces at once, evaluate those that came to this replica
        together (the queries of one evaluation serve them all), then finish their claims;
        on a failure the claims are given back for the next pass."""
        engine = self.services.engine
        keys = {evaluation_key(workspace_id): workspace_id for workspace_id in workspace_ids}
        held = claims.claim_many(
            engine, list(keys), now=claim_clock(), ttl=EVALUATION_TTL, fresh_within=HOURLY_FRESHNESS
        )
        if not held:
            return 0
        claim_held("alerts", len(held))
        try:
            sent = self._evaluate_and_send([keys[claim.key] for claim in held], now)
        except Exception as exc:  # the class only: messages may quote rows or responses
            claims.release_many(engine, held)
            logger.error(
                "alert evaluation of %s workspaces failed (%s); the next pass tries again",
                len(held),
                type(exc).__name__,
            )
            return 0
        else:
            claims.finish_many(engine, held, now=claim_clock())
            return sent
        finally:
            claim_held("alerts", -len(held))

    def _run_claimed(
        self,
        workspace_id: int,
        now: datetime,
        claim_clock: Callable[[], datetime],
        *,
        fresh_within: timedelta | None,
        wait: timedelta = timedelta(0),
    ) -> int | None:
        """One workspace under its claim (None: another replica holds it); a failure
        there is logged and leaves the claim free for the next pass."""
        try:
            with claims.claimed(
                self.services.engine,
                evaluation_key(workspace_id),
                clock=claim_clock,
                ttl=EVALUATION_TTL,
                fresh_within=fresh_within,
                wait=wait,
            ) as held:
                if not held.outcome.ours:
                    return None if held.outcome is claims.ClaimOutcome.BUSY else 0
                return self._evaluate_and_send([workspace_id], now)
        except Exception as exc:  # the class only: messages may quote rows or responses
            logger.error(
                "alert evaluation of workspace %s failed (%s); the next pass tries again",
                workspace_id,
                type(exc).__name__,
            )
            return 0

    def _evaluate_and_send(self, workspace_ids: Sequence[int], now: datetime) -> int:
        with session_scope(self.services.engine) as session:
            evaluate(session, now=now, settings=self.settings, workspace_ids=workspace_ids)
        with session_scope(self.services.engine) as session:
            due = due_notifications(session, now=now, workspace_ids=workspace_ids)
            by_workspace: dict[int, list[Alert]] = defaultdict(list)
            for alert in due:
                by_workspace[alert.workspace_id].append(alert)
        return sum(
            self._send_workspace_safely(workspace_id, alerts, now)
            for workspace_id, alerts in by_workspace.items()
        )

    def _send_workspace_safely(
        self, workspace_id: int, alerts: Sequence[Alert], now: datetime
    ) -> int:
        """One workspace's messages; a failure (its Slack token, say) leaves them due for
        the next pass and does not hold up the other workspaces."""
        try:
            return self._send_workspace(workspace_id, alerts, now)
        except Exception as exc:  # the class only: messages may quote rows or responses
            logger.error(
                "alerts of workspace %s could not be sent (%s); the next pass tries again",
                workspace_id,
                type(exc).__name__,
            )
            return 0

    def _send_workspace(self, workspace_id: int, alerts: Sequence[Alert], now: datetime) -> int:
        with session_scope(self.services.engine) as session:
            workspace = session.get(Workspace, workspace_id)
            assert workspace is not None
            batches: dict[str, list[Alert]] = defaultdict(list)
            owners: dict[str, str | None] = {}
            for alert in alerts:
                recipients = recipients_of(session, alert, workspace)
                for target in (
                    *recipients.users,
                    *([recipients.channel] if recipients.channel else []),
                ):
                    batches[target].append(alert)
                    owners.setdefault(target, recipients.owner)
        client = self.client_for(workspace)
        sent = 0
        for target, batch in batches.items():
            sent += self._send_batch(client, workspace, target, batch, owners.get(target), now)
        with session_scope(self.services.engine) as session:
            mark_notified(session, [a.id for a in alerts if a.id is not None], now)
        return sent

    def _claim(
        self, workspace: Workspace, target: str, batch: Sequence[Alert], now: datetime
    ) -> list[tuple[Alert, int]]:
        """(alert, delivery id) for the alerts of ``batch`` not yet sent to ``target``."""
        assert workspace.id is not None
        mine: list[tuple[Alert, int]] = []
        with session_scope(self.services.engine) as session:
            for alert in batch:
                claimed = deliveries.claim(
                    session,
                    workspace_id=workspace.id,
                    key=f"alert:{alert.id}:{target}:{alert.notify_count}",
                    kind=DeliveryKind.ALERT,
                    channel_id=target,
                    now=now,
                )
                if claimed.claim in (Claim.NEW, Claim.RECOVERED):
                    mine.append((alert, claimed.delivery_id))
        return mine

    def _send_batch(
        self,
        client: WebClient,
        workspace: Workspace,
        target: str,
        batch: Sequence[Alert],
        owner: str | None,
        now: datetime,
    ) -> int:
        claimed = self._claim(workspace, target, batch, now)
        if not claimed:
            record_alert_message("done")
            return 0
        alerts = [alert for alert, _ in claimed]
        claims = {alert.id: delivery_id for alert, delivery_id in claimed}
        message = alerts_message(
            [view_of(a, workspace.timezone) for a in alerts],
            workspace.timezone,
            limit_button=gets_limit_button(self.services, client, workspace, target),
        )
        try:
            channel = target
            if target.startswith(("U", "W")):
                channel = client.conversations_open(users=target)["channel"]["id"]
            ts = str(client.chat_postMessage(channel=channel, **message.as_kwargs())["ts"])
        except SlackApiError as exc:
            error = str(exc.response.get("error") or exc)
            with session_scope(self.services.engine) as session:
                for delivery_id in claims.values():
                    deliveries.fail(session, delivery_id, error=error)
            record_alert_message("failed")
            self._tell_owner(client, workspace, owner, target, error, now)
            return 0
        with session_scope(self.services.engine) as session:
            for alert in alerts:
                assert alert.id is not None
                session.add(
                    AlertMessage(
                        alert_id=alert.id, channel_id=channel, ts=ts, recipient=target, sent_at=now
                    )
                )
                deliveries.complete(session, claims[alert.id], now=now, message_ts=ts)
        record_alert_message("sent")
        return 1

    def _tell_owner(
        self,
        client: WebClient,
        workspace: Workspace,
        owner: str | None,
        target: str,
        error: str,
        now: datetime,
    ) -> None:
        """Say once that a recipient cannot be reached (unknown user, closed DM, no channel)."""
        logger.warning("alert to %s in %s failed: %s", target, workspace.slack_team_id, error)
        if not owner or owner == target:
            return
        assert workspace.id is not None
        with session_scope(self.services.engine) as session:
            claimed = deliveries.claim(
                session,
                workspace_id=workspace.id,
                key=f"notice:unreachable:{target}",
                kind=DeliveryKind.NOTICE,
                channel_id=owner,
                now=now,
            )
        if claimed.claim is not Claim.NEW:
            return
        try:
            dm = client.conversations_open(users=owner)["channel"]["id"]
            response = client.chat_postMessage(
                channel=dm,
                text=f"I could not deliver spend alerts to {_mention(target)} ({error}). "
                "Check the budget's notify list with `/spend budget list`.",
            )
            with session_scope(self.services.engine) as session:
                deliveries.complete(
                    session, claimed.delivery_id, now=now, message_ts=str(response["ts"])
                )
        except SlackApiError as exc:
            logger.warning("could not tell %s either: %s", owner, exc.response.get("error"))


def _moving_on_from(now: datetime) -> Callable[[], datetime]:
    """A clock that starts at a pass's ``now`` and moves on as the pass does (claims)."""
    started = time.monotonic()
    return lambda: now + timedelta(seconds=time.monotonic() - started)


def _mention(target: str) -> str:
    return f"<#{target}>" if target.startswith(("C", "G")) else f"<@{target}>"
