"""``POST /teams/daily-usage-data`` for the simulator (reference section 6.3).

Two modes. Without ``page``/``pageSize``: one row per *active* user-day. With either: every
member who belonged to the team at some point in the range, one row per day including idle
days (zero counters, ``null`` strings, ``isActive: false``), paged by user so that all of a
user's days sit on one page. A day is included when it overlaps [startDate, endDate]; its
counters cover the whole UTC day, limited to retained and visible events. The request-kind
counters are event counts (``subscriptionIncludedReqs``, ``usageBasedReqs``, ``apiKeyReqs``;
errored events count in none); the activity counters derive from them per member.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

from connectors.cursor.endpoints import DAILY_USAGE_PAGE_SIZE
from connectors.cursor.sim_routes import (
    BadRequest,
    Payload,
    Window,
    check_span,
    epoch_field,
    positive_int,
)
from connectors.cursor.sim_team import (
    DAY_MS,
    KIND_INCLUDED,
    KIND_USAGE_BASED,
    KIND_USER_API_KEY,
    Member,
    Team,
    from_ms,
)


@dataclass(slots=True)
class _DayCounts:
    total: int = 0
    included: int = 0
    usage_based: int = 0
    api_key: int = 0
    errored: int = 0
    models: dict[str, int] = field(default_factory=dict)


def daily_payload(team: Team, body: Payload, window: Window) -> Payload:
    start, end = epoch_field(body, "startDate"), epoch_field(body, "endDate")
    if start is None or end is None:
        raise BadRequest("startDate and endDate are required")
    check_span(start, end, team.config.max_range_days, capped=True)
    days = _visible_days(start, end, window)
    payload: Payload = {"data": [], "period": {"startDate": start, "endDate": end}}
    if body.get("page") is None and body.get("pageSize") is None:
        payload["data"] = [
            row
            for day in days
            for member in team.members
            if (row := _daily_row(team, member, day, window, active_only=True)) is not None
        ]
    else:
        page = positive_int(body, "page", 1)
        size = positive_int(body, "pageSize", DAILY_USAGE_PAGE_SIZE)
        _fill_page(payload, team, window, days, start, page, size)
    return payload


def _fill_page(
    payload: Payload, team: Team, window: Window, days: list[int], start: int, page: int, size: int
) -> None:
    """Paginated mode: all of a page's users, each with a row for every day."""
    last = days[-1] + DAY_MS if days else 0  # members who joined after the period are left out
    users = [
        m
        for m in team.members
        if (m.removed_at_ms is None or m.removed_at_ms > start) and (m.joined_at_ms or 0) < last
    ]
    users = users if days else []
    payload["data"] = [
        _daily_row(team, member, day, window, active_only=False)
        for member in users[(page - 1) * size : page * size]
        for day in days
    ]
    total_pages = math.ceil(len(users) / size)
    payload["pagination"] = {
        "page": page,
        "pageSize": size,
        "totalUsers": len(users),
        "totalPages": total_pages,
        "hasNextPage": page < total_pages,
        "hasPreviousPage": page > 1,
    }


def _visible_days(start: int, end: int, window: Window) -> list[int]:
    """UTC day starts overlapping [start, end] that hold visible, retained data."""
    first = max(start, window.floor_ms) // DAY_MS * DAY_MS
    last = min(end, window.visible_end_ms - 1) // DAY_MS * DAY_MS
    return list(range(first, last + 1, DAY_MS))


def _day_counts(team: Team, member: Member, day: int, window: Window) -> _DayCounts:
    lo, hi = max(day, window.floor_ms), min(day + DAY_MS, window.visible_end_ms)
    counts = _DayCounts()
    for event in team.store.span(lo, hi, member.index) if lo < hi else ():
        counts.total += 1
        if event.kind == KIND_INCLUDED:
            counts.included += 1
        elif event.kind == KIND_USAGE_BASED:
            counts.usage_based += 1
        elif event.kind == KIND_USER_API_KEY:
            counts.api_key += 1
        else:
            counts.errored += 1
        counts.models[event.model] = counts.models.get(event.model, 0) + 1
    return counts


def _daily_row(
    team: Team, member: Member, day: int, window: Window, *, active_only: bool
) -> Payload | None:
    counts = _day_counts(team, member, day, window)
    if active_only and counts.total == 0:
        return None
    n = counts.total - counts.errored
    agent, chat = n * 6 // 10, n * 25 // 100
    applies = agent * 7 // 10
    accepts = int(applies * member.accept_rate)
    added, accepted_added = applies * member.lines_per_apply, accepts * member.lines_per_apply
    tabs = n * member.tab_factor
    active = counts.total > 0
    return {
        "userId": member.numeric_id,
        "day": from_ms(day).strftime("%Y-%m-%d"),
        "date": day,
        "email": member.email,
        "isActive": active,
        "totalLinesAdded": added,
        "totalLinesDeleted": added * 3 // 10,
        "acceptedLinesAdded": accepted_added,
        "acceptedLinesDeleted": accepted_added * 3 // 10,
        "totalApplies": applies,
        "totalAccepts": accepts,
        "totalRejects": applies - accepts,
        "totalTabsShown": tabs,
        "totalTabsAccepted": int(tabs * member.accept_rate * 0.6),
        "composerRequests": n - agent - chat,
        "chatRequests": chat,
        "agentRequests": agent,
        "cmdkUsages": n * (member.tab_factor % 4) // 10,
        "subscriptionIncludedReqs": counts.included,
        "apiKeyReqs": counts.api_key,
        "usageBasedReqs": counts.usage_based,
        "bugbotUsages": n // 25 if member.bugbot else 0,
        "mostUsedModel": _most_used(counts.models) if active else None,
        "applyMostUsedExtension": member.ext_apply if active else None,
        "tabMostUsedExtension": member.ext_tab if active else None,
        "clientVersion": member.client_version if active else None,
    }


def _most_used(models: dict[str, int]) -> str | None:
    if not models:
        return None
    return min(models.items(), key=lambda item: (-item[1], item[0]))[0]
