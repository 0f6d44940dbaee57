"""Personal lines: each subscriber's own spend in a DM, once per period, at their local time.

Scheduling: one job (``personal:due``, every minute, on every replica) sends whoever is
due, rather than a job per person. The database stays the one source of truth (no
in-memory job to derive, reconcile or lose in a restart), a line that fell due while
the process was down is found by the next pass (within ``grace``; older ones are
recorded as skipped), a move to another timezone needs no rescheduling, and a pass
over thousands of subscriptions is arithmetic plus one query.

Each line is a ``delivery`` row keyed by person, cadence and period
(``bot.jobs.personal_due.line_key``), claimed before it is posted exactly as digests
are (``ledger.deliveries``): of several replicas, one sends it; a claim left by a crash
is taken over after its lease, and the DM's history is read first so that a line that
went out before the crash is not sent again. A line Slack refused is tried again on the
next passes, at most ``max_attempts`` times. People the members snapshot lists as
removed, and people deactivated in Slack, are skipped.

Privacy: a line is composed from its recipient's own rows only, and posted to the DM
with that person (``conversations.open`` with their user ID), never to a channel.
"""

from __future__ import annotations

import logging
from collections import Counter
from collections.abc import Callable
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from slack_sdk import WebClient

from bot.jobs.personal_due import last_occurrence, line_key
from bot.metrics import record_personal_lines
from bot.services import CoreServices
from bot.usecases.digest_delivery import FRESHNESS
from bot.usecases.personal_batch import DueLine, LineBatch, LineOutcome
from bot.usecases.personal_people import valid_zone
from bot.usecases.syncs import sync_for_bot
from ledger import deliveries, personal
from ledger.accounts import find_connection
from ledger.db import session_scope
from ledger.deliveries import Claim, Claimed
from ledger.errors import SyncAlreadyRunning, SyncNotDue
from ledger.metrics import record_claim, record_claim_expired
from ledger.models import Connection, ConnectionStatus, DeliveryKind, SyncTrigger, Workspace
from ledger.personal_models import PersonalSubscription

logger = logging.getLogger(__name__)

#: A line due longer ago than this (the process was down) is skipped, not sent late; the
#: bot passes digests' grace (``STACKSPEND_DIGEST_GRACE_HOURS``), whose default this is.
DEFAULT_GRACE = timedelta(hours=3)
#: Times a line Slack refused is tried (one pass a minute) before it is given up.
MAX_ATTEMPTS = 5
_CLAIM_WORDS = {Claim.NEW: "claimed", Claim.RECOVERED: "taken_over"}


def due_line(
    subscription: PersonalSubscription, workspace: Workspace, now: datetime
) -> DueLine | None:
    """The subscription's latest line due by ``now`` and not before it subscribed."""
    person = ZoneInfo(valid_zone(subscription.timezone) or workspace.timezone)
    line = last_occurrence(
        subscription.cadence, subscription.local_time, person, ZoneInfo(workspace.timezone), now
    )
    if line is None or line.due_at < subscription.subscribed_at:
        return None
    assert workspace.id is not None
    key = line_key(workspace.id, subscription.slack_user_id, subscription.cadence, line.first)
    return DueLine(subscription, line, key)


class PersonalSender:
    """Sends every personal line that is due (``run_due``, the scheduler's minute job)."""

    def __init__(
        self,
        services: CoreServices,
        client_for: Callable[[Workspace], WebClient],
        *,
        grace: timedelta = DEFAULT_GRACE,
        max_attempts: int = MAX_ATTEMPTS,
        presync: bool = True,
    ) -> None:
        self.services = services
        #: Sync a workspace whose data is older than ``FRESHNESS`` before its lines (as
        #: digests do); off only where the data is made by hand (tests of timing, bench).
        self.presync = presync
        self.client_for = client_for
        self.grace = grace
        self.max_attempts = max_attempts

    def run_due(self, now: datetime | None = None) -> Counter[LineOutcome]:
        """One pass: send the lines due now, skip those too late; what became of each."""
        now = now or self.services.clock()
        with session_scope(self.services.engine) as session:
            found = personal.active_subscriptions(session)
        due = [(d, w) for s, w in found if (d := due_line(s, w, now)) is not None]
        with session_scope(self.services.engine) as session:
            settled = personal.settled_keys(
                session, [d.key for d, _ in due], max_attempts=self.max_attempts
            )
        outcomes: Counter[LineOutcome] = Counter()
        by_workspace: dict[int, tuple[Workspace, list[DueLine]]] = {}
        for line, workspace in due:
            if line.key in settled:
                continue
            if now - line.line.due_at > self.grace:
                outcomes[self._skip_late(workspace, line, now)] += 1
                continue
            assert workspace.id is not None
            by_workspace.setdefault(workspace.id, (workspace, []))[1].append(line)
        for workspace, lines in by_workspace.values():
            if self.services.stopping.is_set():  # shutting down: the next process sends them
                break
            outcomes.update(self._send_workspace_safely(workspace, lines, now))
        for outcome, count in outcomes.items():
            record_personal_lines(outcome.value, count)
        return outcomes

    def _skip_late(self, workspace: Workspace, line: DueLine, now: datetime) -> LineOutcome:
        assert workspace.id is not None
        with session_scope(self.services.engine) as session:
            personal.skip_late(
                session,
                workspace_id=workspace.id,
                key=line.key,
                now=now,
                reason=f"due {now - line.line.due_at} ago, past the {self.grace} grace period",
            )
        return LineOutcome.LATE

    def _send_workspace_safely(
        self, workspace: Workspace, lines: list[DueLine], now: datetime
    ) -> Counter[LineOutcome]:
        """A workspace's lines; a failure is logged and the other workspaces go on (claims
        taken are taken over after their lease by a later pass)."""
        try:
            return self._send_workspace(workspace, lines, now)
        except Exception as exc:  # the class only: messages may quote rows or responses
            logger.error(
                "personal lines of workspace %s failed (%s); the next pass tries again",
                workspace.id,
                type(exc).__name__,
            )
            return Counter({LineOutcome.FAILED: len(lines)})

    def _send_workspace(
        self, workspace: Workspace, lines: list[DueLine], now: datetime
    ) -> Counter[LineOutcome]:
        with session_scope(self.services.engine) as session:
            connection = find_connection(session, workspace, "cursor", required=False)
        if connection is None or connection.id is None:
            return Counter()  # nothing to report on yet: late lines are skipped later
        self._refresh_if_stale(connection, now)
        outcomes: Counter[LineOutcome] = Counter()
        mine: list[tuple[DueLine, Claimed]] = []
        for line in lines:
            claimed = self._claim(workspace, line, now)
            if claimed.claim in (Claim.NEW, Claim.RECOVERED):
                mine.append((line, claimed))
            else:
                outcomes[LineOutcome.BUSY] += 1
        if mine:
            client = self.client_for(workspace)
            batch = LineBatch(self.services.engine, client, workspace, connection.id, now)
            outcomes.update(batch.send(mine))
        return outcomes

    def _claim(self, workspace: Workspace, line: DueLine, now: datetime) -> Claimed:
        assert workspace.id is not None
        with session_scope(self.services.engine) as session:
            claimed = deliveries.claim(
                session,
                workspace_id=workspace.id,
                key=line.key,
                kind=DeliveryKind.PERSONAL,
                channel_id=None,
                now=now,
            )
        record_claim("personal", _CLAIM_WORDS.get(claimed.claim, claimed.claim.value))
        if claimed.claim is Claim.RECOVERED:
            record_claim_expired("personal")
        return claimed

    def _refresh_if_stale(self, connection: Connection, now: datetime) -> None:
        """Sync first when the data is old, as digests do; if a sync runs, or one finished
        (or failed) within ``FRESHNESS``, send on what is there: a Cursor that is down is
        tried at most once an hour here, whatever the number of lines due."""
        if not self.presync or connection.status is ConnectionStatus.REVOKED:
            return
        assert connection.id is not None
        if connection.last_success_at is not None and now - connection.last_success_at <= FRESHNESS:
            return
        try:
            sync_for_bot(
                self.services,
                connection.id,
                trigger=SyncTrigger.DIGEST,
                now=now,
                unless_synced_since=now - FRESHNESS,
            )
        except (SyncAlreadyRunning, SyncNotDue) as exc:
            logger.info("personal lines sent without their pre-sync (%s)", type(exc).__name__)
