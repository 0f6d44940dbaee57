"""One workspace's due personal lines in one pass: people, figures, then a DM each.

Used by ``bot.usecases.personal_delivery`` once the lines are claimed.
"""

from __future__ import annotations

import enum
import logging
from collections import Counter
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError
from sqlalchemy import Engine

from bot.jobs.personal_due import LineOccurrence
from bot.usecases.digest_delivery import METADATA_EVENT
from bot.usecases.personal_people import Recipient, recipient
from digests.personal_words import render_line
from ledger import deliveries, personal
from ledger.alerts.spend import history_day
from ledger.budget_status import BudgetStatus, budget_status
from ledger.db import session_scope
from ledger.deliveries import Claim, Claimed
from ledger.models import Connection, Workspace
from ledger.personal_figures import Cell, compose, own_budget, read_cells, trailing_window
from ledger.personal_models import PersonalSubscription
from ledger.queries import Scope

logger = logging.getLogger(__name__)

#: Slack's answer when a method is called too often: never counted as a failed attempt.
RATE_LIMITED = "ratelimited"


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
    """One workspace's claimed lines in one pass: the people (from Slack, ``workers`` at a
    time), everyone's figures (one read), then a DM each (``workers`` at a time)."""

    def __init__(
        self,
        engine: Engine,
        client: WebClient,
        workspace: Workspace,
        connection_id: int,
        now: datetime,
        *,
        workers: int = 8,
    ) -> None:
        self.engine = engine
        self.client = client
        self.workspace = workspace
        self.connection_id = connection_id
        self.now = now
        self.workers = workers
        #: The ledger's first day of history (read with the figures).
        self.known_from: date | None = None

    def send(self, mine: list[tuple[DueLine, Claimed]]) -> Counter[LineOutcome]:
        outcomes: Counter[LineOutcome] = Counter()
        with ThreadPoolExecutor(self.workers, thread_name_prefix="personal-line") as pool:
            people = self._people(mine, outcomes, pool)
            going = [(line, claimed) for line, claimed in mine if line.key in people]
            cells, budgets = self._figures([(line, people[line.key]) for line, _ in going])

            def one(item: tuple[DueLine, Claimed]) -> LineOutcome:
                line, claimed = item
                person = people[line.key]
                mine_only = cells.get(person.email or "", [])
                return self._send_one(line, claimed, person, mine_only, budgets)

            outcomes.update(pool.map(one, going))
        return outcomes

    def _people(
        self,
        mine: list[tuple[DueLine, Claimed]],
        outcomes: Counter[LineOutcome],
        pool: ThreadPoolExecutor,
    ) -> dict[str, Recipient]:
        """The recipients to send to, by line key; the others' claims are settled here."""
        assert self.workspace.id is not None
        with session_scope(self.engine) as session:
            linked = personal.linked_emails(
                session, self.workspace.id, [line.subscription.slack_user_id for line, _ in mine]
            )

        def look_up(item: tuple[DueLine, Claimed]) -> Recipient | SlackApiError:
            user_id = item[0].subscription.slack_user_id
            try:
                return recipient(self.client, user_id, linked.get(user_id))
            except SlackApiError as exc:
                return exc

        found: dict[str, Recipient] = {}
        for (line, claimed), person in zip(mine, pool.map(look_up, mine), strict=True):
            if isinstance(person, SlackApiError):
                outcomes[self._failed(claimed, person)] += 1
            else:
                found[line.key] = person
        emails = [person.email for person in found.values() if person.email]
        with session_scope(self.engine) as session:
            removed = personal.removed_emails(session, self.connection_id, emails)
        for line, claimed in mine:
            person_or_none = found.get(line.key)
            if person_or_none is None:
                continue
            gone = person_or_none.gone
            if gone is None and person_or_none.email in removed:
                gone = "removed from the Cursor team"
            if gone is not None:
                with session_scope(self.engine) as session:
                    personal.skip_claimed(session, claimed.delivery_id, reason=gone)
                del found[line.key]
                outcomes[LineOutcome.LEFT] += 1
            else:
                self._follow_timezone(line.subscription, person_or_none)
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
            connection = session.get(Connection, self.connection_id)
            assert connection is not None
            scope = Scope(self.workspace, connection)
            self.known_from = history_day(session, scope, scope.tz)
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
            known_from=self.known_from,
        )
        message = render_line(figures)
        try:
            if claimed.claim is Claim.RECOVERED and claimed.previous_claim_at is not None:
                posted = already_posted(
                    self.client, person.user_id, line.key, claimed.previous_claim_at
                )
                if posted is not None:
                    self._complete(claimed, posted)
                    return LineOutcome.RECOVERED
            response = self.client.chat_postMessage(
                channel=person.user_id,  # the app's DM with them (Slack opens it if need be)
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
            if error == RATE_LIMITED:  # after the client's own retries: try next minute
                personal.fail_without_attempt(session, claimed.delivery_id, error=error)
            else:
                deliveries.fail(session, claimed.delivery_id, error=error)
        logger.warning("personal line %s failed: %s", claimed.delivery_id, error)
        return LineOutcome.FAILED


def already_posted(client: WebClient, user_id: str, key: str, since: datetime) -> str | None:
    """The ts of a message carrying ``key`` in its metadata in the DM with ``user_id``."""
    channel = client.conversations_open(users=user_id)["channel"]["id"]
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
