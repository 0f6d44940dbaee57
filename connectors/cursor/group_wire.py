"""Tolerant models of the billing-group payloads (reference section 6.9).

``GET /teams/groups`` answers ``{groups, unassignedGroup, billingCycle}``; a group's detail
``{group, billingCycle}``. Instants come as ISO strings (epoch ms are accepted too); the
member lists may be absent from the list (then the detail has them).
"""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
from typing import Annotated, Any

from pydantic import BeforeValidator, Field

from connectors.cursor.windows import from_ms
from connectors.cursor.wire import Cents, Count, OptionalId, _Wire


def to_instant(value: Any) -> datetime:
    """An aware UTC datetime from an ISO 8601 string (``Z`` or an offset) or epoch ms."""
    if isinstance(value, datetime):
        moment = value
    elif isinstance(value, int | float) and not isinstance(value, bool):
        return from_ms(int(value))
    elif isinstance(value, str) and value.strip():
        text = value.strip()
        if text.isdigit():
            return from_ms(int(text))
        try:
            moment = datetime.fromisoformat(text.replace("Z", "+00:00").replace("z", "+00:00"))
        except ValueError:
            raise ValueError(f"not an ISO 8601 instant: {text[:40]!r}") from None
    else:
        raise ValueError("an instant is missing")
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


def to_optional_instant(value: Any) -> datetime | None:
    return None if value is None or value == "" else to_instant(value)


Instant = Annotated[datetime, BeforeValidator(to_instant)]
OptionalInstant = Annotated[datetime | None, BeforeValidator(to_optional_instant)]


class GroupMember(_Wire):
    userId: OptionalId = None
    name: str = ""
    email: str = ""
    joinedAt: Instant
    leftAt: OptionalInstant = None
    spendCents: Cents = Decimal(0)


class Group(_Wire):
    id: str
    name: str = ""
    type: str = "BILLING"
    memberCount: Count = 0
    spendCents: Cents = Decimal(0)
    currentMembers: list[GroupMember] | None = None
    formerMembers: list[GroupMember] | None = None

    @property
    def has_members(self) -> bool:
        return self.currentMembers is not None or self.formerMembers is not None

    def members(self) -> list[GroupMember]:
        return [*(self.currentMembers or []), *(self.formerMembers or [])]


class BillingCycle(_Wire):
    cycleStart: Instant
    cycleEnd: Instant


class GroupsResponse(_Wire):
    groups: list[Group] = Field(default_factory=list)
    unassignedGroup: Group | None = None
    billingCycle: BillingCycle


class GroupResponse(_Wire):
    group: Group
    billingCycle: BillingCycle
