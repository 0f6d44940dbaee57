"""When members joined or left the team, noticed by comparing members snapshots.

Cursor's members endpoint says who is on the team now, never since when. Each sync
compares the new snapshot with the members already known: a person listed (and not
removed) who was unknown or removed joined; a person known and seated who is now
removed or no longer listed left. The first snapshot of a connection is the baseline:
the people in it were already there, so nothing is recorded for them.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import datetime

from sqlmodel import Session

from connectors.records import MemberSnapshot
from ledger.models import Member
from ledger.seat_models import SeatChange, SeatChangeKind


def seat_changes(
    known: Mapping[str, Member], snapshot: Iterable[MemberSnapshot]
) -> list[tuple[str, SeatChangeKind]]:
    """(email, change) for each person whose membership differs from ``known``."""
    if not known:
        return []
    changes: dict[str, SeatChangeKind] = {}
    listed: set[str] = set()
    for person in snapshot:
        if person.email in listed:
            continue  # listed twice: the first listing counts
        listed.add(person.email)
        before = known.get(person.email)
        was_on = before is not None and not before.is_removed
        if person.is_removed and was_on:
            changes[person.email] = SeatChangeKind.LEFT
        elif not person.is_removed and not was_on:
            changes[person.email] = SeatChangeKind.JOINED
    for email, member in known.items():
        if email not in listed and not member.is_removed:
            changes[email] = SeatChangeKind.LEFT
    return list(changes.items())


def record_seat_changes(
    session: Session,
    connection_id: int,
    known: Mapping[str, Member],
    snapshot: Iterable[MemberSnapshot],
    now: datetime,
) -> None:
    """Add a ``seat_change`` row per change (call before ``known`` is updated)."""
    for email, kind in seat_changes(known, snapshot):
        session.add(SeatChange(connection_id=connection_id, email=email, kind=kind, at=now))
