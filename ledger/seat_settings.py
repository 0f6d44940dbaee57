"""A workspace's seat price: what one Cursor seat costs it a month, in whole cents."""

from __future__ import annotations

from datetime import datetime

from sqlmodel import Session

from ledger.models import Workspace
from ledger.seat_models import SeatSetting

#: The highest seat price accepted ($100,000 a month): anything above is a typo.
MAX_SEAT_PRICE_CENTS = 10_000_000


def seat_price(session: Session, workspace: Workspace) -> int | None:
    """The seat price in cents a month, or None when nobody set it."""
    setting = session.get(SeatSetting, workspace.id)
    return setting.seat_price_cents if setting is not None else None


def set_seat_price(
    session: Session, workspace: Workspace, cents: int | None, *, by: str, now: datetime
) -> None:
    """Set (or with None, clear) the seat price; the commit is the caller's."""
    if cents is not None and not 0 <= cents <= MAX_SEAT_PRICE_CENTS:
        raise ValueError("seat price out of range")
    assert workspace.id is not None
    setting = session.get(SeatSetting, workspace.id)
    if setting is None:
        setting = SeatSetting(workspace_id=workspace.id, updated_at=now)
        session.add(setting)
    setting.seat_price_cents = cents
    setting.updated_by = by[:32]
    setting.updated_at = now
