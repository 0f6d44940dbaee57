"""Alerts: raised by evaluating budgets, anomalies and connection health; acted upon in Slack.

``evaluate`` runs after every sync and hourly. Each alert has a unique dedupe key,
and alerts are inserted with ON CONFLICT DO NOTHING on it, so repeats, restarts and
evaluators running side by side never raise one twice:

- ``threshold:{budget_id}:{period_start}:{pct}``: a budget's period reached pct% of it;
- ``forecast:{budget_id}:{period_start}``: the period is projected to end over budget
  (``projected_day`` is when it is crossed; see ``ledger.budget_rules``);
- ``anomaly:{connection_id}:{email}:{day}`` and ``anomaly-team:{connection_id}:{day}``:
  yesterday (the last complete local day) was unusual for a person or for the team;
- ``health:{connection_id}:revoked:{day}``, ``health:{connection_id}:failing:{day}``
  (since then, for more than ``failing_hours``) and ``health:{connection_id}:stale:{day}``
  (no successful sync since then, for longer than the provider's retention minus a day).

Days are local calendar days in the workspace's timezone. Spend is read from the
rollups in one grouped query per connection (per person per day, since the earliest
period start); every budget is then measured from that in memory.

Lifecycle: ``open`` -> ``acknowledged`` (never told again), or ``snoozed`` until a time,
then ``open`` again and told once more; ``resolved`` when the condition went away
(a health alert whose connection recovered; a budget alert whose amount was changed).
``due_notifications`` says what to send now; the sender calls ``mark_notified``.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal
from functools import lru_cache, partial
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import Table, and_, bindparam, cast, func, or_, select, update
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlmodel import Session, col
from sqlmodel import select as orm_select

from ledger.accounts import LedgerError
from ledger.budget_rules import (
    Projection,
    crossed,
    is_anomaly,
    percent_of,
    period_bounds,
    project,
)
from ledger.models import (
    Alert,
    AlertKind,
    AlertStatus,
    Budget,
    Connection,
    ConnectionStatus,
    Workspace,
)
from ledger.periods import TRAILING_DAYS, Cycle, calendar_cycle
from ledger.queries import ROLLUPS, Scope, current_cycle

ALERTS: Table = Alert.__table__  # type: ignore[attr-defined]
BUDGETS: Table = Budget.__table__  # type: ignore[attr-defined]

#: Rows per INSERT or per ``IN (...)`` list.
CHUNK = 2000
ACTIONS = {
    "acknowledge": None,
    "snooze_1d": timedelta(days=1),
    "snooze_7d": timedelta(days=7),
}
_ZERO = Decimal(0)
_CENT = Decimal("0.01")
_LIVE = (AlertStatus.OPEN.value, AlertStatus.SNOOZED.value)
PERIOD_LABELS = {"cycle": "billing cycle", "month": "month", "week": "week", "day": "day"}


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
class BudgetStatus:
    """Where a budget stands in its current period (for digests and status replies)."""

    budget: Budget
    period_start: date
    period_end: date
    spent_cents: Decimal
    #: spent / amount x 100, to two decimal places.
    percent: Decimal
    #: The day the spend is projected to reach the amount within the period, if it is.
    projected_day: date | None


# --- wording -------------------------------------------------------------------------------


def dollars(cents: Decimal | int) -> str:
    amount = (Decimal(cents) / 100).quantize(_CENT, rounding=ROUND_HALF_UP)
    sign = "-" if amount < 0 else ""
    return f"{sign}${abs(amount):,.2f}"


def _day(day: date) -> str:
    return f"{day:%a} {day:%b} {day.day}"


def _provider(name: str) -> str:
    return name.capitalize()


def _who(subject_email: str | None) -> str:
    return "the team" if subject_email is None else subject_email


def _capital(who: str) -> str:
    """Who, at the start of a sentence: "The team"; an email stays as it is."""
    return "The team" if who == "the team" else who


def _budget_name(provider: str, subject_email: str | None, period: str) -> str:
    """ "its Cursor budget for the week", "their Cursor budget for the billing cycle"."""
    whose = "its" if subject_email is None else "their"
    return f"{whose} {_provider(provider)} budget for the {PERIOD_LABELS[period]}"


def connection_label(connection: Connection) -> str:
    return f"{_provider(connection.provider)} {connection.key_hint}".strip()


# --- reading spend -------------------------------------------------------------------------


def _as_date(value: object) -> date:
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    return date.fromisoformat(str(value))


class _Spend:
    """One connection's spend per local day, per person and for the team, up to ``today``."""

    def __init__(
        self,
        session: Session,
        scope: Scope,
        *,
        today: date,
        cycle: Cycle,
        first: date,
    ) -> None:
        self.today = today
        self.cycle = cycle
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
            day, amount = _as_date(raw_day), Decimal(cents or 0)
            self.by_user[email][day] = amount
            self.team[day] += amount
        self._spent: dict[tuple[str | None, date], Decimal] = {}
        self._projections: dict[tuple[str | None, date, date], Projection | None] = {}

    def daily(self, subject: str | None) -> Mapping[date, Decimal]:
        if subject is None:
            return self.team
        return self.by_user.get(subject, {})

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
        key = (subject, start, end)
        if key not in self._projections:
            self._projections[key] = project(self.daily(subject), start, end, self.today)
        return self._projections[key]


def _local_today(workspace: Workspace, now: datetime) -> tuple[ZoneInfo, date]:
    tz = ZoneInfo(workspace.timezone)
    return tz, now.astimezone(tz).date()


def _cycle(session: Session, scope: Scope | None, today: date) -> Cycle:
    return current_cycle(session, scope, today) if scope is not None else calendar_cycle(today)


@lru_cache(maxsize=1024)
def _thresholds(text: str) -> tuple[int, ...]:
    return tuple(sorted({int(part) for part in text.split(",") if part.strip()}))


# --- evaluating ----------------------------------------------------------------------------

_Row = dict[str, Any]
_Builder = Callable[[], _Row]


def _row(workspace_id: int, now: datetime, key: str, kind: AlertKind, **fields: Any) -> _Row:
    row: _Row = {
        "workspace_id": workspace_id,
        "budget_id": None,
        "kind": kind.value,
        "dedupe_key": key,
        "subject": "",
        "period_start": None,
        "threshold": None,
        "title": "",
        "detail": "",
        "amount_cents": None,
        "limit_cents": None,
        "projected_day": None,
        "status": AlertStatus.OPEN.value,
        "snoozed_until": None,
        "acted_by": None,
        "acted_at": None,
        "created_at": now,
        "last_notified_at": None,
        "notify_count": 0,
    }
    row.update(fields)
    row["title"] = row["title"][:200]
    return row


@dataclass(frozen=True)
class _BudgetRow:
    id: int
    provider: str
    subject_email: str | None
    amount_cents: int
    period: str
    thresholds: str


class _Evaluation:
    """The candidate alerts of one workspace: key -> how to build its row if it is new."""

    def __init__(
        self, session: Session, workspace: Workspace, now: datetime, settings: AlertSettings
    ) -> None:
        assert workspace.id is not None
        self.session = session
        self.workspace = workspace
        self.workspace_id: int = workspace.id
        self.now = now
        self.settings = settings
        self.tz, self.today = _local_today(workspace, now)
        self.yesterday = self.today - timedelta(days=1)
        self.candidates: dict[str, _Builder] = {}
        self.existing: set[str] = set()

    def add(self, key: str, builder: _Builder) -> None:
        if key not in self.existing:
            self.candidates.setdefault(key, builder)

    def run(self, connections: Sequence[Connection], budgets: Sequence[_BudgetRow]) -> None:
        by_provider: dict[str, list[_BudgetRow]] = defaultdict(list)
        for budget in budgets:
            by_provider[budget.provider].append(budget)
        for connection in connections:
            mine = by_provider.get(connection.provider, [])
            if connection.status != ConnectionStatus.DISCONNECTED:
                self._connection(connection, mine)
            self._health(connection)

    # Budgets and anomalies ---------------------------------------------------------------

    def _connection(self, connection: Connection, budgets: Sequence[_BudgetRow]) -> None:
        scope = Scope(workspace=self.workspace, connection=connection)
        cycle = _cycle(self.session, scope, self.today)
        bounds = {p: period_bounds(p, self.today, cycle) for p in {b.period for b in budgets}}
        anomaly_first = self.yesterday - timedelta(days=TRAILING_DAYS)
        first = min([anomaly_first, *(start for start, _ in bounds.values())])
        self._load_existing(first)
        spend = _Spend(self.session, scope, today=self.today, cycle=cycle, first=first)
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

    def _budget(self, budget: _BudgetRow, spend: _Spend, start: date, end: date) -> None:
        subject = budget.subject_email
        spent = spend.spent(subject, start)
        for pct in crossed(budget.amount_cents, spent, _thresholds(budget.thresholds)):
            key = f"threshold:{budget.id}:{start.isoformat()}:{pct}"
            self.add(key, partial(self._threshold_row, key, budget, start, end, pct, spent))
        if spent >= budget.amount_cents:
            return
        key = f"forecast:{budget.id}:{start.isoformat()}"
        if key in self.existing:
            return
        projection = spend.projection(subject, start, end)
        day = projection.crossing(budget.amount_cents) if projection is not None else None
        if day is not None and projection is not None:
            self.add(
                key, partial(self._forecast_row, key, budget, start, end, spent, day, projection)
            )

    def _threshold_row(
        self, key: str, budget: _BudgetRow, start: date, end: date, pct: int, spent: Decimal
    ) -> _Row:
        who = _who(budget.subject_email)
        percent = percent_of(budget.amount_cents, spent)
        name = _budget_name(budget.provider, budget.subject_email, budget.period)
        return _row(
            self.workspace_id,
            self.now,
            key,
            AlertKind.THRESHOLD,
            budget_id=budget.id,
            subject=budget.subject_email or "team",
            period_start=start,
            threshold=pct,
            title=f"{_capital(who)} reached {pct}% of {name}",
            detail=(
                f"{_capital(who)} spent {dollars(spent)} of {dollars(budget.amount_cents)} "
                f"({percent:.0f}%) from {_day(start)} to {_day(self.today)}; "
                f"the {PERIOD_LABELS[budget.period]} ends {_day(end)}."
            ),
            amount_cents=spent,
            limit_cents=Decimal(budget.amount_cents),
        )

    def _forecast_row(
        self,
        key: str,
        budget: _BudgetRow,
        start: date,
        end: date,
        spent: Decimal,
        day: date,
        projection: Projection,
    ) -> _Row:
        who = _who(budget.subject_email)
        name = _budget_name(budget.provider, budget.subject_email, budget.period)
        rate = projection.rate
        pace = (
            f"{dollars(rate.weekday)} a day"
            if rate.weekday == rate.weekend
            else f"{dollars(rate.weekday)} a weekday, {dollars(rate.weekend)} a weekend day"
        )
        return _row(
            self.workspace_id,
            self.now,
            key,
            AlertKind.FORECAST,
            budget_id=budget.id,
            subject=budget.subject_email or "team",
            period_start=start,
            title=f"{_capital(who)} is on course to pass {name} on {_day(day)}",
            detail=(
                f"At the current pace ({pace}) {who} will pass {dollars(budget.amount_cents)} "
                f"on {_day(day)}, before the {PERIOD_LABELS[budget.period]} ends {_day(end)}; "
                f"spent so far {dollars(spent)} "
                f"({percent_of(budget.amount_cents, spent):.0f}%)."
            ),
            amount_cents=spent,
            limit_cents=Decimal(budget.amount_cents),
            projected_day=day,
        )

    def _anomalies(self, connection: Connection, spend: _Spend) -> None:
        day = self.yesterday
        trailing_days = [day - timedelta(days=i) for i in range(TRAILING_DAYS, 0, -1)]
        k, floor = self.settings.anomaly_factor, self.settings.anomaly_floor_cents
        provider = _provider(connection.provider)
        for email, daily in spend.by_user.items():
            cents = daily.get(day, _ZERO)
            if cents < floor:
                continue
            trailing = [daily.get(d, _ZERO) for d in trailing_days]
            if is_anomaly(cents, trailing, k, floor):
                key = f"anomaly:{connection.id}:{email}:{day.isoformat()}"
                row = partial(self._anomaly_row, key, AlertKind.ANOMALY_USER, email, email)
                self.add(key, partial(row, cents, trailing, provider))
        cents = spend.team.get(day, _ZERO)
        trailing = [spend.team.get(d, _ZERO) for d in trailing_days]
        if is_anomaly(cents, trailing, k, floor):
            key = f"anomaly-team:{connection.id}:{day.isoformat()}"
            row = partial(self._anomaly_row, key, AlertKind.ANOMALY_TEAM, "team", "the team")
            self.add(key, partial(row, cents, trailing, provider))

    def _anomaly_row(
        self,
        key: str,
        kind: AlertKind,
        subject: str,
        who: str,
        cents: Decimal,
        trailing: Sequence[Decimal],
        provider: str,
    ) -> _Row:
        day = self.yesterday
        mean = sum(trailing, _ZERO) / len(trailing)
        if mean > 0:
            usual = (
                f"{cents / mean:.1f}x the average of {dollars(mean)} a day "
                f"over the {len(trailing)} days before"
            )
        else:
            usual = f"with no spend in the {len(trailing)} days before"
        return _row(
            self.workspace_id,
            self.now,
            key,
            kind,
            subject=subject,
            period_start=day,
            title=f"Unusual {provider} spend: {who} spent {dollars(cents)} on {_day(day)}",
            detail=f"{_capital(who)} spent {dollars(cents)} on {_day(day)}, {usual}.",
            amount_cents=cents,
        )

    # Health ------------------------------------------------------------------------------

    def _local_date(self, moment: datetime) -> date:
        return moment.astimezone(self.tz).date()

    def _health(self, connection: Connection) -> None:
        """Raise revoked, failing and stale alerts; resolve those whose cause went away."""
        status = connection.status
        prefix = f"health:{connection.id}:"
        label = connection_label(connection)
        provider = _provider(connection.provider)
        settled: list[str] = []
        if status == ConnectionStatus.DISCONNECTED:
            self._resolve(prefix, ("revoked", "failing", "stale"))
            return
        if status == ConnectionStatus.REVOKED:
            since = connection.failing_since or connection.connected_at
            key = f"{prefix}revoked:{self._local_date(since).isoformat()}"
            title = f"{provider} key revoked: syncing has stopped"
            detail = (
                f"{provider} refused the API key {connection.key_hint} on "
                f"{_day(self._local_date(since))}. No usage is synced until an admin "
                f"connects again with `/spend {connection.provider} connect`."
            )
            self._health_candidate(key, label, title, detail)
        else:
            settled.append("revoked")
        failing_for = (
            self.now - connection.failing_since
            if status == ConnectionStatus.FAILING and connection.failing_since is not None
            else None
        )
        if failing_for is not None and failing_for > timedelta(hours=self.settings.failing_hours):
            assert connection.failing_since is not None
            since_day = self._local_date(connection.failing_since)
            hours = int(failing_for.total_seconds() // 3600)
            error = (connection.last_error or "no error recorded")[:300]
            key = f"{prefix}failing:{since_day.isoformat()}"
            title = f"{provider} sync failing for {hours} hours"
            detail = (
                f"Every {provider} sync since {_day(since_day)} "
                f"{connection.failing_since.astimezone(self.tz):%H:%M} has failed ({error}). "
                "Reports and alerts miss new usage until it works: "
                f"`/spend {connection.provider} status`."
            )
            self._health_candidate(key, label, title, detail)
        elif status != ConnectionStatus.FAILING:
            settled.append("failing")
        last = connection.last_success_at or connection.connected_at
        limit = timedelta(days=self.settings.retention_days - 1)
        if self.now - last > limit:
            last_day = self._local_date(last)
            left = last + timedelta(days=self.settings.retention_days) - self.now
            hours_left = max(int(left.total_seconds() // 3600), 0)
            when = f"since {_day(last_day)}" if connection.last_success_at else "yet"
            key = f"{prefix}stale:{last_day.isoformat()}"
            title = f"{provider} history at risk: no successful sync {when}"
            detail = (
                f"{provider} keeps about {self.settings.retention_days} days of usage and the "
                f"ledger has none after {last.astimezone(self.tz):%b %d %H:%M}: usage from then "
                f"is lost in about {hours_left} hours unless a sync succeeds. "
                f"See `/spend {connection.provider} status`."
            )
            self._health_candidate(key, label, title, detail)
        else:
            settled.append("stale")
        self._resolve(prefix, settled)

    def _health_candidate(self, key: str, label: str, title: str, detail: str) -> None:
        self.add(
            key,
            partial(
                _row,
                self.workspace_id,
                self.now,
                key,
                AlertKind.HEALTH,
                subject=label,
                title=title,
                detail=detail,
            ),
        )

    def _resolve(self, prefix: str, causes: Iterable[str]) -> None:
        patterns = [ALERTS.c.dedupe_key.startswith(f"{prefix}{cause}:") for cause in causes]
        if not patterns:
            return
        self.session.execute(
            update(ALERTS)
            .where(
                ALERTS.c.workspace_id == self.workspace_id,
                ALERTS.c.kind == AlertKind.HEALTH.value,
                ALERTS.c.status.in_(_LIVE),
                or_(*patterns),
            )
            .values(status=AlertStatus.RESOLVED.value)
        )

    def new_rows(self) -> list[_Row]:
        keys = [key for key in self.candidates if key not in self.existing]
        health = [key for key in keys if key.startswith("health:")]
        for chunk in _chunks(health):
            query = select(ALERTS.c.dedupe_key).where(ALERTS.c.dedupe_key.in_(chunk))
            self.existing.update(self.session.execute(query).scalars())
        return [self.candidates[key]() for key in keys if key not in self.existing]


def _chunks(items: Sequence[Any], size: int = CHUNK) -> Iterable[Sequence[Any]]:
    for index in range(0, len(items), size):
        yield items[index : index + size]


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
        )
        .where(BUDGETS.c.enabled.is_(True), BUDGETS.c.workspace_id.in_(workspace_ids))
        .order_by(BUDGETS.c.id)
    )
    rows: dict[int, list[_BudgetRow]] = defaultdict(list)
    for workspace_id, *fields in session.execute(query):
        rows[workspace_id].append(_BudgetRow(*fields))
    return rows


def _insert(session: Session, rows: Sequence[_Row]) -> list[int]:
    """Insert the rows whose key is still free; the ids of those inserted."""
    ids: list[int] = []
    postgresql = session.get_bind().dialect.name == "postgresql"
    for chunk in _chunks(rows):
        if postgresql:
            ids.extend(session.execute(_unnest_insert(chunk)).scalars())
        else:
            statement = sqlite_insert(ALERTS).on_conflict_do_nothing(index_elements=["dedupe_key"])
            ids.extend(session.execute(statement.returning(ALERTS.c.id), list(chunk)).scalars())
    return ids


def _unnest_insert(rows: Sequence[_Row]) -> Any:
    """One INSERT ... SELECT FROM unnest(arrays): one parameter a column, not one a value.

    (psycopg parses a many-row VALUES statement's placeholders in Python: seconds for
    thousands of rows; arrays go as single values.)
    """
    columns = list(rows[0])
    arrays = [
        cast(bindparam(f"rows_{name}", [row[name] for row in rows], type_=ARRAY(kind)), ARRAY(kind))
        for name in columns
        for kind in [ALERTS.c[name].type]
    ]
    source = select(*(func.unnest(array) for array in arrays))
    return (
        pg_insert(ALERTS)
        .from_select(columns, source)
        .on_conflict_do_nothing(index_elements=["dedupe_key"])
        .returning(ALERTS.c.id)
    )


def _alerts_by_id(session: Session, ids: Sequence[int]) -> list[Alert]:
    """The alerts with these ids: one range read (ids of one insert are close), then kept."""
    if not ids:
        return []
    wanted = set(ids)
    query = (
        orm_select(Alert)
        .where(col(Alert.id) >= min(wanted), col(Alert.id) <= max(wanted))
        .order_by(col(Alert.id))
    )
    return [alert for alert in session.exec(query).all() if alert.id in wanted]


def evaluate(
    session: Session,
    *,
    now: datetime,
    settings: AlertSettings,
    workspace_id: int | None = None,
) -> list[Alert]:
    """Raise the alerts that are due and not raised yet; returns those this call created.

    For every enabled budget (of one workspace, or of all), the spend of its current
    period to today; anomalies of yesterday per person and for the team; the health
    of every connection. The caller commits.
    """
    workspace_query = orm_select(Workspace).order_by(col(Workspace.id))
    if workspace_id is not None:
        workspace_query = workspace_query.where(Workspace.id == workspace_id)
    workspaces = list(session.exec(workspace_query).all())
    if not workspaces:
        return []
    ids = [w.id for w in workspaces if w.id is not None]
    connection_query = (
        orm_select(Connection)
        .where(col(Connection.workspace_id).in_(ids))
        .order_by(col(Connection.id))
    )
    connections: dict[int, list[Connection]] = defaultdict(list)
    for connection in session.exec(connection_query).all():
        connections[connection.workspace_id].append(connection)
    budgets = _budget_rows(session, ids)
    rows: list[_Row] = []
    for workspace in workspaces:
        assert workspace.id is not None
        if not connections.get(workspace.id):
            continue
        evaluation = _Evaluation(session, workspace, now, settings)
        evaluation.run(connections[workspace.id], budgets.get(workspace.id, []))
        rows.extend(evaluation.new_rows())
    if not rows:
        return []
    return _alerts_by_id(session, _insert(session, rows))


# --- acting and telling --------------------------------------------------------------------


def act(
    session: Session,
    alert_id: int,
    *,
    action: str,
    user_id: str,
    now: datetime,
    workspace_id: int | None = None,
) -> Alert:
    """Acknowledge an alert, or snooze it for a day or a week.

    A resolved alert stays resolved (returned unchanged). With ``workspace_id``,
    an alert of another workspace is refused like an unknown one.
    """
    if action not in ACTIONS:
        raise LedgerError(f"Unknown action {action!r}: acknowledge, snooze_1d or snooze_7d.")
    alert = session.get(Alert, alert_id)
    if alert is None or (workspace_id is not None and alert.workspace_id != workspace_id):
        raise LedgerError(f"No alert with ID {alert_id}: see `/spend alerts`.")
    if alert.status == AlertStatus.RESOLVED:
        return alert
    snooze = ACTIONS[action]
    if snooze is None:
        alert.status = AlertStatus.ACKNOWLEDGED.value
        alert.snoozed_until = None
    else:
        alert.status = AlertStatus.SNOOZED.value
        alert.snoozed_until = now + snooze
    alert.acted_by = user_id
    alert.acted_at = now
    session.add(alert)
    session.flush()
    return alert


def due_notifications(
    session: Session, *, now: datetime, workspace_id: int | None = None
) -> list[Alert]:
    """The alerts to send now, oldest first.

    Open alerts never sent yet; and snoozed alerts whose snooze has ended: they are
    opened again here and are due once more, as a reminder (until ``mark_notified``
    records a notification after the snooze's end). Acknowledged and resolved: never.
    """
    scope = [] if workspace_id is None else [ALERTS.c.workspace_id == workspace_id]
    session.execute(
        update(ALERTS)
        .where(
            *scope,
            ALERTS.c.status == AlertStatus.SNOOZED.value,
            ALERTS.c.snoozed_until <= now,
        )
        .values(status=AlertStatus.OPEN.value)
    )
    woke = and_(
        col(Alert.snoozed_until).is_not(None),
        or_(
            col(Alert.last_notified_at).is_(None),
            col(Alert.last_notified_at) < col(Alert.snoozed_until),
        ),
    )
    query = (
        orm_select(Alert)
        .where(Alert.status == AlertStatus.OPEN.value, or_(col(Alert.notify_count) == 0, woke))
        .order_by(col(Alert.created_at), col(Alert.id))
        .execution_options(populate_existing=True)
    )
    if workspace_id is not None:
        query = query.where(Alert.workspace_id == workspace_id)
    return list(session.exec(query).all())


def mark_notified(session: Session, alert_ids: Iterable[int], now: datetime) -> None:
    """Record that these alerts were sent at ``now``."""
    ids = sorted(set(alert_ids))
    for chunk in _chunks(ids):
        session.execute(
            update(Alert)
            .where(col(Alert.id).in_(chunk))
            .values(notify_count=col(Alert.notify_count) + 1, last_notified_at=now)
            .execution_options(synchronize_session="fetch")
        )


def open_alerts(session: Session, workspace_id: int, *, limit: int | None = None) -> list[Alert]:
    """Open and snoozed alerts of a workspace, newest first."""
    query = (
        orm_select(Alert)
        .where(Alert.workspace_id == workspace_id, col(Alert.status).in_(_LIVE))
        .order_by(col(Alert.created_at).desc(), col(Alert.id).desc())
        .execution_options(populate_existing=True)
    )
    if limit is not None:
        query = query.limit(limit)
    return list(session.exec(query).all())


def budget_status(session: Session, workspace: Workspace, *, now: datetime) -> list[BudgetStatus]:
    """Every budget of the workspace (enabled or not) in its current period, by ID."""
    budgets = list(
        session.exec(
            orm_select(Budget).where(Budget.workspace_id == workspace.id).order_by(col(Budget.id))
        ).all()
    )
    if not budgets:
        return []
    _, today = _local_today(workspace, now)
    connections = {
        c.provider: c
        for c in session.exec(
            orm_select(Connection).where(Connection.workspace_id == workspace.id)
        ).all()
    }
    views: dict[str, tuple[_Spend | None, Cycle]] = {}
    result: list[BudgetStatus] = []
    for budget in budgets:
        if budget.provider not in views:
            connection = connections.get(budget.provider)
            scope = Scope(workspace, connection) if connection is not None else None
            cycle = _cycle(session, scope, today)
            spend = None
            if scope is not None:
                mine = [b for b in budgets if b.provider == budget.provider]
                first = min(period_bounds(b.period, today, cycle)[0] for b in mine)
                spend = _Spend(session, scope, today=today, cycle=cycle, first=first)
            views[budget.provider] = (spend, cycle)
        spend, cycle = views[budget.provider]
        start, end = period_bounds(budget.period, today, cycle)
        spent = spend.spent(budget.subject_email, start) if spend is not None else _ZERO
        projection = (
            spend.projection(budget.subject_email, start, end) if spend is not None else None
        )
        result.append(
            BudgetStatus(
                budget=budget,
                period_start=start,
                period_end=end,
                spent_cents=spent,
                percent=percent_of(budget.amount_cents, spent),
                projected_day=(
                    projection.crossing(budget.amount_cents) if projection is not None else None
                ),
            )
        )
    return result
