"""Spend limits as facts: what the provider's spend snapshot says, and the audit of changes.

The limits are Cursor's, read by each sync from ``POST /teams/spend`` into
``spend_snapshot`` (the latest read of the current billing cycle wins): the person's own
limit (``monthlyLimitDollars``, None when they have none), a hard-limit override, and the
limit Cursor enforces (``effectivePerUserLimitDollars``). A change sent from the bot shows
here only once the next sync has read the snapshot again; until then the audit row
(``spend_limit_change``) is all the ledger knows of it.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from types import SimpleNamespace

from sqlalchemy import Table, func, not_, or_
from sqlalchemy import select as sa_select
from sqlmodel import Session, col, select

from ledger.limit_models import LimitOutcome, SpendLimitChange
from ledger.models import SpendSnapshot

#: The most audit rows one history shows.
HISTORY_ROWS = 20


@dataclass(frozen=True)
class PersonLimit:
    """One person's spend this cycle and limits, as the last spend snapshot showed them."""

    email: str
    name: str
    cycle_start: datetime
    taken_at: datetime
    overall_cents: Decimal
    on_demand_cents: Decimal
    #: Their own limit, whole dollars (None: none of their own).
    own_dollars: int | None
    #: The limit Cursor enforces (None: the snapshot did not say).
    effective_dollars: int | None
    #: A hard-limit override (None: none).
    override_dollars: int | None

    @property
    def has_limit(self) -> bool:
        return self.own_dollars is not None or self.override_dollars is not None


@dataclass(frozen=True)
class LimitsNow:
    """Everyone with a limit of their own, and the limit the others get."""

    taken_at: datetime | None
    people: Sequence[PersonLimit]
    #: People on the snapshot with no limit of their own.
    others: int
    #: The limit Cursor enforces for most of them (the team's default), if it says one.
    default_dollars: int | None


#: Alerts about one person: a personal budget's thresholds and forecasts, an unusual day.
PERSON_ALERT_KINDS = frozenset({"threshold", "forecast", "anomaly_user"})


def person_alert_email(kind: str, subject: str) -> str | None:
    """The person (email) whose spend limit an alert invites setting; None for the team's,
    a group's or a connection's alerts."""
    if str(kind) in PERSON_ALERT_KINDS and "@" in subject:
        return subject.lower()
    return None


def whole(value: Decimal | None) -> int | None:
    """Whole dollars from a snapshot's amount (Cursor sends whole dollars; None stays None)."""
    return None if value is None else int(value.to_integral_value())


SPEND: Table = SpendSnapshot.__table__  # type: ignore[attr-defined]
#: The snapshot's columns a ``PersonLimit`` is made of (read as plain rows: a list of
#: hundreds of people needs no ORM objects).
_PERSON_COLUMNS = (
    "email",
    "name",
    "cycle_start",
    "taken_at",
    "overall_cents",
    "on_demand_cents",
    "monthly_limit_dollars",
    "limit_dollars",
    "limit_override_dollars",
)


def _person(row: SpendSnapshot | SimpleNamespace) -> PersonLimit:
    override = whole(row.limit_override_dollars)
    return PersonLimit(
        email=row.email,
        name=row.name,
        cycle_start=row.cycle_start,
        taken_at=row.taken_at,
        overall_cents=row.overall_cents,
        on_demand_cents=row.on_demand_cents,
        own_dollars=whole(row.monthly_limit_dollars),
        effective_dollars=whole(row.limit_dollars),
        override_dollars=override or None,
    )


def _latest_cycle(session: Session, connection_id: int) -> datetime | None:
    return session.exec(
        select(func.max(SpendSnapshot.cycle_start)).where(
            SpendSnapshot.connection_id == connection_id
        )
    ).one()


def person_limit(session: Session, connection_id: int, email: str) -> PersonLimit | None:
    """The person's row of the latest spend snapshot; None when it does not list them."""
    cycle = _latest_cycle(session, connection_id)
    if cycle is None:
        return None
    row = session.exec(
        select(SpendSnapshot).where(
            SpendSnapshot.connection_id == connection_id,
            SpendSnapshot.cycle_start == cycle,
            SpendSnapshot.email == email.lower(),
        )
    ).first()
    return None if row is None else _person(row)


def limits_now(session: Session, connection_id: int) -> LimitsNow:
    """Everyone the latest spend snapshot lists with a limit of their own, by email; the
    rest counted, with the limit Cursor enforces for most of them (two queries: the people
    with limits as rows, the others as counts per enforced limit)."""
    cycle = _latest_cycle(session, connection_id)
    if cycle is None:
        return LimitsNow(None, (), 0, None)
    current = (
        col(SpendSnapshot.connection_id) == connection_id,
        col(SpendSnapshot.cycle_start) == cycle,
    )
    own = or_(
        col(SpendSnapshot.monthly_limit_dollars).is_not(None),
        func.coalesce(col(SpendSnapshot.limit_override_dollars), 0) > 0,
    )
    rows = session.execute(
        sa_select(*(SPEND.c[name] for name in _PERSON_COLUMNS))
        .where(*current, own)
        .order_by(SPEND.c.email)
    )
    people = [_person(SimpleNamespace(**row._mapping)) for row in rows]
    counts = session.exec(
        select(col(SpendSnapshot.limit_dollars), func.count(), func.max(SpendSnapshot.taken_at))
        .where(*current, not_(own))
        .group_by(col(SpendSnapshot.limit_dollars))
    ).all()
    defaults = Counter({whole(limit): count for limit, count, _ in counts if limit is not None})
    default = defaults.most_common(1)[0][0] if defaults else None
    taken = max([p.taken_at for p in people] + [at for _, _, at in counts if at is not None])
    return LimitsNow(taken, people, sum(count for _, count, _ in counts), default)


def start_change(
    session: Session,
    *,
    workspace_id: int,
    requested_by: str,
    email: str,
    before: PersonLimit | None,
    new_dollars: int | None,
    now: datetime,
) -> int:
    """Record a change about to be sent (``pending``); returns its id. Its old limit is the
    one Cursor last accepted from the bot since ``before``'s snapshot, else the snapshot's."""
    accepted = _accepted_since(session, workspace_id, email, before.taken_at if before else None)
    change = SpendLimitChange(
        workspace_id=workspace_id,
        requested_by=requested_by,
        email=email.lower(),
        old_dollars=accepted.new_dollars if accepted else (before.own_dollars if before else None),
        old_effective_dollars=before.effective_dollars if before else None,
        new_dollars=new_dollars,
        requested_at=now,
    )
    session.add(change)
    session.flush()
    assert change.id is not None
    return change.id


def _accepted_since(
    session: Session, workspace_id: int, email: str, since: datetime | None
) -> SpendLimitChange | None:
    """The latest change to ``email``'s limit that Cursor accepted after ``since``."""
    query = select(SpendLimitChange).where(
        SpendLimitChange.workspace_id == workspace_id,
        SpendLimitChange.email == email.lower(),
        SpendLimitChange.outcome == LimitOutcome.SUCCESS,
    )
    if since is not None:
        query = query.where(col(SpendLimitChange.answered_at) > since)
    newest = col(SpendLimitChange.answered_at).desc(), col(SpendLimitChange.id).desc()
    return session.exec(query.order_by(*newest)).first()


def finish_change(
    session: Session, change_id: int, *, outcome: LimitOutcome, message: str, now: datetime
) -> None:
    """Record the provider's answer (or what became of the request) on the change."""
    change = session.get(SpendLimitChange, change_id)
    if change is not None:
        change.outcome = outcome
        change.message = message[:2000]
        change.answered_at = now


def history(
    session: Session, workspace_id: int, *, rows: int = HISTORY_ROWS
) -> list[SpendLimitChange]:
    """The workspace's latest changes, newest first."""
    return list(
        session.exec(
            select(SpendLimitChange)
            .where(SpendLimitChange.workspace_id == workspace_id)
            .order_by(col(SpendLimitChange.requested_at).desc(), col(SpendLimitChange.id).desc())
            .limit(rows)
        ).all()
    )
