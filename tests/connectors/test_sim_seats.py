"""The simulator's members over time: joining, leaving and going idle, as the members
endpoint and the daily usage data serve them."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import httpx

from connectors.cursor.sim_team import DAY_MS, DEMO_API_KEY, SimulatorConfig
from connectors.cursor.simulator import CursorSimulator

END = datetime(2026, 11, 25, 14, 30, tzinfo=UTC)


class _Clock:
    def __init__(self) -> None:
        self.now = END

    def __call__(self) -> datetime:
        return self.now


def _sim(**config: Any) -> tuple[CursorSimulator, _Clock]:
    clock = _Clock()
    settings: dict[str, Any] = {"users": 20, "days": 60, "seed": 4, "rate_limiting": False}
    settings.update(config)
    return CursorSimulator(SimulatorConfig(**settings), clock=clock), clock


def _call(sim: CursorSimulator, method: str, path: str, body: Any = None) -> Any:
    with httpx.Client(
        transport=sim.transport(), base_url="http://cursor.test", auth=(DEMO_API_KEY, "")
    ) as client:
        response = client.request(method, path, json=body)
        response.raise_for_status()
        return response.json()


def _ms(value: int | None) -> int:
    assert value is not None
    return value


def _members(sim: CursorSimulator) -> dict[str, bool]:
    listed = _call(sim, "GET", "/teams/members")["teamMembers"]
    return {m["email"]: m["isRemoved"] for m in listed}


def test_without_fractions_nobody_joins_or_goes_idle() -> None:
    sim, _ = _sim()
    assert all(m.joined_at_ms is None and m.idle_from_ms is None for m in sim.team.members)


def test_members_are_listed_from_when_they_join_and_removed_from_when_they_leave() -> None:
    sim, clock = _sim(joined_fraction=0.1, removed_fraction=0.1)
    joiner = next(m for m in sim.team.members if m.joined_at_ms is not None)
    leaver = next(m for m in sim.team.members if m.removed_at_ms is not None)
    assert joiner.email in _members(sim)
    assert _members(sim)[leaver.email] is True
    clock.now = datetime.fromtimestamp(_ms(joiner.joined_at_ms) / 1000 - 60, tz=UTC)
    assert joiner.email not in _members(sim)
    clock.now = datetime.fromtimestamp(_ms(leaver.removed_at_ms) / 1000 - 60, tz=UTC)
    assert _members(sim)[leaver.email] is False


def test_joined_and_idle_members_use_cursor_only_while_they_should() -> None:
    sim, _ = _sim(joined_fraction=0.1, idle_fraction=0.1)
    joiners = [m for m in sim.team.members if m.joined_at_ms is not None]
    idle = [m for m in sim.team.members if m.idle_from_ms is not None]
    assert len(joiners) == 2 and len(idle) == 2
    for member in joiners:
        events = sim.team.store.sequence(member.index)
        assert events and min(e.ts for e in events) >= _ms(member.joined_at_ms) // DAY_MS * DAY_MS
    for member in idle:
        assert all(e.ts < _ms(member.idle_from_ms) for e in sim.team.store.sequence(member.index))
        assert not member.is_removed


def test_paginated_daily_usage_leaves_out_members_who_joined_after_the_range() -> None:
    sim, _ = _sim(joined_fraction=0.1)
    joiner = min(
        (m for m in sim.team.members if m.joined_at_ms is not None),
        key=lambda m: _ms(m.joined_at_ms),
    )
    day = _ms(joiner.joined_at_ms) // DAY_MS * DAY_MS
    before = {"startDate": day - 3 * DAY_MS, "endDate": day - 1, "page": 1, "pageSize": 100}
    emails = {row["email"] for row in _call(sim, "POST", "/teams/daily-usage-data", before)["data"]}
    assert joiner.email not in emails and emails
    during = {**before, "endDate": day + DAY_MS - 1}
    emails = {row["email"] for row in _call(sim, "POST", "/teams/daily-usage-data", during)["data"]}
    assert joiner.email in emails


def test_the_spend_endpoint_lists_a_member_only_once_they_joined() -> None:
    sim, clock = _sim(joined_fraction=0.1)
    joiner = next(m for m in sim.team.members if m.joined_at_ms is not None)
    spend = _call(sim, "POST", "/teams/spend", {"pageSize": 100})["teamMemberSpend"]
    assert joiner.email in {row["email"] for row in spend}
    clock.now = datetime.fromtimestamp(_ms(joiner.joined_at_ms) / 1000 - 60, tz=UTC)
    spend = _call(sim, "POST", "/teams/spend", {"pageSize": 100})["teamMemberSpend"]
    assert joiner.email not in {row["email"] for row in spend}
