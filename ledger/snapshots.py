"""Snapshots a sync stores as they are now: members, the billing cycle's spend, daily activity.

Each is an upsert on its natural key, so re-running a sync rewrites the same rows.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Table
from sqlmodel import Session, select

from connectors.cursor.source import SpendSnapshot
from connectors.records import DailyActivity, MemberSnapshot
from ledger.models import DailyActivityRow, Member
from ledger.models import SpendSnapshot as SpendRow
from ledger.seat_changes import record_seat_changes
from ledger.statements import dialect_insert


def upsert_members(
    session: Session, connection_id: int, snapshot: list[MemberSnapshot], now: datetime
) -> None:
    """Members as listed now; people no longer listed are kept and marked removed."""
    known = {
        m.email: m
        for m in session.exec(select(Member).where(Member.connection_id == connection_id)).all()
    }
    record_seat_changes(session, connection_id, known, snapshot, now)
    listed = set()
    for person in snapshot:
        listed.add(person.email)
        member = known.get(person.email)
        if member is None:
            member = Member(connection_id=connection_id, email=person.email, first_seen_at=now)
            session.add(member)
        member.provider_user_id = person.provider_user_id or member.provider_user_id
        member.name = person.name or member.name
        member.role = person.role
        member.is_removed = person.is_removed
        member.last_seen_at = now
    for email, member in known.items():
        if email not in listed:
            member.is_removed = True


def _upsert(session: Session, table: Table, rows: list[dict[str, Any]], keys: list[str]) -> None:
    if not rows:
        return
    stmt = dialect_insert(session)(table)
    updated = {c.name: stmt.excluded[c.name] for c in table.columns if c.name not in (*keys, "id")}
    session.execute(stmt.on_conflict_do_update(index_elements=keys, set_=updated), rows)


def upsert_spend(
    session: Session, connection_id: int, snapshot: SpendSnapshot, now: datetime
) -> None:
    rows = [
        {
            "connection_id": connection_id,
            "cycle_start": snapshot.cycle_start,
            "taken_at": now,
            "email": m.email,
            "name": m.name,
            "overall_cents": m.overall_cents,
            "on_demand_cents": m.on_demand_cents,
            "included_cents": m.included_cents,
            "premium_requests": m.premium_requests,
            "limit_dollars": m.limit_dollars,
            "monthly_limit_dollars": m.monthly_limit_dollars,
            "limit_override_dollars": m.limit_override_dollars,
        }
        for m in snapshot.members
    ]
    table: Table = SpendRow.__table__  # type: ignore[attr-defined]
    _upsert(session, table, rows, ["connection_id", "cycle_start", "email"])


def upsert_activity(session: Session, connection_id: int, rows: list[DailyActivity]) -> None:
    table: Table = DailyActivityRow.__table__  # type: ignore[attr-defined]
    columns = [c.name for c in table.columns if c.name not in ("id", "connection_id")]
    values = [
        {"connection_id": connection_id, **{c: getattr(row, c) for c in columns}} for row in rows
    ]
    _upsert(session, table, values, ["connection_id", "day", "email"])
