"""Adoption next to spend: per person, Cursor's daily usage data beside their charged spend.

Facts only. Measures (Cursor's field names; the README repeats them):

- *active days*: days whose row shows an accepted suggestion, a request or agent use
  (``ledger.activity_reads``);
- *accepted lines*: Σ ``acceptedLinesAdded``; *lines suggested*: Σ ``totalLinesAdded``;
- *requests*: Σ ``composerRequests + chatRequests + agentRequests + cmdkUsages``;
- *spend*: Σ ``chargedCents`` of the person's usage events in the period;
- *spend per active day*: spend / active days.

Outliers, among at least ``MIN_PEOPLE`` people:

- *high spend, low acceptance*: spend at least twice the median spend of people who spent,
  and accepted lines per dollar at most half the team's;
- *heavy use, low cost*: requests at least twice the median of active people, and spend per
  request at most half the team's.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from statistics import median

from sqlmodel import Session

from ledger.activity_reads import PersonUsage, usage_by_person
from ledger.import_join import History, connection_history
from ledger.periods import Period
from ledger.queries import Breakdown, Scope, freshness, totals_and_breakdown

#: Fewest people for outliers to mean anything.
MIN_PEOPLE = 4


@dataclass(frozen=True)
class AdoptionRow:
    usage: PersonUsage
    spend_cents: Decimal

    @property
    def email(self) -> str:
        return self.usage.email

    @property
    def key(self) -> str:  # ``ledger.visibility.visible_person_rows`` keys rows by email
        return self.usage.email

    @property
    def spend_per_active_day_cents(self) -> Decimal | None:
        days = self.usage.active_days
        return self.spend_cents / days if days else None


@dataclass(frozen=True)
class AdoptionReport:
    workspace: str
    timezone: str
    period: Period
    rows: tuple[AdoptionRow, ...]
    team: AdoptionRow
    high_spend_low_acceptance: tuple[str, ...]
    heavy_use_low_cost: tuple[str, ...]
    as_of: datetime | None
    #: Where the ledger's history starts (days before it have no data).
    history_start: datetime | None = None
    history: History | None = None


def _empty(email: str) -> PersonUsage:
    return PersonUsage(email, 0, 0, 0, 0, 0, 0, 0, 0, 0)


def _sum(rows: list[AdoptionRow]) -> AdoptionRow:
    fields = ("active_days", "lines_added", "accepted_lines", "requests", "agent_requests",
              "applies", "accepts", "tabs_shown", "tabs_accepted")  # fmt: skip
    usage = PersonUsage("", *(sum(getattr(r.usage, f) for r in rows) for f in fields))
    return AdoptionRow(usage, sum((r.spend_cents for r in rows), Decimal(0)))


def _high_spend_low_acceptance(rows: list[AdoptionRow], team: AdoptionRow) -> list[AdoptionRow]:
    spenders = [r for r in rows if r.spend_cents > 0]
    if len(spenders) < MIN_PEOPLE or team.spend_cents <= 0:
        return []
    typical = median(r.spend_cents for r in spenders)
    # accepted / spend <= (team accepted / team spend) / 2, without dividing
    found = [
        r
        for r in spenders
        if r.spend_cents >= 2 * typical
        and 2 * r.usage.accepted_lines * team.spend_cents
        <= team.usage.accepted_lines * r.spend_cents
    ]
    return sorted(found, key=lambda r: (-r.spend_cents, r.email))


def _heavy_use_low_cost(rows: list[AdoptionRow], team: AdoptionRow) -> list[AdoptionRow]:
    active = [r for r in rows if r.usage.active_days > 0]
    if len(active) < MIN_PEOPLE or team.usage.requests <= 0:
        return []
    typical = median(Decimal(r.usage.requests) for r in active)
    # spend / requests <= (team spend / team requests) / 2, without dividing
    found = [
        r
        for r in active
        if r.usage.requests > 0
        and r.usage.requests >= 2 * typical
        and 2 * r.spend_cents * team.usage.requests <= team.spend_cents * r.usage.requests
    ]
    return sorted(found, key=lambda r: (-r.usage.requests, r.email))


def adoption_report(session: Session, scope: Scope, *, period: Period) -> AdoptionReport:
    usage = {
        u.email: u for u in usage_by_person(session, scope.connection_id, period.start, period.end)
    }
    _, spend_rows = totals_and_breakdown(session, scope, period, Breakdown.USER)
    spend = {row.key: row.cents for row in spend_rows}
    rows = [
        AdoptionRow(usage.get(email) or _empty(email), spend.get(email, Decimal(0)))
        for email in sorted(usage.keys() | spend.keys())
    ]
    rows.sort(key=lambda r: (-r.spend_cents, -r.usage.active_days, r.email))
    team = _sum(rows)
    as_of, history_start = freshness(session, scope)
    return AdoptionReport(
        workspace=scope.workspace.slack_team_id,
        timezone=scope.workspace.timezone,
        period=period,
        rows=tuple(rows),
        team=team,
        high_spend_low_acceptance=tuple(r.email for r in _high_spend_low_acceptance(rows, team)),
        heavy_use_low_cost=tuple(r.email for r in _heavy_use_low_cost(rows, team)),
        as_of=as_of,
        history_start=history_start,
        history=connection_history(session, scope.connection_id, history_start),
    )
