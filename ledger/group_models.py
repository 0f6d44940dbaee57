"""The ledger's billing-group tables (Cursor Enterprise billing groups, reference 6.9).

Groups are kept per billing cycle, as Cursor lists them when that cycle is read: each
group's name then (so names follow renames cycle by cycle) and Cursor's own total for it;
each stay of a member in a group (``joined_at`` to ``left_at``, None: still there). A cycle
read again replaces what was kept for it (a deleted group's stays go, so its usage counts
as Unassigned, as Cursor moves it); cycles no longer read keep what was known. Whatever no
stay covers is Unassigned. ``group_sync_state`` says whether groups can be read at all and
why not. Budgets and digest schedules for one group point at it by id (``group_budget``,
``group_digest``), their other settings staying in ``budget`` and ``digest_schedule``.
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

from sqlalchemy import Column, ForeignKey, Index, Integer, Text, UniqueConstraint
from sqlmodel import Field, SQLModel

from ledger.models import _connection_fk, _money, utcnow
from ledger.types import UTCDateTime


class BillingGroupCycle(SQLModel, table=True):
    """One group (or ``group_unassigned``) in one billing cycle."""

    __tablename__ = "billing_group_cycle"
    __table_args__ = (UniqueConstraint("connection_id", "cycle_start", "group_id"),)

    id: int | None = Field(default=None, primary_key=True)
    connection_id: int = _connection_fk()
    cycle_start: datetime = Field(sa_type=UTCDateTime, nullable=False)
    cycle_end: datetime = Field(sa_type=UTCDateTime, nullable=False)
    group_id: str = Field(max_length=64)
    name: str = Field(default="", max_length=200)
    #: Cursor's own total for the group in the cycle, as last read.
    spend_cents: Decimal = _money()
    read_at: datetime = Field(sa_type=UTCDateTime, nullable=False)


class BillingGroupStay(SQLModel, table=True):
    """A member's stay in a group, as listed for one billing cycle."""

    __tablename__ = "billing_group_stay"
    __table_args__ = (
        UniqueConstraint("connection_id", "cycle_start", "group_id", "email", "joined_at"),
        Index("ix_billing_group_stay_cycle", "connection_id", "cycle_start"),
    )

    id: int | None = Field(default=None, primary_key=True)
    connection_id: int = _connection_fk()
    cycle_start: datetime = Field(sa_type=UTCDateTime, nullable=False)
    group_id: str = Field(max_length=64)
    email: str = Field(max_length=320)
    joined_at: datetime = Field(sa_type=UTCDateTime, nullable=False)
    left_at: datetime | None = Field(default=None, sa_type=UTCDateTime, nullable=True)


class GroupSyncState(SQLModel, table=True):
    """Whether the connection's groups could be read on the last try, and why not."""

    __tablename__ = "group_sync_state"

    connection_id: int = Field(
        sa_column=Column(Integer, ForeignKey("connection.id", ondelete="CASCADE"), primary_key=True)
    )
    available: bool = False
    reason: str | None = Field(default=None, sa_type=Text)
    checked_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime, nullable=False)
    synced_at: datetime | None = Field(default=None, sa_type=UTCDateTime, nullable=True)
    cycles_read: int = 0
    requests: int = 0


class GroupBudget(SQLModel, table=True):
    """A budget that covers one billing group's spend (the rest is in ``budget``)."""

    __tablename__ = "group_budget"

    budget_id: int = Field(
        sa_column=Column(Integer, ForeignKey("budget.id", ondelete="CASCADE"), primary_key=True)
    )
    group_id: str = Field(max_length=64)
    group_name: str = Field(max_length=200)


class GroupDigest(SQLModel, table=True):
    """A digest schedule that posts one billing group's own digest."""

    __tablename__ = "group_digest"

    schedule_id: int = Field(
        sa_column=Column(
            Integer, ForeignKey("digest_schedule.id", ondelete="CASCADE"), primary_key=True
        )
    )
    group_id: str = Field(max_length=64)
    group_name: str = Field(max_length=200)
