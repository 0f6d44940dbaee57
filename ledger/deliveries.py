"""Exactly-once delivery: a message is claimed before it is posted and completed after.

The claim is a row with a unique key (for a digest: schedule and local date). A
second claim of the same key finds it and stands down. A claim left behind by a
crash (older than the lease) is taken over, and the taker must first check
whether the message went out before the crash (``Claim.RECOVERED``).
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import Table, select, update
from sqlmodel import Session

from ledger.models import Delivery, DeliveryKind, DeliveryStatus
from ledger.statements import dialect_insert

DELIVERIES: Table = Delivery.__table__  # type: ignore[attr-defined]
DEFAULT_LEASE = timedelta(minutes=10)


class Claim(enum.StrEnum):
    NEW = "new"  # ours: post it
    RECOVERED = "recovered"  # ours after a crash: post only if it is not already out
    DONE = "done"  # sent or skipped before: nothing to do
    BUSY = "busy"  # another worker holds a fresh claim


@dataclass(frozen=True)
class Claimed:
    claim: Claim
    delivery_id: int
    #: For RECOVERED: when the crashed attempt was claimed (look for its message since).
    previous_claim_at: datetime | None = None


def claim(
    session: Session,
    *,
    workspace_id: int,
    key: str,
    kind: DeliveryKind,
    channel_id: str | None,
    now: datetime,
    lease: timedelta = DEFAULT_LEASE,
) -> Claimed:
    """Claim ``key``; commit right after so that other workers see the claim."""
    insert = dialect_insert(session)(DELIVERIES).values(
        workspace_id=workspace_id,
        dedupe_key=key,
        kind=kind,
        channel_id=channel_id,
        status=DeliveryStatus.CLAIMED,
        claimed_at=now,
        attempts=1,
    )
    inserted = session.execute(
        insert.on_conflict_do_nothing(index_elements=["dedupe_key"]).returning(DELIVERIES.c.id)
    ).scalar()
    if inserted is not None:
        return Claimed(Claim.NEW, int(inserted))
    row = session.execute(select(DELIVERIES).where(DELIVERIES.c.dedupe_key == key)).mappings().one()
    if row["status"] in (DeliveryStatus.SENT, DeliveryStatus.SKIPPED):
        return Claimed(Claim.DONE, row["id"])
    if row["status"] == DeliveryStatus.CLAIMED and row["claimed_at"] > now - lease:
        return Claimed(Claim.BUSY, row["id"])
    taken = session.execute(
        update(DELIVERIES)
        .where(DELIVERIES.c.id == row["id"], DELIVERIES.c.claimed_at == row["claimed_at"])
        .values(
            status=DeliveryStatus.CLAIMED,
            claimed_at=now,
            attempts=DELIVERIES.c.attempts + 1,
        )
        .returning(DELIVERIES.c.id)
    ).scalar()
    if taken is None:
        return Claimed(Claim.BUSY, row["id"])
    if row["status"] == DeliveryStatus.FAILED:
        return Claimed(Claim.NEW, row["id"])  # Slack refused it: nothing went out
    return Claimed(Claim.RECOVERED, row["id"], previous_claim_at=row["claimed_at"])


def complete(session: Session, delivery_id: int, *, now: datetime, message_ts: str | None) -> None:
    session.execute(
        update(DELIVERIES)
        .where(DELIVERIES.c.id == delivery_id)
        .values(status=DeliveryStatus.SENT, sent_at=now, message_ts=message_ts, error=None)
    )


def fail(session: Session, delivery_id: int, *, error: str) -> None:
    session.execute(
        update(DELIVERIES)
        .where(DELIVERIES.c.id == delivery_id)
        .values(status=DeliveryStatus.FAILED, error=error)
    )


def skip(
    session: Session,
    *,
    workspace_id: int,
    key: str,
    kind: DeliveryKind,
    now: datetime,
    reason: str,
) -> bool:
    """Record that ``key`` will not be sent (too late); False if it was claimed already."""
    insert = dialect_insert(session)(DELIVERIES).values(
        workspace_id=workspace_id,
        dedupe_key=key,
        kind=kind,
        status=DeliveryStatus.SKIPPED,
        claimed_at=now,
        attempts=0,
        error=reason,
    )
    done = session.execute(
        insert.on_conflict_do_nothing(index_elements=["dedupe_key"]).returning(DELIVERIES.c.id)
    ).scalar()
    return done is not None
