"""Digest schedules: create, list, remove, mark failing. The caller commits."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime, time

from sqlmodel import Session, col, select

from ledger.errors import Duplicate, Input, InvalidValue, LimitReached, NotFound, Thing
from ledger.group_models import GroupDigest
from ledger.installs import installed
from ledger.models import Cadence, DigestSchedule, ScheduleStatus, Workspace

MAX_SCHEDULES_PER_WORKSPACE = 20


def add_schedule(
    session: Session,
    workspace: Workspace,
    *,
    channel_id: str,
    local_time: time,
    cadence: str | Cadence,
    created_by: str,
    now: datetime,
    top_n: int = 5,
    chart: bool = True,
    group: tuple[str, str] | None = None,
) -> DigestSchedule:
    """``group`` (id, name): a billing group's own digest (``ledger.group_digest``)."""
    try:
        cadence = Cadence(cadence.lower())
    except ValueError:
        raise InvalidValue(Input.CADENCE, cadence) from None
    existing = list_schedules(session, workspace)
    if len(existing) >= MAX_SCHEDULES_PER_WORKSPACE:
        raise LimitReached(Thing.DIGEST, len(existing), MAX_SCHEDULES_PER_WORKSPACE)
    groups = digest_groups(session, (other.id for other in existing))
    group_id = group[0] if group is not None else None
    for other in existing:
        same = (other.channel_id, other.local_time, other.cadence) == (
            channel_id,
            local_time,
            cadence,
        )
        other_group = groups[other.id].group_id if other.id in groups else None
        if same and other_group == group_id:
            raise Duplicate(Thing.DIGEST, other.id)
    assert workspace.id is not None
    schedule = DigestSchedule(
        workspace_id=workspace.id,
        channel_id=channel_id,
        local_time=local_time.replace(second=0, microsecond=0),
        cadence=cadence,
        created_by=created_by,
        created_at=now,
        top_n=top_n,
        chart=chart,
    )
    session.add(schedule)
    session.flush()
    if group is not None:
        assert schedule.id is not None
        session.add(GroupDigest(schedule_id=schedule.id, group_id=group[0], group_name=group[1]))
        session.flush()
    return schedule


def digest_groups(session: Session, schedule_ids: Iterable[int | None]) -> dict[int, GroupDigest]:
    """The billing group of each group digest among ``schedule_ids``."""
    ids = [i for i in schedule_ids if i is not None]
    if not ids:
        return {}
    rows = session.exec(select(GroupDigest).where(col(GroupDigest.schedule_id).in_(ids)))
    return {row.schedule_id: row for row in rows}


def list_schedules(session: Session, workspace: Workspace) -> list[DigestSchedule]:
    query = (
        select(DigestSchedule)
        .where(DigestSchedule.workspace_id == workspace.id)
        .order_by(col(DigestSchedule.id))
    )
    return list(session.exec(query).all())


def get_schedule(session: Session, workspace: Workspace, schedule_id: int) -> DigestSchedule:
    schedule = session.get(DigestSchedule, schedule_id)
    if schedule is None or schedule.workspace_id != workspace.id:
        raise NotFound(Thing.DIGEST, schedule_id)
    return schedule


def remove_schedule(session: Session, workspace: Workspace, schedule_id: int) -> DigestSchedule:
    schedule = get_schedule(session, workspace, schedule_id)
    session.delete(schedule)
    return schedule


def all_enabled(session: Session) -> list[tuple[DigestSchedule, Workspace]]:
    query = (
        select(DigestSchedule, Workspace)
        .join(Workspace, col(Workspace.id) == col(DigestSchedule.workspace_id))
        .where(DigestSchedule.enabled == True, installed)  # noqa: E712 (SQL, not Python truth)
        .order_by(col(DigestSchedule.id))
    )
    return [(schedule, workspace) for schedule, workspace in session.exec(query).all()]


def mark_failing(session: Session, schedule_id: int, error: str) -> bool:
    """Mark a schedule failing; True the first time (so its creator is told once)."""
    schedule = session.get(DigestSchedule, schedule_id)
    if schedule is None:
        return False
    first = schedule.status != ScheduleStatus.FAILING
    schedule.status = ScheduleStatus.FAILING
    schedule.last_error = error
    return first


def mark_ok(session: Session, schedule_id: int) -> None:
    schedule = session.get(DigestSchedule, schedule_id)
    if schedule is not None and schedule.status != ScheduleStatus.OK:
        schedule.status = ScheduleStatus.OK
        schedule.last_error = None
