"""A simulated team whose members join, leave and go idle, synced on the days they do,
and the ground truth a seats or adoption report must equal (from the simulator itself)."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any

import httpx
from sqlalchemy import Engine

from connectors.cursor.sim_team import DAY_MS, DEMO_API_KEY
from ledger.activity_reads import ACTIVE_COUNTERS
from tests.ledger.support import Clock, Team, make_team

#: The last sync; the simulated history runs 60 days before it.
END = datetime(2026, 11, 25, 14, 30, tzinfo=UTC)
#: The first sync (the members baseline): before anyone joins, leaves or goes idle.
START = datetime(2026, 10, 5, 14, 30, tzinfo=UTC)

_WIRE = {
    "accepts": "totalAccepts",
    "tabs_accepted": "totalTabsAccepted",
    "accepted_lines_added": "acceptedLinesAdded",
    "composer_requests": "composerRequests",
    "chat_requests": "chatRequests",
    "agent_requests": "agentRequests",
    "cmdk_usages": "cmdkUsages",
    "included_requests": "subscriptionIncludedReqs",
    "usage_based_requests": "usageBasedReqs",
    "api_key_requests": "apiKeyReqs",
}


def changing_team(engine: Engine, **config: Any) -> Team:
    """16 people (2 join, 2 leave, 2 go idle during the history), billing cycles on the 15th,
    synced at START, on each day someone joins or leaves, and at END."""
    settings: dict[str, Any] = {
        "users": 16,
        "days": 60,
        "seed": 11,
        "removed_fraction": 0.125,
        "joined_fraction": 0.125,
        "idle_fraction": 0.125,
        "cycle_anchor_day": 15,
        **config,
    }
    clock = Clock(END)
    team = make_team(engine, clock=clock, **settings)
    changes = {
        ms
        for m in team.sim.team.members
        for ms in (m.joined_at_ms, m.removed_at_ms)
        if ms is not None
    }
    days = sorted({START.date(), END.date(), *(_utc_day(ms) for ms in changes)})
    for day in days:
        clock.now = datetime.combine(day, END.timetz())
        outcome = team.sync()
        assert outcome.status == "ok", outcome
    return team


def _utc_day(ms: int) -> date:
    return datetime.fromtimestamp(ms / 1000, tz=UTC).date()


def daily_rows(team: Team, first: date, last: date) -> list[dict[str, Any]]:
    """The simulator's daily usage data (active rows) for UTC days first..last."""
    rows: list[dict[str, Any]] = []
    with httpx.Client(
        transport=team.sim.transport(), base_url="http://cursor.test", auth=(DEMO_API_KEY, "")
    ) as client:
        day = first
        while day <= last:
            chunk_end = min(last, day + timedelta(days=29))
            start_ms = int(datetime.combine(day, datetime.min.time(), UTC).timestamp() * 1000)
            end_ms = int(datetime.combine(chunk_end, datetime.min.time(), UTC).timestamp() * 1000)
            body = {"startDate": start_ms, "endDate": end_ms + DAY_MS - 1}
            response = client.post("/teams/daily-usage-data", json=body)
            response.raise_for_status()
            rows.extend(response.json()["data"])
            day = chunk_end + timedelta(days=1)
    return rows


def is_active(row: dict[str, Any]) -> bool:
    return any(row[_WIRE[name]] > 0 for name in ACTIVE_COUNTERS)


@dataclass
class Truth:
    """Per email, from the simulator: active days, last active day, sums of fields."""

    active_days: dict[str, set[date]]
    sums: dict[str, dict[str, int]]


def truth(team: Team, first: date, last: date) -> Truth:
    active: dict[str, set[date]] = defaultdict(set)
    sums: dict[str, dict[str, int]] = defaultdict(lambda: defaultdict(int))
    for row in daily_rows(team, first, last):
        email = row["email"].lower()
        if is_active(row):
            active[email].add(date.fromisoformat(row["day"]))
        for field in ("acceptedLinesAdded", "totalLinesAdded", "composerRequests",
                      "chatRequests", "agentRequests", "cmdkUsages"):  # fmt: skip
            sums[email][field] += row[field]
    return Truth(active, sums)


def seat_days(team: Team) -> dict[str, tuple[date | None, date | None]]:
    """Paid seats from the simulator: (joined day or None, removed day or None) by email."""
    held = {}
    for member in team.sim.team.members:
        if member.role == "free-owner":
            continue
        joined = _utc_day(member.joined_at_ms) if member.joined_at_ms else None
        removed = _utc_day(member.removed_at_ms) if member.removed_at_ms else None
        held[member.email] = (joined, removed)
    return held


def spread_cost(
    held: dict[str, tuple[date | None, date | None]],
    first: date,
    last: date,
    price_cents: int,
    cycle_starts: list[date],
) -> Decimal:
    """Σ over seat-days of price / length of the billing cycle the day is in."""
    total = Decimal(0)
    day = first
    while day <= last:
        start = max(s for s in cycle_starts if s <= day)
        following = min(s for s in cycle_starts if s > day)
        seats = sum(
            1
            for joined, removed in held.values()
            if (joined is None or joined <= day) and (removed is None or removed >= day)
        )
        total += Decimal(price_cents * seats) / Decimal((following - start).days)
        day += timedelta(days=1)
    return total
