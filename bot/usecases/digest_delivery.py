"""Posting digests to channels, each exactly once per schedule and local day."""

from __future__ import annotations

import enum
import logging
import uuid
from collections.abc import Callable
from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from bot.jobs.due import Occurrence, last_occurrence
from bot.metrics import record_digest_delivery
from bot.services import CoreServices
from bot.usecases.digest_rendering import Rendered, render_digest
from bot.usecases.syncs import sync_for_bot
from digests.errors import error_text
from ledger import deliveries, schedules
from ledger.accounts import find_connection
from ledger.db import session_scope
from ledger.deliveries import Claim
from ledger.errors import LedgerError, SyncAlreadyRunning
from ledger.metrics import record_claim, record_claim_expired
from ledger.models import (
    ConnectionStatus,
    DeliveryKind,
    DigestSchedule,
    ScheduleStatus,
    SyncKind,
    SyncTrigger,
    Workspace,
)

logger = logging.getLogger(__name__)

#: Slack errors that no retry fixes: the schedule is marked failing and its creator told.
CHANNEL_ERRORS = frozenset({"channel_not_found", "not_in_channel", "is_archived"})
METADATA_EVENT = "stackspend_delivery"
#: A digest whose data is older than this is preceded by a sync.
FRESHNESS = timedelta(hours=1)


#: A delivery claim's outcome as the claims metric names it.
CLAIM_OUTCOMES = {
    Claim.NEW: "claimed",
    Claim.RECOVERED: "taken_over",
    Claim.DONE: "done",
    Claim.BUSY: "busy",
}


class DeliveryOutcome(enum.StrEnum):
    """What became of a digest that was due (or asked for)."""

    SENT = "sent"
    #: Sent before a crash, found in the channel's history: not posted again.
    RECOVERED = "recovered"
    #: Sent or skipped already.
    DONE = "done"
    #: Another worker is sending it.
    BUSY = "busy"
    FAILED = "failed"
    #: Due longer ago than the grace period.
    SKIPPED = "skipped"
    NOT_DUE = "not-due"
    #: The schedule was removed or disabled.
    GONE = "gone"


def digest_key(schedule_id: int, local_date: date) -> str:
    return f"digest:{schedule_id}:{local_date.isoformat()}"


def _already_posted(client: WebClient, channel: str, key: str, since: datetime) -> str | None:
    """The ts of a message carrying ``key`` in its metadata, posted since ``since``."""
    oldest = f"{since.timestamp() - 60:.6f}"
    history = client.conversations_history(
        channel=channel, oldest=oldest, include_all_metadata=True, limit=200
    )
    messages: list[dict[str, Any]] = history.get("messages") or []
    for message in messages:
        payload = (message.get("metadata") or {}).get("event_payload") or {}
        if payload.get("key") == key:
            return str(message.get("ts"))
    return None


class DigestSender:
    """Renders and posts digests; the delivery table makes each go out once."""

    def __init__(
        self,
        services: CoreServices,
        client_for: Callable[[Workspace], WebClient],
        *,
        grace: timedelta = timedelta(hours=3),
    ) -> None:
        self.services = services
        self.client_for = client_for
        self.grace = grace

    def deliver_due(self, schedule_id: int, *, now: datetime | None = None) -> DeliveryOutcome:
        """Deliver the occurrence of ``schedule_id`` due at or before now (scheduler entry)."""
        now = now or self.services.clock()
        with session_scope(self.services.engine) as session:
            schedule = session.get(DigestSchedule, schedule_id)
            workspace = session.get(Workspace, schedule.workspace_id) if schedule else None
        if (
            schedule is None
            or workspace is None
            or not schedule.enabled
            or workspace.uninstalled_at is not None  # the app was removed from it
        ):
            return DeliveryOutcome.GONE
        occurrence = last_occurrence(
            schedule.cadence, schedule.local_time, ZoneInfo(workspace.timezone), now
        )
        if occurrence is None:
            return DeliveryOutcome.NOT_DUE
        if now - occurrence.due_at > self.grace:
            return self._skip(schedule, workspace, occurrence, now)
        return self.deliver(schedule, workspace, occurrence, now=now)

    def catch_up(self, now: datetime | None = None) -> dict[int, DeliveryOutcome]:
        """After a restart: send what fell due within the grace period, skip older ones."""
        now = now or self.services.clock()
        with session_scope(self.services.engine) as session:
            due = [
                (schedule.id, schedule.status)
                for schedule, _ in schedules.all_enabled(session)
                if schedule.id is not None
            ]
        return {
            schedule_id: self._deliver_due_safely(schedule_id, now)
            for schedule_id, status in due
            if status != ScheduleStatus.FAILING
        }

    def _deliver_due_safely(self, schedule_id: int, now: datetime) -> DeliveryOutcome:
        """One schedule of the catch-up pass: a failure is logged and the others go on
        (its claim, if taken, is taken over after its lease by the next pass)."""
        try:
            return self.deliver_due(schedule_id, now=now)
        except Exception as exc:  # the class only: messages may quote rows or responses
            logger.error(
                "digest %s could not be delivered (%s); the next pass tries again",
                schedule_id,
                type(exc).__name__,
            )
            return DeliveryOutcome.FAILED

    def _skip(
        self, schedule: DigestSchedule, workspace: Workspace, occurrence: Occurrence, now: datetime
    ) -> DeliveryOutcome:
        assert schedule.id is not None and workspace.id is not None
        late = now - occurrence.due_at
        with session_scope(self.services.engine) as session:
            recorded = deliveries.skip(
                session,
                workspace_id=workspace.id,
                key=digest_key(schedule.id, occurrence.local_date),
                kind=DeliveryKind.DIGEST,
                now=now,
                reason=f"due {late} ago, past the {self.grace} grace period",
            )
        if recorded:
            logger.warning(
                "digest %s for %s skipped: due %s ago", schedule.id, occurrence.local_date, late
            )
            record_digest_delivery(DeliveryOutcome.SKIPPED)
        return DeliveryOutcome.SKIPPED

    def deliver(
        self,
        schedule: DigestSchedule,
        workspace: Workspace,
        occurrence: Occurrence,
        *,
        now: datetime,
        key: str | None = None,
    ) -> DeliveryOutcome:
        """Post the digest of ``occurrence`` unless it is out or being sent (counted)."""
        outcome = self._deliver(schedule, workspace, occurrence, now=now, key=key)
        record_digest_delivery(outcome)
        return outcome

    def _deliver(
        self,
        schedule: DigestSchedule,
        workspace: Workspace,
        occurrence: Occurrence,
        *,
        now: datetime,
        key: str | None,
    ) -> DeliveryOutcome:
        assert schedule.id is not None and workspace.id is not None
        key = key or digest_key(schedule.id, occurrence.local_date)
        with session_scope(self.services.engine) as session:
            claimed = deliveries.claim(
                session,
                workspace_id=workspace.id,
                key=key,
                kind=DeliveryKind.DIGEST,
                channel_id=schedule.channel_id,
                now=now,
            )
        record_claim("digest", CLAIM_OUTCOMES[claimed.claim])
        if claimed.claim is Claim.RECOVERED:
            record_claim_expired("digest")
        if claimed.claim is Claim.DONE:
            return DeliveryOutcome.DONE
        if claimed.claim is Claim.BUSY:
            return DeliveryOutcome.BUSY
        client = self.client_for(workspace)
        if claimed.claim is Claim.RECOVERED and claimed.previous_claim_at is not None:
            posted = _already_posted(client, schedule.channel_id, key, claimed.previous_claim_at)
            if posted is not None:
                self._complete(claimed.delivery_id, schedule.id, now, posted)
                return DeliveryOutcome.RECOVERED
        try:
            self._refresh_if_stale(workspace, now)
            rendered = render_digest(
                self.services,
                workspace,
                today=occurrence.local_date,
                top=schedule.top_n,
                chart=schedule.chart,
                group=self._group_of(schedule),
            )
            ts = self._post(client, schedule.channel_id, key, rendered)
        except SlackApiError as exc:
            return self._failed(client, schedule, claimed.delivery_id, exc)
        except LedgerError as exc:
            with session_scope(self.services.engine) as session:
                deliveries.fail(session, claimed.delivery_id, error=error_text(exc))
            return DeliveryOutcome.FAILED
        self._complete(claimed.delivery_id, schedule.id, now, ts)
        if rendered.chart_png is not None:
            self._upload_chart(client, schedule.channel_id, rendered, occurrence.local_date)
        return DeliveryOutcome.SENT

    def send_now(
        self, schedule: DigestSchedule, workspace: Workspace, *, now: datetime
    ) -> DeliveryOutcome:
        """Post a digest now, outside its schedule (its own delivery key: never a duplicate)."""
        today = now.astimezone(ZoneInfo(workspace.timezone)).date()
        return self.deliver(
            schedule,
            workspace,
            Occurrence(today, now - timedelta(seconds=1)),
            now=now,
            key=f"digest-now:{schedule.id}:{uuid.uuid4().hex}",
        )

    def _group_of(self, schedule: DigestSchedule) -> tuple[str, str] | None:
        """(id, name) of the billing group a group digest is for (None: the team's)."""
        with session_scope(self.services.engine) as session:
            found = schedules.digest_groups(session, [schedule.id]).get(schedule.id or 0)
        return (found.group_id, found.group_name) if found is not None else None

    def _refresh_if_stale(self, workspace: Workspace, now: datetime) -> None:
        """Sync first when the data is old; if a sync already runs, send on what is there
        (the digest's freshness line says how old it is)."""
        with session_scope(self.services.engine) as session:
            connection = find_connection(session, workspace, "cursor", required=False)
        if (
            connection is None
            or connection.id is None
            or connection.status is ConnectionStatus.REVOKED
        ):
            return
        if connection.last_success_at is None or now - connection.last_success_at > FRESHNESS:
            try:
                sync_for_bot(
                    self.services,
                    connection.id,
                    trigger=SyncTrigger.DIGEST,
                    now=now,
                    kind=SyncKind.LIGHT,  # the last hours are what is missing
                )
            except SyncAlreadyRunning as busy:
                logger.info(
                    "digest for %s sent without its pre-sync: a %s sync has run since %s",
                    workspace.slack_team_id,
                    busy.trigger,
                    busy.since.isoformat(timespec="seconds"),
                )

    @staticmethod
    def _post(client: WebClient, channel: str, key: str, rendered: Rendered) -> str:
        response = client.chat_postMessage(
            channel=channel,
            text=rendered.message.text,
            blocks=rendered.message.blocks,
            metadata={"event_type": METADATA_EVENT, "event_payload": {"key": key}},
            unfurl_links=False,
        )
        return str(response["ts"])

    @staticmethod
    def _upload_chart(client: WebClient, channel: str, rendered: Rendered, day: date) -> None:
        try:
            client.files_upload_v2(
                channel=channel,
                content=rendered.chart_png,
                filename=f"cursor-spend-30d-{day.isoformat()}.png",
                title=rendered.chart_title,
                alt_txt=rendered.chart_alt_text,
            )
        except SlackApiError as exc:  # the digest is out; a missing chart is logged, not retried
            logger.warning("chart upload to %s failed: %s", channel, exc.response.get("error"))

    def _complete(self, delivery_id: int, schedule_id: int, now: datetime, ts: str | None) -> None:
        with session_scope(self.services.engine) as session:
            deliveries.complete(session, delivery_id, now=now, message_ts=ts)
            schedules.mark_ok(session, schedule_id)

    def _failed(
        self, client: WebClient, schedule: DigestSchedule, delivery_id: int, exc: SlackApiError
    ) -> DeliveryOutcome:
        error = str(exc.response.get("error") or exc)
        assert schedule.id is not None
        with session_scope(self.services.engine) as session:
            deliveries.fail(session, delivery_id, error=error)
            first = error in CHANNEL_ERRORS and schedules.mark_failing(session, schedule.id, error)
        logger.warning("digest %s to %s failed: %s", schedule.id, schedule.channel_id, error)
        if first and schedule.created_by:
            self._tell_creator(client, schedule, error)
        return DeliveryOutcome.FAILED

    @staticmethod
    def _tell_creator(client: WebClient, schedule: DigestSchedule, error: str) -> None:
        advice = {
            "not_in_channel": f"invite me with `/invite @StackSpend` in <#{schedule.channel_id}>",
            "is_archived": "the channel is archived: add the digest to another channel",
            "channel_not_found": "the channel is gone or private: invite me, or pick another",
        }.get(error, error)
        try:
            dm = client.conversations_open(users=schedule.created_by)["channel"]["id"]
            client.chat_postMessage(
                channel=dm,
                text=f"The digest {schedule.id} for <#{schedule.channel_id}> could not be posted "
                f"({error}): {advice}. Other digests are not affected.",
            )
        except SlackApiError as exc:
            logger.warning("could not tell %s: %s", schedule.created_by, exc.response.get("error"))
