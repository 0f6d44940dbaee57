"""The billing-group routes of the simulator (reference section 6.9), as pure functions.

- ``GET /teams/groups?billingCycle=YYYY-MM-DD`` → ``{groups, unassignedGroup, billingCycle}``
- ``GET /teams/groups/:id?billingCycle=…`` → ``{group, billingCycle}``; each current member
  carries its own ``dailySpend`` there
- ``POST /teams/groups`` ``{name, type?}``, ``PATCH /teams/groups/:id`` (one of ``name``,
  ``directoryGroupId``), ``DELETE /teams/groups/:id`` (204), ``POST|DELETE
  /teams/groups/:id/members`` ``{userIds}``; writes answer with ``members[]``.

A group's ``spendCents`` for a cycle is the sum of ``chargedCents`` of its members' events
while they were in it (every kind: the same figure the ledger sums), a member's entry the
same for that member; ``dailySpend`` is per UTC day. ``Unassigned`` holds every stretch of
the cycle a member spent in no live group.
"""

from __future__ import annotations

import math
from collections import defaultdict
from datetime import UTC, datetime, timedelta
from typing import Any

from connectors.cursor.endpoints import GROUPS
from connectors.cursor.sim_groups import (
    UNASSIGNED_ID,
    UNASSIGNED_NAME,
    GroupBook,
    GroupConflict,
    SimGroup,
    SimMembership,
)
from connectors.cursor.sim_routes import BadRequest, Payload, Window, legacy_charge
from connectors.cursor.sim_team import DAY_MS, Team, cycle_start_at, from_ms, utc_ms

Result = tuple[int, Payload | None]


def iso(ms: int) -> str:
    return from_ms(ms).strftime("%Y-%m-%dT%H:%M:%S.") + f"{ms % 1000:03d}Z"


def cycle_of(team: Team, text: str | None, window: Window) -> tuple[int, int]:
    """[start, end) in epoch ms of the billing cycle containing the date ``text``."""
    anchor = team.config.cycle_anchor_day
    if text is None or text == "":
        start = cycle_start_at(from_ms(window.now_ms), anchor)
    else:
        try:
            day = datetime.strptime(text, "%Y-%m-%d").replace(tzinfo=UTC)
        except ValueError:
            raise BadRequest("billingCycle must be a date (YYYY-MM-DD)") from None
        start = cycle_start_at(day, anchor)
    end = cycle_start_at(start + timedelta(days=32), anchor)
    return utc_ms(start), utc_ms(end)


def _spend(team: Team, member: int, lo: int, hi: int, window: Window) -> list[tuple[int, float]]:
    hi = min(hi, window.visible_end_ms)
    if lo >= hi:
        return []
    legacy = team.config.legacy
    events = team.store.span(lo, hi, member)
    return [(e.ts, legacy_charge(e) if legacy else e.charged) for e in events]


def _daily(charges: list[tuple[int, float]]) -> list[Payload]:
    days: dict[int, list[float]] = defaultdict(list)
    for ts, charge in charges:
        days[ts // DAY_MS * DAY_MS].append(charge)
    return [
        {"date": from_ms(day).strftime("%Y-%m-%d"), "spendCents": math.fsum(values)}
        for day, values in sorted(days.items())
    ]


def _entry(team: Team, stay: SimMembership, cycle: tuple[int, int], window: Window) -> Payload:
    member = team.members[stay.member]
    lo = max(stay.joined_ms, cycle[0])
    hi = cycle[1] if stay.left_ms is None else min(stay.left_ms, cycle[1])
    charges = _spend(team, stay.member, lo, hi, window)
    return {
        "userId": member.user_id,
        "name": member.name,
        "email": member.email,
        "joinedAt": iso(stay.joined_ms),
        "leftAt": None if stay.left_ms is None else iso(stay.left_ms),
        "spendCents": math.fsum(c for _, c in charges),
        "_charges": charges,
    }


def _group(
    team: Team,
    head: dict[str, Any],
    stays: list[SimMembership],
    cycle: tuple[int, int],
    window: Window,
    *,
    detail: bool,
) -> Payload:
    entries = [(s, _entry(team, s, cycle, window)) for s in stays if s.overlaps(*cycle)]
    charges = [c for _, e in entries for c in e["_charges"]]
    current: list[Payload] = []
    former: list[Payload] = []
    for stay, entry in entries:
        still = stay.left_ms is None or stay.left_ms >= cycle[1]
        if detail and still:
            entry["dailySpend"] = _daily(entry["_charges"])
        del entry["_charges"]
        (current if still else former).append(entry)
    return {
        **head,
        "memberCount": len(current),
        "spendCents": math.fsum(c for _, c in charges),
        "currentMembers": current,
        "formerMembers": former,
        "dailySpend": _daily(charges),
    }


def _head(group: SimGroup) -> dict[str, Any]:
    return {
        "id": group.id,
        "name": group.name,
        "type": "BILLING",
        "directoryGroupId": group.directory_group_id,
        "createdAt": iso(group.created_ms),
        "updatedAt": iso(group.updated_ms),
    }


def _unassigned(team: Team, book: GroupBook, cycle: tuple[int, int]) -> list[SimMembership]:
    """Each stretch of the cycle a member spent in no live group, as a pseudo-membership."""
    stretches: list[SimMembership] = []
    for member in team.members:
        if member.removed_at_ms is not None and member.removed_at_ms <= cycle[0]:
            continue
        cursor: int | None = book.since_ms
        for stay in book.served_of_member(member.index):
            assert cursor is not None
            if stay.joined_ms > cursor:
                stretches.append(SimMembership(UNASSIGNED_ID, member.index, cursor, stay.joined_ms))
            cursor = stay.left_ms
            if cursor is None:
                break
        if cursor is not None:
            stretches.append(SimMembership(UNASSIGNED_ID, member.index, cursor))
    return [s for s in stretches if s.overlaps(*cycle) and s.joined_ms < (s.left_ms or 2**62)]


def _cycle_json(cycle: tuple[int, int]) -> Payload:
    return {"cycleStart": iso(cycle[0]), "cycleEnd": iso(cycle[1])}


def list_groups(team: Team, book: GroupBook, query: dict[str, str], window: Window) -> Payload:
    cycle = cycle_of(team, query.get("billingCycle"), window)
    unassigned_head = {**_head(SimGroup(UNASSIGNED_ID, UNASSIGNED_NAME, 0, 0))}
    unassigned_head["createdAt"] = unassigned_head["updatedAt"] = iso(cycle[0])
    groups = [
        _group(team, _head(g), book.served(g.id), cycle, window, detail=False) for g in book.live()
    ]
    if not team.config.group_list_members:
        for group in groups:
            del group["currentMembers"], group["formerMembers"]
    return {
        "groups": groups,
        "unassignedGroup": _group(
            team, unassigned_head, _unassigned(team, book, cycle), cycle, window, detail=False
        ),
        "billingCycle": _cycle_json(cycle),
    }


def group_detail(
    team: Team, book: GroupBook, group_id: str, query: dict[str, str], window: Window
) -> Payload:
    cycle = cycle_of(team, query.get("billingCycle"), window)
    if group_id == UNASSIGNED_ID:
        head = _head(SimGroup(UNASSIGNED_ID, UNASSIGNED_NAME, cycle[0], cycle[0]))
        stays = _unassigned(team, book, cycle)
    else:
        group = book.get(group_id)
        head, stays = _head(group), book.served(group.id)
    return {
        "group": _group(team, head, stays, cycle, window, detail=True),
        "billingCycle": _cycle_json(cycle),
    }


# --- writes -----------------------------------------------------------------------------


def _written(team: Team, book: GroupBook, group: SimGroup) -> Payload:
    members = []
    for stay in book.served(group.id):
        if stay.left_ms is None:
            member = team.members[stay.member]
            members.append(
                {
                    "userId": member.user_id,
                    "name": member.name,
                    "email": member.email,
                    "joinedAt": iso(stay.joined_ms),
                }
            )
    return {"group": {**_head(group), "memberCount": len(members), "members": members}}


def _user_ids(team: Team, body: Payload) -> list[int]:
    ids = body.get("userIds")
    if not isinstance(ids, list) or not ids or not all(isinstance(i, str | int) for i in ids):
        raise BadRequest("userIds must be a non-empty array of user ids")
    known = {m.user_id: m.index for m in team.members if not m.is_removed}
    known.update({str(m.numeric_id): m.index for m in team.members if not m.is_removed})
    missing = [str(i) for i in ids if str(i) not in known]
    if missing:
        raise BadRequest("Some users are not in the team")
    return [known[str(i)] for i in ids]


def write(
    team: Team, book: GroupBook, method: str, parts: list[str], body: Payload, now_ms: int
) -> Result:
    """A group write; ``parts`` is the path after ``/teams/groups`` split on ``/``."""
    try:
        if method == "POST" and not parts:
            name = body.get("name")
            kind = body.get("type", "BILLING")
            if not isinstance(name, str) or not name.strip():
                raise BadRequest("name is required")
            if kind != "BILLING":
                raise BadRequest("Only BILLING groups are supported")
            return 200, _written(team, book, book.create(name, now_ms))
        if method == "PATCH" and len(parts) == 1:
            return 200, _patch(team, book, parts[0], body, now_ms)
        if method == "DELETE" and len(parts) == 1:
            book.delete(parts[0], now_ms)
            return 204, None
        if len(parts) == 2 and parts[1] == "members" and method in ("POST", "DELETE"):
            book.get(parts[0])
            for member in _user_ids(team, body):
                if method == "POST":
                    book.add(parts[0], member, now_ms)
                else:
                    book.remove(parts[0], member, now_ms)
            return 200, _written(team, book, book.get(parts[0]))
    except GroupConflict as exc:
        raise BadRequest(str(exc)) from None
    return 404, None


def _patch(team: Team, book: GroupBook, group_id: str, body: Payload, now_ms: int) -> Payload:
    fields = [k for k in ("name", "directoryGroupId") if k in body]
    if len(fields) != 1:
        raise BadRequest("Provide exactly one of name or directoryGroupId")
    if fields[0] == "name":
        name = body["name"]
        if not isinstance(name, str):
            raise BadRequest("name must be a string")
        return _written(team, book, book.rename(group_id, name, now_ms))
    value = body["directoryGroupId"]
    if value is not None and not isinstance(value, str):
        raise BadRequest("directoryGroupId must be a string or null")
    group = book.get(group_id)
    group.directory_group_id, group.updated_ms = value, now_ms
    return _written(team, book, group)


def route(
    team: Team,
    book: GroupBook,
    method: str,
    path: str,
    query: dict[str, str],
    body: Payload,
    window: Window,
) -> Result:
    """Answer one request under ``/teams/groups``: (status, payload or None for no body)."""
    parts = [p for p in path[len(GROUPS) :].split("/") if p]
    if method == "GET" and not parts:
        return 200, list_groups(team, book, query, window)
    if method == "GET" and len(parts) == 1:
        return 200, group_detail(team, book, parts[0], query, window)
    return write(team, book, method, parts, body, window.now_ms)


def is_groups_path(path: str) -> bool:
    return path == GROUPS or path.startswith(GROUPS + "/")
