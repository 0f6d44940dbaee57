"""Evaluating: which alerts are due for each workspace (budgets, anomalies, health)."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Collection, Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal
from functools import partial
from typing import Any

from sqlalchemy import Table, or_, select, update
from sqlmodel import Session, col
from sqlmodel import select as orm_select

from ledger.alerts.health import HealthCheck, health_facts
from ledger.alerts.lifecycle import LIVE
from ledger.alerts.spend import Spend, cycle_of, history_day, local_today
from ledger.alerts.store import ALERTS, Row, alert_row, alerts_by_id, chunks, insert_rows
from ledger.budget_rules import crossed, is_anomaly, period_bounds
from ledger.group_budgets import alert_subject, spend_key
from ledger.group_models import GroupBudget
from ledger.installs import installed
from ledger.models import (
    Alert,
    AlertKind,
    AlertStatus,
    Budget,
    Connection,
    ConnectionStatus,
    Workspace,
)
from ledger.periods import TRAILING_DAYS
from ledger.queries import Scope

BUDGETS: Table = Budget.__table__  # type: ignore[attr-defined]
GROUP_BUDGETS: Table = GroupBudget.__table__  # type: ignore[attr-defined]
_ZERO = Decimal(0)
_Builder = Callable[[], Row]


@dataclass(frozen=True)
class AlertSettings:
    #: A day is unusual above this many times the trailing 7-day average...
    anomaly_factor: Decimal = Decimal(3)
    #: ...and at or above this many cents (for a person, and for the team).
    anomaly_floor_cents: Decimal = Decimal(2000)
    #: A connection failing for longer than this raises a health alert.
    failing_hours: int = 6
    #: How many days of usage the provider keeps: history is about to be lost after
    #: ``retention_days - 1`` days without a successful sync.
    retention_days: int = 7


@dataclass(frozen=True)
class _BudgetRow:
    id: int
    provider: str
    subject_email: str | None
    amount_cents: int
    period: str
    thresholds: list[int]
    #: A billing group's budget: the group's id and name (``ledger.group_budgets``).
    group_id: str | None = None
    group_name: str | None = None

    @property
    def spend_subject(self) -> str | None:
        return spend_key(self.group_id) if self.group_id else self.subject_email

    @property
    def alert_subject(self) -> str:
        if self.group_id:
            return alert_subject(self.group_name or self.group_id)
        return self.subject_email or "team"


class _Evaluation:
    """The candidate alerts of one workspace: key -> how to build its row if it is new."""

    def __init__(
        self, session: Session, workspace: Workspace, now: datetime, settings: AlertSettings
    ) -> None:
        assert workspace.id is not None
        self.session = session
        self.workspace_id: int = workspace.id
        self.workspace = workspace
        self.now = now
        self.settings = settings
        self.tz, self.today = local_today(workspace, now)
        self.yesterday = self.today - timedelta(days=1)
        self.candidates: dict[str, _Builder] = {}
        self.existing: set[str] = set()

    def add(self, key: str, kind: AlertKind, **facts: Any) -> None:
        if key not in self.existing:
            self.candidates.setdefault(key, partial(self.row, key, kind, **facts))

    def row(self, key: str, kind: AlertKind, **facts: Any) -> Row:
        return alert_row(
            workspace_id=self.workspace_id,
            kind=kind.value,
            dedupe_key=key,
            created_at=self.now,
            **facts,
        )

    def run(self, connections: Sequence[Connection], budgets: Sequence[_BudgetRow]) -> None:
        by_provider: dict[str, list[_BudgetRow]] = defaultdict(list)
        for budget in budgets:
            by_provider[budget.provider].append(budget)
        for connection in connections:
            mine = by_provider.get(connection.provider, [])
            if connection.status != ConnectionStatus.DISCONNECTED:
                self._connection(connection, mine)
            self._health(connection)

    def _connection(self, connection: Connection, budgets: Sequence[_BudgetRow]) -> None:
        scope = Scope(workspace=self.workspace, connection=connection)
        cycle = cycle_of(self.session, scope, self.today)
        bounds = {p: period_bounds(p, self.today, cycle) for p in {b.period for b in budgets}}
        anomaly_first = self.yesterday - timedelta(days=TRAILING_DAYS)
        first = min([anomaly_first, *(start for start, _ in bounds.values())])
        self._load_existing(first)
        known_from = history_day(self.session, scope, self.tz)
        spend = Spend(self.session, scope, today=self.today, first=first, known_from=known_from)
        for budget in budgets:
            start, end = bounds[budget.period]
            self._budget(budget, spend, start, end)
        self._anomalies(connection, spend)

    def _load_existing(self, first: date) -> None:
        """The keys of this workspace's alerts about days since ``first`` (one query)."""
        query = select(ALERTS.c.dedupe_key).where(
            ALERTS.c.workspace_id == self.workspace_id, ALERTS.c.period_start >= first
        )
        self.existing.update(self.session.execute(query).scalars())

    def _budget(self, budget: _BudgetRow, spend: Spend, start: date, end: date) -> None:
        subject = budget.spend_subject
        spent = spend.spent(subject, start)
        facts = {
            "budget_id": budget.id,
            "subject": budget.alert_subject,
            "provider": budget.provider,
            "period": budget.period,
            "period_start": start,
            "period_end": end,
            "amount_cents": spent,
            "limit_cents": Decimal(budget.amount_cents),
        }
        for pct in crossed(budget.amount_cents, spent, budget.thresholds):
            key = f"threshold:{budget.id}:{start.isoformat()}:{pct}"
            self.add(key, AlertKind.THRESHOLD, threshold=pct, **facts)
        key = f"forecast:{budget.id}:{start.isoformat()}"
        if spent >= budget.amount_cents or key in self.existing:
            return
        projection = spend.projection(subject, start, end)
        day = projection.crossing(budget.amount_cents) if projection is not None else None
        if day is not None and projection is not None:
            rate = projection.rate
            self.add(
                key,
                AlertKind.FORECAST,
                projected_day=day,
                rate_weekday_cents=rate.weekday,
                rate_weekend_cents=rate.weekend,
                **facts,
            )

    def _anomalies(self, connection: Connection, spend: Spend) -> None:
        day = self.yesterday
        trailing_days = [day - timedelta(days=i) for i in range(TRAILING_DAYS, 0, -1)]
        k, floor = self.settings.anomaly_factor, self.settings.anomaly_floor_cents
        people = [(email, daily) for email, daily in spend.by_user.items()]
        for subject, daily in [*people, (None, spend.team)]:
            cents = daily.get(day, _ZERO)
            if cents < floor:
                continue
            trailing = [daily.get(d, _ZERO) for d in trailing_days]
            if not is_anomaly(cents, trailing, k, floor):
                continue
            if subject is None:
                key, kind = (
                    f"anomaly-team:{connection.id}:{day.isoformat()}",
                    AlertKind.ANOMALY_TEAM,
                )
            else:
                key, kind = (
                    f"anomaly:{connection.id}:{subject}:{day.isoformat()}",
                    AlertKind.ANOMALY_USER,
                )
            self.add(
                key,
                kind,
                subject=subject or "team",
                provider=connection.provider,
                period_start=day,
                amount_cents=cents,
                baseline_cents=sum(trailing, _ZERO) / len(trailing),
                baseline_days=len(trailing),
            )

    def _health(self, connection: Connection) -> None:
        """Raise revoked, failing and stale alerts; resolve those whose cause went away."""
        settings = self.settings
        check = HealthCheck(
            connection, self.now, self.tz, settings.failing_hours, settings.retention_days
        )
        due, settled = health_facts(check)
        for key, facts in due:
            self.add(key, AlertKind.HEALTH, **facts)
        self._resolve(check.prefix, settled)

    def _resolve(self, prefix: str, causes: Iterable[str]) -> None:
        patterns = [ALERTS.c.dedupe_key.startswith(f"{prefix}{cause}:") for cause in causes]
        if not patterns:
            return
        self.session.execute(
            update(ALERTS)
            .where(
                ALERTS.c.workspace_id == self.workspace_id,
                ALERTS.c.kind == AlertKind.HEALTH.value,
                ALERTS.c.status.in_(LIVE),
                or_(*patterns),
            )
            .values(status=AlertStatus.RESOLVED.value)
        )

    def new_rows(self) -> list[Row]:
        keys = [key for key in self.candidates if key not in self.existing]
        health = [key for key in keys if key.startswith("health:")]
        for chunk in chunks(health):
            query = select(ALERTS.c.dedupe_key).where(ALERTS.c.dedupe_key.in_(chunk))
            self.existing.update(self.session.execute(query).scalars())
        return [self.candidates[key]() for key in keys if key not in self.existing]


def _budget_rows(session: Session, workspace_ids: Sequence[int]) -> dict[int, list[_BudgetRow]]:
    query = (
        select(
            BUDGETS.c.workspace_id,
            BUDGETS.c.id,
            BUDGETS.c.provider,
            BUDGETS.c.subject_email,
            BUDGETS.c.amount_cents,
            BUDGETS.c.period,
            BUDGETS.c.thresholds,
            GROUP_BUDGETS.c.group_id,
            GROUP_BUDGETS.c.group_name,
        )
        .outerjoin(GROUP_BUDGETS, GROUP_BUDGETS.c.budget_id == BUDGETS.c.id)
        .where(BUDGETS.c.enabled.is_(True), BUDGETS.c.workspace_id.in_(workspace_ids))
        .order_by(BUDGETS.c.id)
    )
    rows: dict[int, list[_BudgetRow]] = defaultdict(list)
    for workspace_id, *fields in session.execute(query):
        rows[workspace_id].append(_BudgetRow(*fields))
    return rows


def _connections(session: Session, workspace_ids: Sequence[int]) -> dict[int, list[Connection]]:
    query = (
        orm_select(Connection)
        .where(col(Connection.workspace_id).in_(workspace_ids))
        .order_by(col(Connection.id))
    )
    connections: dict[int, list[Connection]] = defaultdict(list)
    for connection in session.exec(query).all():
        connections[connection.workspace_id].append(connection)
    return connections


def evaluate(
    session: Session,
    *,
    now: datetime,
    settings: AlertSettings,
    workspace_id: int | None = None,
    workspace_ids: Collection[int] | None = None,
) -> list[Alert]:
    """Raise the alerts that are due and not raised yet; returns those this call created.

    For every enabled budget (of one workspace, of ``workspace_ids``, or of all), the
    spend of its current period to today; anomalies of yesterday per person and for the
    team; the health of every connection. The caller commits.
    """
    workspace_query = orm_select(Workspace).where(installed).order_by(col(Workspace.id))
    if workspace_id is not None:
        workspace_query = workspace_query.where(Workspace.id == workspace_id)
    if workspace_ids is not None:
        workspace_query = workspace_query.where(col(Workspace.id).in_(list(workspace_ids)))
    workspaces = list(session.exec(workspace_query).all())
    ids = [w.id for w in workspaces if w.id is not None]
    connections = _connections(session, ids) if ids else {}
    budgets = _budget_rows(session, ids) if ids else {}
    rows: list[Row] = []
    for workspace in workspaces:
        assert workspace.id is not None
        if not connections.get(workspace.id):
            continue
        evaluation = _Evaluation(session, workspace, now, settings)
        evaluation.run(connections[workspace.id], budgets.get(workspace.id, []))
        rows.extend(evaluation.new_rows())
    if not rows:
        return []
    return alerts_by_id(session, insert_rows(session, rows))
