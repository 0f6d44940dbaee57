"""Billing groups of the simulated team (reference section 6.9): groups, memberships, moves.

Pure data, no HTTP (the routes are in :mod:`sim_group_routes`). A member is in at most one
group at any instant; a membership runs from ``joined_ms`` to ``left_ms`` (None: still in
it). Members in no group are in the reserved ``Unassigned`` group. Deleting a group moves
its usage to ``Unassigned`` retroactively, for every cycle: the deleted group and its
memberships are simply no longer served.

Groups are drawn from their own ``random.Random``, so a team with groups has exactly the
members and events of the same team without them.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field

UNASSIGNED_ID = "group_unassigned"
UNASSIGNED_NAME = "Unassigned"
GROUP_NAMES = (
    "Platform", "Payments", "Mobile", "Data", "Infra", "Growth", "Search", "Security",
    "Identity", "Checkout", "Frontend", "Billing", "Support Tools", "ML", "Design Systems",
)  # fmt: skip
_ALNUM = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"


class GroupConflict(Exception):
    """A write the API refuses with a 400 (the sentence is the message)."""


class GroupNotFound(Exception):
    """No such (live) group: a 404."""


@dataclass(slots=True)
class SimGroup:
    id: str
    name: str
    created_ms: int
    updated_ms: int
    deleted: bool = False
    directory_group_id: str | None = None


@dataclass(slots=True)
class SimMembership:
    group_id: str
    member: int
    joined_ms: int
    left_ms: int | None = None

    def overlaps(self, lo_ms: int, hi_ms: int) -> bool:
        return self.joined_ms < hi_ms and (self.left_ms is None or self.left_ms > lo_ms)


@dataclass
class GroupBook:
    """Every group and membership the team ever had (deleted ones are kept, flagged)."""

    groups: list[SimGroup] = field(default_factory=list)
    memberships: list[SimMembership] = field(default_factory=list)
    rng: random.Random = field(default_factory=lambda: random.Random(0))
    #: When the team (and its Unassigned group) begins: before any usage.
    since_ms: int = 0

    def live(self) -> list[SimGroup]:
        return [g for g in self.groups if not g.deleted]

    def get(self, group_id: str) -> SimGroup:
        for group in self.groups:
            if group.id == group_id and not group.deleted:
                return group
        raise GroupNotFound(group_id)

    def by_name(self, name: str) -> SimGroup:
        for group in self.live():
            if group.name == name:
                return group
        raise GroupNotFound(name)

    def current_of(self, member: int) -> SimMembership | None:
        """The open membership of ``member`` in a live group, if any."""
        live = {g.id for g in self.live()}
        for membership in self.memberships:
            open_stay = membership.member == member and membership.left_ms is None
            if open_stay and membership.group_id in live:
                return membership
        return None

    def served(self, group_id: str) -> list[SimMembership]:
        return [m for m in self.memberships if m.group_id == group_id]

    def served_of_member(self, member: int) -> list[SimMembership]:
        live = {g.id for g in self.live()}
        return sorted(
            (m for m in self.memberships if m.member == member and m.group_id in live),
            key=lambda m: m.joined_ms,
        )

    # --- writes ---------------------------------------------------------------------

    def create(self, name: str, now_ms: int) -> SimGroup:
        clean = name.strip()
        if not clean:
            raise GroupConflict("name is required")
        if any(g.name == clean for g in self.live()):
            raise GroupConflict(f"A group named {clean} already exists")
        group_id = "group_" + "".join(self.rng.choices(_ALNUM, k=24))
        group = SimGroup(group_id, clean, now_ms, now_ms)
        self.groups.append(group)
        return group

    def rename(self, group_id: str, name: str, now_ms: int) -> SimGroup:
        group = self.get(group_id)
        clean = name.strip()
        if not clean:
            raise GroupConflict("name must not be empty")
        group.name, group.updated_ms = clean, now_ms
        return group

    def delete(self, group_id: str, now_ms: int) -> None:
        group = self.get(group_id)
        group.deleted, group.updated_ms = True, now_ms

    def add(self, group_id: str, member: int, now_ms: int) -> None:
        group = self.get(group_id)
        current = self.current_of(member)
        if current is not None:
            if current.group_id == group_id:
                return
            raise GroupConflict("User is already in another group")
        self.memberships.append(SimMembership(group_id, member, now_ms))
        group.updated_ms = now_ms

    def remove(self, group_id: str, member: int, now_ms: int) -> None:
        group = self.get(group_id)
        current = self.current_of(member)
        if current is None or current.group_id != group_id:
            raise GroupConflict("User is not in this group")
        current.left_ms = now_ms
        group.updated_ms = now_ms

    def move(self, member: int, group_id: str | None, now_ms: int) -> None:
        """Leave the current group (if any) and join ``group_id`` (None: Unassigned)."""
        current = self.current_of(member)
        if current is not None:
            self.remove(current.group_id, member, now_ms)
        if group_id is not None:
            self.add(group_id, member, now_ms)


def build_groups(seed: int, count: int, share: float, members: int, since_ms: int) -> GroupBook:
    """``count`` groups created at ``since_ms``; about ``share`` of the members each in one,
    joined at ``since_ms`` (before any usage)."""
    rng = random.Random(f"groups-{seed}")
    book = GroupBook(rng=rng, since_ms=since_ms)
    for index in range(count):
        name = GROUP_NAMES[index] if index < len(GROUP_NAMES) else f"Team {index + 1}"
        book.create(name, since_ms)
    groups = book.live()
    if not groups:
        return book
    for member in range(members):
        if rng.random() < share:
            book.add(rng.choice(groups).id, member, since_ms)
    return book
