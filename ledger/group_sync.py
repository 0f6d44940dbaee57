"""A sync's billing-group step: read each cycle's groups from the provider and keep them.

Every run reads the current cycle and the one before (two requests, one per cycle, paced
with the rest); the first run that finds no groups kept reads back to the history start,
at most ``BACKFILL_CYCLES`` cycles. A cycle read replaces what was kept for it, so running
a sync twice writes the same rows, and a group Cursor deleted (its usage moved to
Unassigned) disappears from every cycle Cursor still serves; older cycles keep what was
known. A team whose plan has no billing groups (403) keeps syncing everything else; the
step records why groups are unavailable. Any other failure of this step is recorded too
and never fails the sync: groups are read again on the next run.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from contextlib import AbstractContextManager
from datetime import date, datetime, timedelta
from typing import Protocol, runtime_checkable

from sqlalchemy import delete
from sqlmodel import Session, col, select

from connectors.errors import AuthError, ConnectorError, PlanError
from connectors.group_records import UNASSIGNED_ID, UNASSIGNED_NAME, CycleGroups
from ledger.group_models import BillingGroupCycle, BillingGroupStay, GroupSyncState
from ledger.models import Member

logger = logging.getLogger(__name__)

#: Most cycles the first read goes back.
BACKFILL_CYCLES = 12
UNAVAILABLE_PLAN = (
    "Cursor answered 403 (Enterprise access required) when asked for billing groups: "
    "they are an Enterprise feature, so spend by group, group budgets and group digests are "
    "unavailable for this team. Everything else keeps working."
)
NOT_SYNCED = "Billing groups have not been read yet: they come with the next sync."


@runtime_checkable
class GroupSource(Protocol):
    def cycle_groups(self, day: date) -> CycleGroups: ...


Writing = Callable[[], AbstractContextManager[Session]]


def sync_groups(
    source: object,
    writing: Writing,
    connection_id: int,
    now: datetime,
    history_start: datetime | None,
) -> int:
    """Read and keep the groups; the number of requests it made (0 if the source has none)."""
    if not isinstance(source, GroupSource):
        return 0
    with writing() as session:
        backfill = _nothing_kept(session, connection_id)
    limit = BACKFILL_CYCLES if backfill and history_start is not None else 2
    day, requests, cycles = now.date(), 0, 0
    try:
        while cycles < limit:
            groups = source.cycle_groups(day)
            requests += groups.requests
            with writing() as session:
                store_cycle(session, connection_id, groups, now)
            cycles += 1
            day = groups.cycle_start.date() - timedelta(days=1)
            if backfill and history_start is not None and groups.cycle_start <= history_start:
                break
    except AuthError:
        raise
    except PlanError:
        _record(writing, connection_id, now, reason=UNAVAILABLE_PLAN, available=False)
        return requests + 1
    except ConnectorError as exc:
        logger.warning("billing groups of connection %s: %s", connection_id, type(exc).__name__)
        reason = f"Billing groups could not be read on the last sync ({exc}); "
        _record(writing, connection_id, now, reason=reason + "the next sync tries again.")
        return requests + 1
    _record(writing, connection_id, now, available=True, cycles=cycles, requests=requests)
    return requests


def _nothing_kept(session: Session, connection_id: int) -> bool:
    query = select(BillingGroupCycle.id).where(BillingGroupCycle.connection_id == connection_id)
    return session.exec(query.limit(1)).first() is None


def store_cycle(session: Session, connection_id: int, groups: CycleGroups, now: datetime) -> None:
    """Replace what is kept for the cycle with ``groups`` (idempotent)."""
    start = groups.cycle_start
    for table in (BillingGroupStay, BillingGroupCycle):
        session.execute(
            delete(table).where(
                col(table.connection_id) == connection_id, col(table.cycle_start) == start
            )
        )
    by_user_id = _emails_by_user_id(session, connection_id)
    rows: list[BillingGroupCycle | BillingGroupStay] = [
        _cycle_row(connection_id, groups, UNASSIGNED_ID, UNASSIGNED_NAME, now)
    ]
    rows[0].spend_cents = groups.unassigned_cents
    seen: set[tuple[str, str, datetime]] = set()
    for group in groups.groups:
        row = _cycle_row(connection_id, groups, group.group_id, group.name, now)
        row.spend_cents = group.spend_cents
        rows.append(row)
        for stay in group.stays:
            email = stay.email or by_user_id.get(stay.provider_user_id or "", "")
            key = (group.group_id, email, stay.joined_at)
            if not email or key in seen:
                continue
            seen.add(key)
            rows.append(
                BillingGroupStay(
                    connection_id=connection_id,
                    cycle_start=start,
                    group_id=group.group_id,
                    email=email,
                    joined_at=stay.joined_at,
                    left_at=stay.left_at,
                )
            )
    session.add_all(rows)


def _cycle_row(
    connection_id: int, groups: CycleGroups, group_id: str, name: str, now: datetime
) -> BillingGroupCycle:
    return BillingGroupCycle(
        connection_id=connection_id,
        cycle_start=groups.cycle_start,
        cycle_end=groups.cycle_end,
        group_id=group_id,
        name=name,
        read_at=now,
    )


def _emails_by_user_id(session: Session, connection_id: int) -> dict[str, str]:
    query = select(Member.provider_user_id, Member.email).where(
        Member.connection_id == connection_id, col(Member.provider_user_id).is_not(None)
    )
    return {user_id: email for user_id, email in session.exec(query) if user_id}


def _record(
    writing: Writing,
    connection_id: int,
    now: datetime,
    *,
    reason: str | None = None,
    available: bool | None = None,
    cycles: int = 0,
    requests: int = 0,
) -> None:
    with writing() as session:
        state = session.get(GroupSyncState, connection_id)
        if state is None:
            state = GroupSyncState(connection_id=connection_id, checked_at=now)
            session.add(state)
        state.checked_at, state.reason = now, reason
        if available is not None:
            state.available = available
        if available:
            state.synced_at, state.cycles_read, state.requests = now, cycles, requests


def group_state(session: Session, connection_id: int) -> GroupSyncState | None:
    return session.get(GroupSyncState, connection_id)
