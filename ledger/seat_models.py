"""Tables for seats: a workspace's seat price, and when members joined or left the team.

The members snapshot says who is on the team *now*; ``seat_change`` keeps when that
changed, so that seat counts of past periods stay right after Cursor forgets a person.
"""

from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import BigInteger, Column, ForeignKey, Index, Integer, Table, UniqueConstraint
from sqlmodel import Field, SQLModel

from ledger.models import DailyActivityRow
from ledger.types import EnumString, UTCDateTime


class SeatChangeKind(enum.StrEnum):
    JOINED = "joined"
    LEFT = "left"


class SeatSetting(SQLModel, table=True):
    """What one Cursor seat costs a workspace a month (None: not set)."""

    __tablename__ = "seat_setting"

    workspace_id: int = Field(
        sa_column=Column(Integer, ForeignKey("workspace.id", ondelete="CASCADE"), primary_key=True)
    )
    seat_price_cents: int | None = Field(default=None, sa_type=BigInteger, nullable=True)
    updated_by: str = Field(default="", max_length=32)
    updated_at: datetime = Field(sa_type=UTCDateTime, nullable=False)


class SeatChange(SQLModel, table=True):
    """A member seen joining the team, or leaving it, at the sync that noticed."""

    __tablename__ = "seat_change"
    __table_args__ = (
        UniqueConstraint("connection_id", "email", "at", "kind"),
        Index("ix_seat_change_connection_at", "connection_id", "at"),
    )

    id: int | None = Field(default=None, primary_key=True)
    connection_id: int = Field(
        sa_column=Column(Integer, ForeignKey("connection.id", ondelete="CASCADE"), nullable=False)
    )
    email: str = Field(max_length=320)
    kind: SeatChangeKind = Field(sa_type=EnumString(SeatChangeKind, 8), nullable=False)
    at: datetime = Field(sa_type=UTCDateTime, nullable=False)


_ACTIVITY: Table = DailyActivityRow.__table__  # type: ignore[attr-defined]
#: A person's daily usage rows in day order: their last active day without a full scan.
Index(
    "ix_daily_activity_email_day",
    _ACTIVITY.c.connection_id,
    _ACTIVITY.c.email,
    _ACTIVITY.c.day,
)
