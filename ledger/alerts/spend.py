"""One connection's spend per local day, per person and for the team, read once."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping
from datetime import date, datetime
from decimal import Decimal
from zoneinfo import ZoneInfo

from sqlalchemy import func, select
from sqlmodel import Session

from connectors.group_records import UNASSIGNED_ID
from ledger.budget_rules import Projection, project
from ledger.group_budgets import GROUP_KEY
from ledger.group_days import group_of
from ledger.group_ranges import member_ranges
from ledger.import_join import connection_history
from ledger.models import Workspace
from ledger.periods import Cycle, Period, calendar_cycle
from ledger.queries import ROLLUPS, Scope, current_cycle

_ZERO = Decimal(0)


def as_date(value: object) -> date:
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    return date.fromisoformat(str(value))


def local_today(workspace: Workspace, now: datetime) -> tuple[ZoneInfo, date]:
    tz = ZoneInfo(workspace.timezone)
    return tz, now.astimezone(tz).date()


def cycle_of(session: Session, scope: Scope | None, today: date) -> Cycle:
    return current_cycle(session, scope, today) if scope is not None else calendar_cycle(today)


def history_day(session: Session, scope: Scope, tz: ZoneInfo) -> date | None:
    """The first local day the ledger has usage for, imported history included (None:
    unknown)."""
    start = connection_history(session, scope.connection_id, scope.connection.history_start).start
    return start.astimezone(tz).date() if start is not None else None


class Spend:
    """One connection's spend per local day, per person and for the team, up to ``today``;
    per billing group too (a subject ``ledger.group_budgets.spend_key(id)``), from the same
    rows and the members' days in each group (read when a group is first asked for).

    ``known_from``: the first day of history (forecasts leave earlier days out).
    """

    def __init__(
        self,
        session: Session,
        scope: Scope,
        *,
        today: date,
        first: date,
        known_from: date | None = None,
    ) -> None:
        self.today = today
        self.known_from = known_from
        self._session, self._scope, self._first = session, scope, first
        self._groups: dict[str, dict[date, Decimal]] | None = None
        self.by_user: dict[str, dict[date, Decimal]] = defaultdict(dict)
        self.team: dict[date, Decimal] = defaultdict(Decimal)
        query = (
            select(ROLLUPS.c.day, ROLLUPS.c.user_email, func.sum(ROLLUPS.c.charged_cents))
            .where(
                ROLLUPS.c.connection_id == scope.connection_id,
                ROLLUPS.c.day >= first,
                ROLLUPS.c.day <= today,
            )
            .group_by(ROLLUPS.c.day, ROLLUPS.c.user_email)
        )
        for raw_day, email, cents in session.execute(query):
            day, amount = as_date(raw_day), Decimal(cents or 0)
            self.by_user[email][day] = amount
            self.team[day] += amount
        self._spent: dict[tuple[str | None, date], Decimal] = {}
        self._projections: dict[tuple[str | None, date, date], Projection | None] = {}

    def daily(self, subject: str | None) -> Mapping[date, Decimal]:
        if subject is None:
            return self.team
        if subject.startswith(GROUP_KEY):
            return self._group_days().get(subject[len(GROUP_KEY) :], {})
        return self.by_user.get(subject, {})

    def _group_days(self) -> dict[str, dict[date, Decimal]]:
        """Spend per group (Unassigned included) and local day."""
        if self._groups is None:
            period = Period(self._first, self.today, "budgets")
            ranges = member_ranges(self._session, self._scope, period)
            groups: dict[str, dict[date, Decimal]] = defaultdict(lambda: defaultdict(Decimal))
            for email, days in self.by_user.items():
                mine = ranges.get(email, [])
                for day, cents in days.items():
                    groups[group_of(mine, day) or UNASSIGNED_ID][day] += cents
            self._groups = {key: dict(days) for key, days in groups.items()}
        return self._groups

    def spent(self, subject: str | None, start: date) -> Decimal:
        """Spend from ``start`` to today, inclusive."""
        key = (subject, start)
        total = self._spent.get(key)
        if total is None:
            total = sum(
                (cents for day, cents in self.daily(subject).items() if day >= start), _ZERO
            )
            self._spent[key] = total
        return total

    def projection(self, subject: str | None, start: date, end: date) -> Projection | None:
        """The ledger's one forecast for this subject and period."""
        key = (subject, start, end)
        if key not in self._projections:
            self._projections[key] = project(
                self.daily(subject), start, end, self.today, known_from=self.known_from
            )
        return self._projections[key]
