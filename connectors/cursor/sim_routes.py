"""Admin API routes of the simulator as pure functions: request body in, payload out.

Each handler takes the generated :class:`Team`, the parsed JSON body and a :class:`Window`
(what the clock allows to be seen right now) and returns the response payload, or raises
:class:`BadRequest`. No HTTP, auth or rate limiting here; see :mod:`simulator`. Daily usage
lives in :mod:`sim_daily`.

Rules reproduced (reference sections 5, 6 and 10):

- dates are epoch-ms numbers, inclusive at both ends; spans over ``max_range_days`` are a 400;
- data before the retention floor is silently absent; events at or after the visibility end
  (start of the current hour under hourly lag) are invisible to every route;
- usage events are served newest first; ties keep a fixed order (reverse generation order);
- ``/teams/spend`` sums the same floats the events carry (``math.fsum``, correctly rounded),
  so Σ Decimal(chargedCents) over a member's cycle events equals ``overallSpendCents`` up to
  float summation noise (well under 1e-6 cents). Spend is not subject to retention.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from connectors.cursor.endpoints import MAX_EVENTS_PAGE_SIZE, SPEND_PAGE_SIZE
from connectors.cursor.sim_team import (
    DAY_MS,
    KIND_USAGE_BASED,
    OMIT_CACHE_READ,
    OMIT_CACHE_WRITE,
    TEAM_DEFAULT_LIMIT_DOLLARS,
    Member,
    SimEvent,
    SimulatorConfig,
    Team,
    charge_of,
)

SERVICE_ACCOUNT_ID = "sa_nightly01"
SERVICE_ACCOUNT_NAME = "Nightly CI Agent"
HOSTING_TYPES = frozenset({"CLOUD", "SELF_HOSTED", "SELF_HOSTED_POOL", "SELF_HOSTED_MACHINE"})
DEFAULT_EVENTS_WINDOW_MS = 7 * DAY_MS
_NO_MATCH = -1

Payload = dict[str, Any]


class BadRequest(Exception):
    """A 400 with the generic ``{"error": "Bad Request", "message": ...}`` body."""


@dataclass(frozen=True, slots=True)
class Window:
    """What the clock lets a request see: ``floor_ms <= ts < visible_end_ms``."""

    now_ms: int
    floor_ms: int
    visible_end_ms: int
    cycle_start_ms: int


# --- wire rendering -------------------------------------------------------------------


def render_event(event: SimEvent, member: Member, config: SimulatorConfig) -> Payload:
    """One usage event in Admin API wire form (optional fields omitted, never null)."""
    out: Payload = {"timestamp": str(event.ts)}
    if not (member.is_removed and config.drop_removed_emails):
        out["userEmail"] = member.email
    if event.conversation is not None:
        out["conversationId"] = event.conversation
    if event.service_account:
        out["serviceAccountId"] = SERVICE_ACCOUNT_ID
        out["serviceAccountName"] = SERVICE_ACCOUNT_NAME
    if event.cloud_agent is not None:
        out["cloudAgentId"] = event.cloud_agent
    out["model"] = event.model
    out["kind"] = event.kind
    out["maxMode"] = event.max_mode
    out["requestsCosts"] = event.requests_costs
    out["isTokenBasedCall"] = event.token_based
    out["isChargeable"] = event.kind == KIND_USAGE_BASED
    out["isHeadless"] = event.headless
    if event.token_based:
        out["tokenUsage"] = _token_usage(event)
    if config.legacy:
        out["cursorTokenFee"] = event.fee if event.fee is not None else 0
        out["isFreeBugbot"] = False
    else:
        out["chargedCents"] = event.charged
        if event.fee is not None:
            out["cursorTokenFee"] = event.fee
    return out


def _token_usage(event: SimEvent) -> Payload:
    usage: Payload = {"inputTokens": event.input_tokens, "outputTokens": event.output_tokens}
    if not event.omitted & OMIT_CACHE_WRITE:
        usage["cacheWriteTokens"] = event.cache_write
    if not event.omitted & OMIT_CACHE_READ:
        usage["cacheReadTokens"] = event.cache_read
    usage["totalCents"] = event.total_cents
    if event.discount is not None:
        usage["discountPercentOff"] = event.discount
    return usage


def legacy_charge(event: SimEvent) -> float:
    """What a legacy payload lets a client compute: discounted totalCents + fee (0 if none)."""
    return charge_of(event.total_cents, event.discount, event.fee) if event.token_based else 0.0


# --- GET /teams/members ---------------------------------------------------------------


def members_payload(team: Team, now_ms: int | None = None) -> Payload:
    """The team as listed at ``now_ms`` (None: as built): not yet joined members are left
    out, and members removed later are not removed yet."""
    config = team.config
    rows: list[Payload] = []
    for member in team.members:
        if now_ms is not None and (member.joined_at_ms or 0) > now_ms:
            continue
        removed = member.is_removed and (
            now_ms is None or member.removed_at_ms is None or member.removed_at_ms <= now_ms
        )
        if removed and (config.omit_removed_members or config.legacy):
            continue
        row: Payload = {}
        if not config.legacy:
            row["id"] = _member_id(member, config)
        row.update(name=member.name, email=member.email, role=member.role)
        if not config.legacy:
            row["isRemoved"] = removed
        rows.append(row)
    return {"teamMembers": rows}


def _member_id(member: Member, config: SimulatorConfig) -> int | str:
    return member.numeric_id if config.numeric_member_ids else member.user_id


# --- POST /teams/filtered-usage-events ------------------------------------------------


def events_payload(team: Team, body: Payload, window: Window) -> Payload:
    config = team.config
    start, end = _event_dates(body, window, config)
    page = positive_int(body, "page", 1)
    size = _events_page_size(body, config)
    member = _member_filter(team, body)
    extra = _extra_filter(body)
    lo, hi = max(start, window.floor_ms), min(end + 1, window.visible_end_ms)
    seq: Sequence[SimEvent] = []
    first = last = 0
    if member != _NO_MATCH and lo < hi:
        seq = team.store.sequence(member)
        first, last = team.store.bounds(lo, hi, member)
        if extra is not None:
            seq = [e for e in seq[first:last] if extra(e)]
            first, last = 0, len(seq)
    total = last - first
    top = last - (page - 1) * size
    chunk = seq[max(first, top - size) : top] if top > first else []
    num_pages = math.ceil(total / size)
    return {
        "totalUsageEventsCount": total,
        "pagination": {
            "numPages": num_pages,
            "currentPage": page,
            "pageSize": size,
            "hasNextPage": page < num_pages,
            "hasPreviousPage": page > 1,
        },
        "usageEvents": [render_event(e, team.members[e.member], config) for e in reversed(chunk)],
        "period": {"startDate": start, "endDate": end},
    }


def _event_dates(body: Payload, window: Window, config: SimulatorConfig) -> tuple[int, int]:
    start, end = epoch_field(body, "startDate"), epoch_field(body, "endDate")
    end = window.now_ms if end is None else end
    start = end - DEFAULT_EVENTS_WINDOW_MS if start is None else start
    check_span(start, end, config.max_range_days, capped=config.cap_event_range)
    return start, end


def _events_page_size(body: Payload, config: SimulatorConfig) -> int:
    size = positive_int(body, "pageSize", 10 if config.legacy else 100)
    if size > MAX_EVENTS_PAGE_SIZE:
        if not config.clamp_page_size:
            raise BadRequest(f"pageSize cannot exceed {MAX_EVENTS_PAGE_SIZE}")
        size = MAX_EVENTS_PAGE_SIZE
    return size


def _member_filter(team: Team, body: Payload) -> int | None:
    """Index of the member selected by ``email``/``userId`` (AND), None for all."""
    email, user_id = body.get("email"), body.get("userId")
    if email is not None and not isinstance(email, str):
        raise BadRequest("email must be a string")
    if user_id is not None and (isinstance(user_id, bool) or not isinstance(user_id, int | str)):
        raise BadRequest("userId must be a number")
    if email is None and user_id is None:
        return None
    found = {
        m.index
        for m in team.members
        if (email is None or m.email.lower() == email.lower())
        and (user_id is None or user_id in (m.numeric_id, m.user_id, str(m.numeric_id)))
    }
    return found.pop() if len(found) == 1 else _NO_MATCH


def _extra_filter(body: Payload) -> Callable[[SimEvent], bool] | None:
    """The attribution filters (service account, cloud agent, automation, hosting type)."""
    tests: list[Callable[[SimEvent], bool]] = []
    account = _opt_str(body, "serviceAccountId")
    if account is not None:
        tests.append(lambda e: e.service_account and account == SERVICE_ACCOUNT_ID)
    agent = _opt_str(body, "cloudAgentId")
    if agent is not None:
        tests.append(lambda e: e.cloud_agent is not None and agent in ("*", e.cloud_agent))
    if _opt_str(body, "automationId") is not None:
        tests.append(lambda _event: False)  # the simulated team runs no automations
    hosting = _opt_str(body, "hostingType")
    if hosting is not None:
        if hosting not in HOSTING_TYPES:
            raise BadRequest(f"Invalid hostingType: {hosting}")
        tests.append(lambda e: hosting == "CLOUD" and e.cloud_agent is not None)
    if not tests:
        return None
    return lambda e: all(test(e) for test in tests)


# --- POST /teams/spend ----------------------------------------------------------------


@dataclass(slots=True)
class _Cycle:
    on_demand: list[float]
    other: list[float]
    premium: int = 0


def spend_payload(team: Team, body: Payload, window: Window) -> Payload:
    config = team.config
    search = (_opt_str(body, "searchTerm") or "").lower()
    sort_by = _choice(body, "sortBy", ("amount", "date", "user"), "date")
    descending = _choice(body, "sortDirection", ("asc", "desc"), "desc") == "desc"
    page, size = positive_int(body, "page", 1), positive_int(body, "pageSize", SPEND_PAGE_SIZE)
    cycles = _cycle_charges(team, window)
    rows = [
        _spend_row(member, cycles.get(member.index), config)
        for member in team.members
        if (not member.is_removed or member.index in cycles)
        and (member.joined_at_ms or 0) <= window.now_ms  # not on the team yet: not listed
        and (search in member.name.lower() or search in member.email.lower())
    ]
    rows = _sorted_rows(rows, sort_by, descending)
    return {
        "teamMemberSpend": [row for _, row in rows[(page - 1) * size : page * size]],
        "subscriptionCycleStart": window.cycle_start_ms,
        "totalMembers": len(rows),
        "totalPages": math.ceil(len(rows) / size),
    }


def _cycle_charges(team: Team, window: Window) -> dict[int, _Cycle]:
    cycles: dict[int, _Cycle] = {}
    legacy = team.config.legacy
    for event in team.store.span(window.cycle_start_ms, window.visible_end_ms):
        cycle = cycles.get(event.member)
        if cycle is None:
            cycle = cycles[event.member] = _Cycle([], [])
        charge = legacy_charge(event) if legacy else event.charged
        if event.kind == KIND_USAGE_BASED:
            cycle.on_demand.append(charge)
            cycle.premium += 1
        else:
            cycle.other.append(charge)
    return cycles


def _spend_row(
    member: Member, cycle: _Cycle | None, config: SimulatorConfig
) -> tuple[tuple[Any, ...], Payload]:
    on_demand = math.fsum(cycle.on_demand) if cycle else 0.0
    overall = math.fsum([*cycle.on_demand, *cycle.other]) if cycle else 0.0
    premium = cycle.premium if cycle else 0
    keys = {"amount": overall, "date": member.index, "user": member.name.lower()}
    row: Payload = {}
    if config.legacy:
        row.update(name=member.name, email=member.email, role=member.role)
        row.update(spendCents=round(overall), fastPremiumRequests=premium)
        row["hardLimitOverrideDollars"] = 0
        return (keys["amount"], keys["date"], keys["user"]), row
    limit = member.monthly_limit_dollars
    row["userId"] = _member_id(member, config)
    row.update(name=member.name, email=member.email, role=member.role)
    row.update(spendCents=on_demand, overallSpendCents=overall)
    row["includedSpendCents"] = math.fsum(cycle.other) if cycle else 0.0
    row.update(fastPremiumRequests=premium, hardLimitOverrideDollars=0)
    row["monthlyLimitDollars"] = limit
    row["effectivePerUserLimitDollars"] = TEAM_DEFAULT_LIMIT_DOLLARS if limit is None else limit
    return (keys["amount"], keys["date"], keys["user"]), row


def _sorted_rows(
    rows: list[tuple[tuple[Any, ...], Payload]], sort_by: str, descending: bool
) -> list[tuple[tuple[Any, ...], Payload]]:
    position = {"amount": 0, "date": 1, "user": 2}[sort_by]
    rows.sort(key=lambda item: item[0][1])  # join order breaks ties
    rows.sort(key=lambda item: item[0][position], reverse=descending)
    return rows


# --- body fields ----------------------------------------------------------------------


def epoch_field(body: Payload, key: str) -> int | None:
    value = body.get(key)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        raise BadRequest(f"{key} must be a number of epoch milliseconds")
    return int(value)


def check_span(start: int, end: int, max_days: int, *, capped: bool) -> None:
    if start > end:
        raise BadRequest("startDate must be before endDate")
    if capped and end - start > max_days * DAY_MS:
        raise BadRequest(f"Date range cannot exceed {max_days} days")


def positive_int(body: Payload, key: str, default: int) -> int:
    value = body.get(key)
    if value is None:
        return default
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise BadRequest(f"{key} must be a positive integer")
    return value


def _opt_str(body: Payload, key: str) -> str | None:
    value = body.get(key)
    if value is not None and not isinstance(value, str):
        raise BadRequest(f"{key} must be a string")
    return value


def _choice(body: Payload, key: str, allowed: tuple[str, ...], default: str) -> str:
    value = _opt_str(body, key)
    if value is None:
        return default
    if value not in allowed:
        raise BadRequest(f"{key} must be one of {', '.join(allowed)}")
    return value
