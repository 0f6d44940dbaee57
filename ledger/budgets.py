"""Budgets: set (create or replace), list, remove. The caller commits.

A budget is for a provider's whole team (``subject_email`` None) or for one person,
per billing cycle (the default), calendar month, week (Monday to Sunday) or day.
There is at most one per (provider, subject, period): setting it again replaces the
amount, thresholds and who is told, and keeps the budget's ID.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from sqlalchemy import String, Table, cast, update
from sqlmodel import Session, col, func, select

from ledger.errors import Input, InvalidValue, LimitReached, NotFound, Thing, UnlinkedPerson
from ledger.group_budgets import link_group
from ledger.group_models import GroupBudget
from ledger.models import (
    DEFAULT_THRESHOLDS,
    Alert,
    AlertKind,
    AlertStatus,
    Budget,
    BudgetPeriod,
    Workspace,
)

ALERTS: Table = Alert.__table__  # type: ignore[attr-defined]

MAX_BUDGETS_PER_WORKSPACE = 100
MAX_THRESHOLDS = 10
MAX_NOTIFY = 20
#: Ten million dollars: far above any bill, below any overflow.
MAX_AMOUNT_CENTS = 1_000_000_000
PROVIDERS = ("cursor",)
#: Appended (with the alert id) to the key of an alert whose budget amount changed.
SUPERSEDED = ":superseded:"


def _check_provider(provider: str) -> str:
    name = provider.strip().lower()
    if name not in PROVIDERS:
        raise InvalidValue(Input.BUDGET_PROVIDER, provider)
    return name


def _check_amount(amount_cents: int) -> int:
    if isinstance(amount_cents, bool) or not isinstance(amount_cents, int):
        raise InvalidValue(Input.BUDGET_AMOUNT, amount_cents)
    if not 0 < amount_cents <= MAX_AMOUNT_CENTS:
        raise InvalidValue(Input.BUDGET_AMOUNT, amount_cents, limit=MAX_AMOUNT_CENTS)
    return amount_cents


def _check_period(period: str) -> BudgetPeriod:
    try:
        return BudgetPeriod(period.strip().lower())
    except ValueError:
        raise InvalidValue(Input.BUDGET_PERIOD, period) from None


def _check_thresholds(thresholds: Iterable[int]) -> tuple[int, ...]:
    values = sorted(set(thresholds))
    if (
        not values
        or len(values) > MAX_THRESHOLDS
        or any(isinstance(v, bool) or not isinstance(v, int) or not 1 <= v <= 1000 for v in values)
    ):
        raise InvalidValue(Input.THRESHOLDS, values, limit=MAX_THRESHOLDS)
    return tuple(values)


def _check_notify(user_ids: Iterable[str]) -> tuple[str, ...]:
    ids = tuple(dict.fromkeys(u.strip() for u in user_ids if u and u.strip()))
    if len(ids) > MAX_NOTIFY:
        raise InvalidValue(Input.NOTIFY_COUNT, len(ids), limit=MAX_NOTIFY)
    if any("," in u or len(u) > 32 for u in ids):
        raise InvalidValue(Input.NOTIFY_IDS, ",".join(ids))
    return ids


def _check_subject(email: str | None, user_id: str | None) -> str | None:
    if email is None or not email.strip():
        if user_id:
            raise UnlinkedPerson(user_id)
        return None
    address = email.strip().lower()
    if "@" not in address or len(address) > 320:
        raise InvalidValue(Input.SUBJECT_EMAIL, email)
    return address


def _find(
    session: Session,
    workspace: Workspace,
    provider: str,
    email: str | None,
    period: BudgetPeriod,
    group_id: str | None = None,
) -> Budget | None:
    grouped = select(GroupBudget.budget_id).where(GroupBudget.budget_id == Budget.id)
    query = select(Budget).where(
        Budget.workspace_id == workspace.id,
        Budget.provider == provider,
        Budget.period == period,
        col(Budget.subject_email).is_(None) if email is None else Budget.subject_email == email,
        ~grouped.exists()  # a group's budget is not the team's
        if group_id is None
        else grouped.where(GroupBudget.group_id == group_id).exists(),
    )
    return session.exec(query.order_by(col(Budget.id))).first()


def _supersede_alerts(session: Session, budget_id: int) -> None:
    """Free the threshold and forecast keys of a budget whose amount changed.

    The keys name the budget, period and percentage, not the amount: once the
    amount changes, each threshold may be crossed (and told) again. The old alerts
    are kept, resolved, under a key that no evaluation produces.
    """
    alert = ALERTS.c
    mine = [
        alert.budget_id == budget_id,
        alert.kind.in_((AlertKind.THRESHOLD, AlertKind.FORECAST)),
        ~alert.dedupe_key.contains(SUPERSEDED),
    ]
    session.execute(
        update(ALERTS)
        .where(*mine, alert.status.in_((AlertStatus.OPEN, AlertStatus.SNOOZED)))
        .values(status=AlertStatus.RESOLVED)
    )
    session.execute(
        update(ALERTS)
        .where(*mine)
        .values(dedupe_key=alert.dedupe_key + SUPERSEDED + cast(alert.id, String))
    )


def _new_budget(
    session: Session,
    workspace: Workspace,
    *,
    provider: str,
    email: str | None,
    period: BudgetPeriod,
    amount_cents: int,
    created_by: str,
    now: datetime,
) -> Budget:
    """A new budget added to the session, unless the workspace already has the most allowed."""
    assert workspace.id is not None
    count = session.exec(
        select(func.count()).select_from(Budget).where(Budget.workspace_id == workspace.id)
    ).one()
    if count >= MAX_BUDGETS_PER_WORKSPACE:
        raise LimitReached(Thing.BUDGET, count, MAX_BUDGETS_PER_WORKSPACE)
    budget = Budget(
        workspace_id=workspace.id,
        provider=provider,
        subject_email=email,
        period=period,
        amount_cents=amount_cents,
        created_by=created_by,
        created_at=now,
    )
    session.add(budget)
    return budget


def add_budget(
    session: Session,
    workspace: Workspace,
    *,
    provider: str = "cursor",
    subject_email: str | None = None,
    subject_user_id: str | None = None,
    amount_cents: int,
    period: str = BudgetPeriod.CYCLE,
    thresholds: Iterable[int] = DEFAULT_THRESHOLDS,
    notify_user_ids: Iterable[str] = (),
    notify_channel_id: str | None = None,
    dm_subject: bool | None = None,
    created_by: str,
    now: datetime,
    group: tuple[str, str] | None = None,
) -> Budget:
    """Set a budget; replaces the one for the same subject and period (same ID) if any.

    ``dm_subject`` (tell the person concerned too) defaults to on for a personal
    budget and is always off for the team's. ``group`` (id, name): a billing group's
    budget (``ledger.group_budgets``), one per group and period.
    """
    assert workspace.id is not None
    provider = _check_provider(provider)
    amount_cents = _check_amount(amount_cents)
    period = _check_period(period)
    pcts = _check_thresholds(thresholds)
    notify = _check_notify(notify_user_ids)
    email = None if group is not None else _check_subject(subject_email, subject_user_id)
    personal = email is not None
    dm = personal if dm_subject is None else dm_subject and personal
    group_id = group[0] if group is not None else None
    budget = _find(session, workspace, provider, email, period, group_id)
    if budget is None:
        budget = _new_budget(
            session,
            workspace,
            provider=provider,
            email=email,
            period=period,
            amount_cents=amount_cents,
            created_by=created_by,
            now=now,
        )
    elif budget.amount_cents != amount_cents:
        assert budget.id is not None
        _supersede_alerts(session, budget.id)
    budget.amount_cents = amount_cents
    budget.thresholds = list(pcts)
    budget.notify_user_ids = list(notify)
    budget.notify_channel_id = notify_channel_id or None
    budget.subject_user_id = (subject_user_id or None) if personal else None
    budget.dm_subject = dm
    budget.enabled = True
    session.flush()
    if group is not None:
        assert budget.id is not None
        link_group(session, budget.id, *group)
        session.flush()
    return budget


def list_budgets(session: Session, workspace: Workspace) -> list[Budget]:
    query = select(Budget).where(Budget.workspace_id == workspace.id).order_by(col(Budget.id))
    return list(session.exec(query).all())


def get_budget(session: Session, workspace: Workspace, budget_id: int) -> Budget:
    budget = session.get(Budget, budget_id)
    if budget is None or budget.workspace_id != workspace.id:
        raise NotFound(Thing.BUDGET, budget_id)
    return budget


def remove_budget(session: Session, workspace: Workspace, budget_id: int) -> Budget:
    """Remove a budget of this workspace; its alerts go with it."""
    budget = get_budget(session, workspace, budget_id)
    session.delete(budget)
    session.flush()
    return budget
