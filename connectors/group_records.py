"""Billing groups as a provider lists them for one billing cycle (provider-neutral).

A member is in at most one group at a time; a stay runs from ``joined_at`` to ``left_at``
(None: still there). Members in no group are in ``Unassigned``, whose stays are not listed
here: the ledger counts as Unassigned whatever no group's stay covers.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

UNASSIGNED_ID = "group_unassigned"
UNASSIGNED_NAME = "Unassigned"


@dataclass(frozen=True, slots=True)
class GroupStay:
    email: str
    provider_user_id: str | None
    joined_at: datetime
    left_at: datetime | None


@dataclass(frozen=True, slots=True)
class CycleGroup:
    group_id: str
    name: str
    #: The provider's own total for the group in the cycle (for reconciliation).
    spend_cents: Decimal
    stays: tuple[GroupStay, ...]


@dataclass(frozen=True, slots=True)
class CycleGroups:
    cycle_start: datetime
    cycle_end: datetime
    groups: tuple[CycleGroup, ...]
    unassigned_cents: Decimal
    #: Requests it took (the list, plus a detail per group the list left members out of).
    requests: int = 1
