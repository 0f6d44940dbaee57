"""Billing groups of one billing cycle, read from Cursor (reference section 6.9).

One ``GET /teams/groups?billingCycle=…`` per cycle; a group's detail only when the list
leaves its members out while counting some (the list normally carries them). Every call
goes through the client, so it is paced under the route's 20-a-minute limit and retried
like every other call. A 403 (the team is not on Enterprise) surfaces as ``PlanError``.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from connectors.cursor import group_wire
from connectors.cursor.client import CursorAdminClient
from connectors.group_records import UNASSIGNED_ID, CycleGroup, CycleGroups, GroupStay

#: Longest group name kept (longer ones are cut; Cursor sets no documented limit).
MAX_NAME = 200


def read_cycle_groups(client: CursorAdminClient, day: date) -> CycleGroups:
    """The groups, their stays and Cursor's totals for the billing cycle containing ``day``."""
    cycle = day.isoformat()
    response = client.get_groups(billing_cycle=cycle)
    groups, requests = [], 1
    for group in response.groups:
        if group.id == UNASSIGNED_ID or not group.id.strip():
            continue
        if not group.has_members and group.memberCount > 0:
            group = client.get_group(group.id, billing_cycle=cycle).group
            requests += 1
        groups.append(_group(group))
    unassigned = response.unassignedGroup
    return CycleGroups(
        cycle_start=response.billingCycle.cycleStart,
        cycle_end=response.billingCycle.cycleEnd,
        groups=tuple(groups),
        unassigned_cents=unassigned.spendCents if unassigned is not None else Decimal(0),
        requests=requests,
    )


def _group(group: group_wire.Group) -> CycleGroup:
    stays = tuple(
        GroupStay(
            email=member.email.strip().lower(),
            provider_user_id=member.userId,
            joined_at=member.joinedAt,
            left_at=member.leftAt,
        )
        for member in group.members()
        if member.email.strip() or member.userId
    )
    name = " ".join(group.name.split())[:MAX_NAME] or group.id
    return CycleGroup(group.id.strip(), name, group.spendCents, stays)
