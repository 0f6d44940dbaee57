"""One workspace's due personal lines in one pass: people, figures, then a DM each.

Used by ``bot.usecases.personal_delivery`` once the lines are claimed.
"""

from __future__ import annotations

import enum
import logging
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError
from sqlalchemy import Engine

from bot.jobs.personal_due import LineOccurrence
from bot.usecases.digest_delivery import METADATA_EVENT
from bot.usecases.personal_people import Recipient, recipient
from digests.personal_words import render_line
from ledger import deliveries, personal
from ledger.budget_status import BudgetStatus, budget_status
from ledger.db import session_scope
from ledger.deliveries import Claim, Claimed
from ledger.models import Workspace
from ledger.personal_figures import Cell, compose, own_budget, read_cells, trailing_window
from ledger.personal_models import PersonalSubscription

logger = logging.getLogger(__name__)


class LineOutcome(enum.StrEnum):
    SENT = "sent"
    RECOVERED = "recovered"  # sent before a crash, found in the DM: not sent again
    BUSY = "busy"  # another replica is sending it, or sent it a moment ago
    FAILED = "failed"
    LATE = "late"  # due longer ago than the grace period: skipped
    LEFT = "left"  # removed from the team or from Slack: skipped


@dataclass(frozen=True)
class DueLine:
    subscription: PersonalSubscription
    line: LineOccurrence
    key: str


class LineBatch:
    """One workspace's claimed lines in one pass: people, figures, then a DM each."""

    def __init__(
        self,
        engine: Engine,
        client: WebClient,
        workspace: Workspace,
        connection_id: int,
        now: datetime,
    ) -> None:
        self.engine = engine
        self.client = client
        self.workspace = workspace
        self.connection_id = connection_id
        self.now = now

    def send(self, mine: list[tuple[DueLine, Claimed]]) -> Counter[LineOutcome]:
        outcomes: Counter[LineOutcome] = Counter()
        people = self._people(mine, outcomes)
        going = [(line, claimed) for line, claimed in mine if line.key in people]
        cells, budgets = self._figures([(line, people[line.key]) for line, _ in going])
        for line, claimed in going:
            person = people[line.key]
            assert person.email is not None
            outcomes[
                self._send_one(line, claimed, person, cells.get(person.email, []), budgets)
            ] += 1
        return outcomes

    def _people(
        self, mine: list[tuple[DueLine, Claimed]], outcomes: Counter[LineOutcome]
    ) -> dict[str, Recipient]:
        """The recipients to send to, by line key; the others' claims are settled here."""
        assert self.workspace.id is not None
        with session_scope(self.engine) as session:
            linked = personal.linked_emails(
                session, self.workspace.id, [line.subscription.slack_user_id for line, _ in mine]
            )
        found: dict[str, Recipient] = {}
        for line, claimed in mine:
            user_id = line.subscription.slack_user_id
            try:
                found[line.key] = recipient(self.client, user_id, linked.get(user_id))
            except SlackApiError as exc:
                outcomes[self._failed(claimed, exc)] += 1
        emails = [person.email for person in found.values() if person.email]
        with session_scope(self.engine) as session:
            removed = personal.removed_emails(session, self.connection_id, emails)
        for line, claimed in mine:
            person = found.get(line.key)
            if person is None:
                continue
            gone = person.gone or (
                "removed from the Cursor team" if person.email in removed else None
            )
            if gone is not None:
                with session_scope(self.engine) as session:
                    personal.skip_claimed(session, claimed.delivery_id, reason=gone)
                del found[line.key]
                outcomes[LineOutcome.LEFT] += 1
            else:
                self._follow_timezone(line.subscription, person)
        return found

    def _follow_timezone(self, subscription: PersonalSubscription, person: Recipient) -> None:
        if person.timezone and person.timezone != subscription.timezone and subscription.id:
            with session_scope(self.engine) as session:
                personal.set_timezone(session, subscription.id, person.timezone)

    def _figures(
        self, lines: Sequence[tuple[DueLine, Recipient]]
    ) -> tuple[dict[str, list[Cell]], list[BudgetStatus]]:
        """Every recipient's rows over their windows (one read), and the budgets."""
        if not lines:
            return {}, []
        first = min(trailing_window(d.subscription.cadence, d.line.first)[0] for d, _ in lines)
        last = max(d.line.last for d, _ in lines)
        emails = [person.email for _, person in lines if person.email]
        with session_scope(self.engine) as session:
            cells = read_cells(session, self.connection_id, emails, first, last)
            budgets = budget_status(session, self.workspace, now=self.now)
        return cells, budgets

    def _send_one(
        self,
        line: DueLine,
        claimed: Claimed,
        person: Recipient,
        cells: list[Cell],
        budgets: list[BudgetStatus],
    ) -> LineOutcome:
        figures = compose(
            cells,
            line.subscription.cadence,
            line.line.first,
            line.line.last,
            own_budget(budgets, person.email),
        )
        message = render_line(figures)
        try:
            channel = self.client.conversations_open(users=person.user_id)["channel"]["id"]
            if claimed.claim is Claim.RECOVERED and claimed.previous_claim_at is not None:
                posted = _already_posted(self.client, channel, line.key, claimed.previous_claim_at)
                if posted is not None:
                    self._complete(claimed, posted)
                    return LineOutcome.RECOVERED
            response = self.client.chat_postMessage(
                channel=channel,
                text=message.text,
                blocks=message.blocks,
                metadata={"event_type": METADATA_EVENT, "event_payload": {"key": line.key}},
                unfurl_links=False,
            )
        except SlackApiError as exc:
            return self._failed(claimed, exc)
        self._complete(claimed, str(response["ts"]))
        return LineOutcome.SENT

    def _complete(self, claimed: Claimed, ts: str) -> None:
        with session_scope(self.engine) as session:
            deliveries.complete(session, claimed.delivery_id, now=self.now, message_ts=ts)

    def _failed(self, claimed: Claimed, exc: SlackApiError) -> LineOutcome:
        error = str(exc.response.get("error") or type(exc).__name__)
        with session_scope(self.engine) as session:
            deliveries.fail(session, claimed.delivery_id, error=error)
        logger.warning("personal line %s failed: %s", claimed.delivery_id, error)
        return LineOutcome.FAILED


def _already_posted(client: WebClient, channel: str, key: str, since: datetime) -> str | None:
    """The ts of a line carrying ``key`` in its metadata, posted to ``channel`` since then."""
    history = client.conversations_history(
        channel=channel,
        oldest=f"{since.timestamp() - 60:.6f}",
        include_all_metadata=True,
        limit=200,
    )
    messages: list[dict[str, Any]] = history.get("messages") or []
    for message in messages:
        payload = (message.get("metadata") or {}).get("event_payload") or {}
        if payload.get("key") == key:
            return str(message.get("ts"))
    return None
