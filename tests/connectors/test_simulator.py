"""The Cursor Admin API simulator, exercised through raw HTTP requests (not the project client)."""

from __future__ import annotations

import base64
import json
import math
import time
from collections import Counter, defaultdict
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import httpx
import pytest

from connectors.cursor.endpoints import DAILY_USAGE, MEMBERS, SPEND, USAGE_EVENTS
from connectors.cursor.sim_team import DAY_MS, DEMO_API_KEY, SimulatorConfig
from connectors.cursor.simulator import CursorSimulator, running_server
from connectors.records import UNKNOWN_USER

NOW = datetime(2026, 3, 10, 15, 30, tzinfo=UTC)  # a Tuesday; the cycle started on March 1st
NOW_MS = int(NOW.timestamp() * 1000)
CYCLE_START_MS = int(datetime(2026, 3, 1, tzinfo=UTC).timestamp() * 1000)
FIRST_PARTY = ("composer", "grok", "cursor-")
THIRD_PARTY_KEY = "crsr_" + "a" * 64


class MutableClock:
    def __init__(self, now: datetime) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now


Connect = Callable[..., tuple[CursorSimulator, httpx.Client]]


@pytest.fixture
def connect() -> Iterator[Connect]:
    """A small simulator (20 users, 10 days; rate limits off unless asked) and a raw client."""
    clients: list[httpx.Client] = []

    def factory(
        *,
        clock: Callable[[], datetime] | None = None,
        key: str | None = DEMO_API_KEY,
        **config: Any,
    ) -> tuple[CursorSimulator, httpx.Client]:
        settings: dict[str, Any] = {"users": 20, "days": 10, "rate_limiting": False, **config}
        sim = CursorSimulator(SimulatorConfig(**settings), clock=clock or MutableClock(NOW))
        auth = (key, "") if key is not None else None
        client = httpx.Client(transport=sim.transport(), base_url="http://cursor.test", auth=auth)
        clients.append(client)
        return sim, client

    yield factory
    for client in clients:
        client.close()


def events(client: httpx.Client, **body: Any) -> dict[str, Any]:
    response = client.post(USAGE_EVENTS, json=body)
    assert response.status_code == 200, response.text
    payload: dict[str, Any] = response.json()
    return payload


def all_events(client: httpx.Client, **body: Any) -> list[dict[str, Any]]:
    collected: list[dict[str, Any]] = []
    page = 1
    while True:
        payload = events(client, page=page, pageSize=1000, **body)
        collected.extend(payload["usageEvents"])
        if not payload["pagination"]["hasNextPage"]:
            return collected
        page += 1


def cycle_body() -> dict[str, int]:
    return {"startDate": CYCLE_START_MS, "endDate": NOW_MS}


def charged(event: dict[str, Any]) -> Decimal:
    return Decimal(repr(event["chargedCents"]))


def wait_for_fresh_window(seconds: float) -> None:
    """Sleep until just after the next fixed window boundary on the wall clock."""
    now = time.time()
    time.sleep((math.floor(now / seconds) + 1) * seconds - now + 0.01)


# --- auth -----------------------------------------------------------------------------


def test_requests_without_a_valid_admin_key_are_unauthorized(connect: Connect) -> None:
    sim, anonymous = connect(key=None)
    sim.add_key(THIRD_PARTY_KEY, "analytics")
    bad_headers = [
        {},
        {"Authorization": "Basic " + base64.b64encode(b"crsr_unknown:").decode()},
        {"Authorization": "Basic " + base64.b64encode(THIRD_PARTY_KEY.encode() + b":").decode()},
        {"Authorization": "Basic !!not-base64!!"},
        {"Authorization": "Bearer " + DEMO_API_KEY},
    ]
    for headers in bad_headers:
        response = anonymous.get(MEMBERS, headers=headers)
        assert response.status_code == 401
        assert response.json() == {"error": "Unauthorized", "message": "Invalid API key"}


def test_the_key_is_the_basic_username_and_the_password_is_ignored(connect: Connect) -> None:
    _, anonymous = connect(key=None)
    token = base64.b64encode(f"{DEMO_API_KEY}:whatever".encode()).decode()
    assert anonymous.get(MEMBERS, headers={"Authorization": f"Basic {token}"}).status_code == 200


def test_keys_are_revoked_after_the_configured_number_of_successful_calls(
    connect: Connect,
) -> None:
    sim, client = connect()
    sim.faults.revoke_after_calls = 2
    statuses = [client.get(MEMBERS).status_code for _ in range(2)]
    statuses.append(client.post(SPEND, json={}).status_code)
    assert statuses == [200, 200, 401]
    sim.faults.reset()
    assert client.get(MEMBERS).status_code == 200


def test_a_non_enterprise_key_is_forbidden_on_every_route(connect: Connect) -> None:
    sim, client = connect(key=THIRD_PARTY_KEY)
    sim.add_key(THIRD_PARTY_KEY, "no-enterprise")
    responses = [client.get(MEMBERS)] + [
        client.post(path, json=cycle_body()) for path in (USAGE_EVENTS, SPEND, DAILY_USAGE)
    ]
    for response in responses:
        assert response.status_code == 403
        assert response.json() == {"error": "Forbidden", "message": "Enterprise access required"}


def test_unknown_routes_and_methods_are_not_found(connect: Connect) -> None:
    _, client = connect()
    for response in (client.get("/teams/nope"), client.get(SPEND), client.post(MEMBERS)):
        assert response.status_code == 404
        assert response.json() == {"error": "Not Found", "message": "Resource not found"}


def test_bodies_on_get_are_ignored_and_an_empty_spend_body_is_valid(connect: Connect) -> None:
    _, client = connect()
    assert client.request("GET", MEMBERS, content=b'{"junk": [').status_code == 200
    assert client.post(SPEND, json={}).status_code == 200
    assert client.post(SPEND).status_code == 200
    bad = client.post(SPEND, content=b"{not json", headers={"Content-Type": "application/json"})
    assert bad.status_code == 400
    assert bad.json()["error"] == "Bad Request"


# --- rate limiting --------------------------------------------------------------------


@pytest.mark.parametrize("retry_after_header", [True, False])
def test_the_request_over_the_limit_in_a_window_is_429_until_the_window_resets(
    connect: Connect, retry_after_header: bool
) -> None:
    limits = {MEMBERS: 3, SPEND: 3, USAGE_EVENTS: 3, DAILY_USAGE: 3}
    _, client = connect(
        rate_limiting=True,
        minute_seconds=0.5,
        rate_limits=limits,
        retry_after_header=retry_after_header,
    )
    wait_for_fresh_window(0.5)
    statuses = [client.get(MEMBERS).status_code for _ in range(4)]
    assert statuses == [200, 200, 200, 429]
    limited = client.get(MEMBERS)
    assert limited.json() == {
        "error": "Too Many Requests",
        "message": "Rate limit exceeded. Please try again later.",
    }
    assert client.post(SPEND, json={}).status_code == 200  # one bucket per route
    if retry_after_header:
        wait = float(limited.headers["Retry-After"])
        assert 0 < wait <= 0.5
    else:
        assert "Retry-After" not in limited.headers
        wait = 0.5
    time.sleep(wait + 0.02)
    assert client.get(MEMBERS).status_code == 200


def test_rate_limits_are_counted_per_key(connect: Connect) -> None:
    sim, client = connect(rate_limiting=True, minute_seconds=0.5, rate_limits={MEMBERS: 1})
    sim.add_key(THIRD_PARTY_KEY)
    other = httpx.Client(
        transport=sim.transport(), base_url="http://cursor.test", auth=(THIRD_PARTY_KEY, "")
    )
    with other:
        wait_for_fresh_window(0.5)
        assert [client.get(MEMBERS).status_code for _ in range(2)] == [200, 429]
        assert other.get(MEMBERS).status_code == 200


def test_forced_faults_and_unauthorized_calls_do_not_consume_the_rate_budget(
    connect: Connect,
) -> None:
    sim, client = connect(rate_limiting=True, minute_seconds=0.5, rate_limits={MEMBERS: 2})
    anonymous = httpx.Client(transport=sim.transport(), base_url="http://cursor.test")
    with anonymous:
        wait_for_fresh_window(0.5)
        sim.faults.fail_next(503, 3)
        assert [client.get(MEMBERS).status_code for _ in range(3)] == [503, 503, 503]
        assert [anonymous.get(MEMBERS).status_code for _ in range(3)] == [401, 401, 401]
        assert [client.get(MEMBERS).status_code for _ in range(3)] == [200, 200, 429]


def test_rate_limiting_can_be_switched_off(connect: Connect) -> None:
    _, client = connect(rate_limiting=False, rate_limits={MEMBERS: 1})
    assert {client.get(MEMBERS).status_code for _ in range(5)} == {200}


# --- forced faults --------------------------------------------------------------------


@pytest.mark.parametrize(
    ("status", "error"),
    [
        (500, "Internal Server Error"),
        (502, "Bad Gateway"),
        (503, "Service Unavailable"),
        (504, "Gateway Timeout"),
    ],
)
def test_forced_server_errors_answer_the_next_requests_then_stop(
    connect: Connect, status: int, error: str
) -> None:
    sim, client = connect()
    sim.faults.fail_next(status, 2, path=SPEND)
    assert client.get(MEMBERS).status_code == 200  # other paths are not affected
    first, second, third = (client.post(SPEND, json={}) for _ in range(3))
    assert (first.status_code, second.status_code, third.status_code) == (status, status, 200)
    assert first.json()["error"] == error
    assert set(first.json()) == {"error", "message"}


def test_a_forced_429_carries_the_documented_body_and_the_given_retry_after(
    connect: Connect,
) -> None:
    sim, client = connect()
    sim.faults.fail_next(429, retry_after=2)
    response = client.get(MEMBERS)
    assert response.status_code == 429
    assert response.headers["Retry-After"] == "2"
    assert response.json()["message"] == "Rate limit exceeded. Please try again later."
    assert [call[2] for call in sim.calls] == [429]


def test_a_malformed_response_is_a_200_with_a_body_that_is_not_json(connect: Connect) -> None:
    sim, client = connect()
    sim.faults.malform_next(path=USAGE_EVENTS)
    broken = client.post(USAGE_EVENTS, json={})
    assert broken.status_code == 200
    with pytest.raises(json.JSONDecodeError):
        json.loads(broken.content)
    assert client.post(USAGE_EVENTS, json={}).json()["pagination"]["currentPage"] == 1


def test_a_delay_holds_every_answer(connect: Connect) -> None:
    sim, client = connect()
    sim.faults.delay_seconds = 0.2
    started = time.perf_counter()
    assert client.get(MEMBERS).status_code == 200
    assert time.perf_counter() - started >= 0.2


# --- dates, ranges, retention, freshness ----------------------------------------------


def test_ranges_over_thirty_days_are_a_400(connect: Connect) -> None:
    _, client = connect()
    too_long = {"startDate": NOW_MS - 30 * DAY_MS - 1, "endDate": NOW_MS}
    for path in (USAGE_EVENTS, DAILY_USAGE):
        response = client.post(path, json=too_long)
        assert response.status_code == 400
        assert response.json() == {
            "error": "Bad Request",
            "message": "Date range cannot exceed 30 days",
        }
    exactly = {"startDate": NOW_MS - 30 * DAY_MS, "endDate": NOW_MS}
    assert client.post(USAGE_EVENTS, json=exactly).status_code == 200


def test_the_event_range_cap_can_be_switched_off_but_daily_usage_keeps_it(
    connect: Connect,
) -> None:
    _, client = connect(cap_event_range=False)
    too_long = {"startDate": NOW_MS - 40 * DAY_MS, "endDate": NOW_MS}
    assert client.post(USAGE_EVENTS, json=too_long).status_code == 200
    assert client.post(DAILY_USAGE, json=too_long).status_code == 400


def test_daily_usage_requires_both_dates(connect: Connect) -> None:
    _, client = connect()
    for body in ({}, {"startDate": NOW_MS - DAY_MS}, {"endDate": NOW_MS, "page": 1}):
        response = client.post(DAILY_USAGE, json=body)
        assert response.status_code == 400
        assert response.json()["error"] == "Bad Request"


def test_dates_must_be_epoch_millisecond_numbers(connect: Connect) -> None:
    _, client = connect()
    body = {"startDate": str(NOW_MS - DAY_MS), "endDate": NOW_MS}
    assert client.post(USAGE_EVENTS, json=body).status_code == 400


def test_events_default_to_the_last_seven_days_and_echo_the_period(connect: Connect) -> None:
    _, client = connect()
    assert events(client)["period"] == {"startDate": NOW_MS - 7 * DAY_MS, "endDate": NOW_MS}
    body = {"startDate": NOW_MS - 3 * DAY_MS, "endDate": NOW_MS - DAY_MS}
    assert events(client, **body)["period"] == body


def test_event_bounds_are_inclusive_to_the_millisecond(connect: Connect) -> None:
    _, client = connect()
    stamp = int(events(client)["usageEvents"][5]["timestamp"])
    exact = events(client, startDate=stamp, endDate=stamp)["usageEvents"]
    assert [int(e["timestamp"]) for e in exact] == [stamp] * len(exact) and exact
    assert all(
        int(e["timestamp"]) != stamp
        for e in events(client, startDate=stamp + 1, endDate=stamp + 1000)["usageEvents"]
    )


def test_data_older_than_the_retention_window_comes_back_empty(connect: Connect) -> None:
    _, client = connect(retention_days=5)
    old = {"startDate": NOW_MS - 9 * DAY_MS, "endDate": NOW_MS - 6 * DAY_MS}
    payload = events(client, **old)
    assert payload["totalUsageEventsCount"] == 0 and payload["usageEvents"] == []
    assert client.post(DAILY_USAGE, json=old).json()["data"] == []
    paged = client.post(DAILY_USAGE, json={**old, "page": 1, "pageSize": 10}).json()
    assert paged["data"] == []
    recent = events(client, startDate=NOW_MS - 9 * DAY_MS, endDate=NOW_MS)["usageEvents"]
    assert recent and min(int(e["timestamp"]) for e in recent) >= NOW_MS - 5 * DAY_MS


def test_hourly_lag_hides_current_hour_events_until_the_clock_moves_on(
    connect: Connect,
) -> None:
    clock = MutableClock(NOW)
    sim, client = connect(clock=clock)
    cutoff_ms = int(sim.visible_cutoff().timestamp() * 1000)
    assert sim.visible_cutoff() == NOW.replace(minute=0)
    body = {"startDate": NOW_MS - DAY_MS, "endDate": NOW_MS + DAY_MS}
    before = all_events(client, **body)
    assert max(int(e["timestamp"]) for e in before) < cutoff_ms
    clock.now = NOW + timedelta(hours=2, minutes=5)
    after = all_events(client, **body)
    newer = [e for e in after if int(e["timestamp"]) >= cutoff_ms]
    assert newer, "the simulated team works in this hour"
    assert max(int(e["timestamp"]) for e in after) < cutoff_ms + 2 * 3_600_000
    assert after[len(newer) :] == before


def test_without_hourly_lag_events_are_visible_up_to_now(connect: Connect) -> None:
    sim, client = connect(hourly_lag=False)
    assert sim.visible_cutoff() == NOW
    stamps = [int(e["timestamp"]) for e in all_events(client, endDate=NOW_MS + DAY_MS)]
    assert max(stamps) <= NOW_MS and max(stamps) >= NOW_MS - 3_600_000


# --- usage events: pagination, order, fields ------------------------------------------


def test_events_pagination_envelope_counts_pages_and_ends_with_an_empty_page(
    connect: Connect,
) -> None:
    _, client = connect()
    body = {"startDate": NOW_MS - 2 * DAY_MS, "endDate": NOW_MS}
    first = events(client, pageSize=7, **body)
    total = first["totalUsageEventsCount"]
    pages = math.ceil(total / 7)
    assert first["pagination"] == {
        "numPages": pages,
        "currentPage": 1,
        "pageSize": 7,
        "hasNextPage": True,
        "hasPreviousPage": False,
    }
    last = events(client, pageSize=7, page=pages, **body)
    assert len(last["usageEvents"]) == total - 7 * (pages - 1)
    assert last["pagination"]["hasNextPage"] is False
    assert last["pagination"]["hasPreviousPage"] is True
    beyond = events(client, pageSize=7, page=pages + 1, **body)
    assert beyond["usageEvents"] == [] and beyond["pagination"]["hasNextPage"] is False
    assert beyond["totalUsageEventsCount"] == total
    paged = [
        e
        for p in range(1, pages + 1)
        for e in events(client, pageSize=7, page=p, **body)["usageEvents"]
    ]
    assert paged == events(client, pageSize=1000, **body)["usageEvents"]


def test_events_default_page_size_is_100_and_oversized_pages_are_clamped(
    connect: Connect,
) -> None:
    _, client = connect()
    assert events(client)["pagination"]["pageSize"] == 100
    assert events(client, pageSize=5000)["pagination"]["pageSize"] == 1000
    _, strict = connect(clamp_page_size=False)
    assert strict.post(USAGE_EVENTS, json={"pageSize": 5000}).status_code == 400


def test_events_come_newest_first_with_string_timestamps(connect: Connect) -> None:
    _, client = connect()
    served = all_events(client, startDate=NOW_MS - 5 * DAY_MS, endDate=NOW_MS)
    assert all(isinstance(e["timestamp"], str) for e in served)
    stamps = [int(e["timestamp"]) for e in served]
    assert stamps == sorted(stamps, reverse=True)


def test_token_usage_is_present_exactly_for_token_based_calls(connect: Connect) -> None:
    _, client = connect()
    served = all_events(client, startDate=NOW_MS - 7 * DAY_MS, endDate=NOW_MS)
    assert all(("tokenUsage" in e) == e["isTokenBasedCall"] for e in served)
    assert any(not e["isTokenBasedCall"] for e in served)
    usages = [e["tokenUsage"] for e in served if "tokenUsage" in e]
    assert any("cacheWriteTokens" not in usage for usage in usages)
    assert any("discountPercentOff" in usage for usage in usages)


def test_the_cursor_token_fee_is_omitted_for_first_party_models(connect: Connect) -> None:
    _, client = connect()
    served = all_events(client, startDate=NOW_MS - 7 * DAY_MS, endDate=NOW_MS)
    first_party = [e for e in served if e["model"].startswith(FIRST_PARTY)]
    assert first_party and all("cursorTokenFee" not in e for e in first_party)
    paying = [e for e in served if e["isTokenBasedCall"] and e["chargedCents"] > 0]
    third_party = [e for e in paying if not e["model"].startswith(FIRST_PARTY)]
    assert third_party and all(e["cursorTokenFee"] > 0 for e in third_party)


def test_charged_cents_is_discounted_model_cost_plus_fee(connect: Connect) -> None:
    _, client = connect()
    for event in all_events(client, startDate=NOW_MS - 7 * DAY_MS, endDate=NOW_MS):
        usage = event.get("tokenUsage")
        if usage is None:
            continue
        expected = usage["totalCents"] * (1 - usage.get("discountPercentOff", 0) / 100)
        expected += event.get("cursorTokenFee", 0)
        assert event["chargedCents"] == pytest.approx(expected, abs=1e-9)


def test_kinds_are_human_labels_and_only_usage_based_events_are_chargeable(
    connect: Connect,
) -> None:
    _, client = connect(users=40)
    served = all_events(client, startDate=NOW_MS - 10 * DAY_MS, endDate=NOW_MS)
    kinds = Counter(e["kind"] for e in served)
    assert {"Usage-based", "Included in Business", "Errored, Not Charged"} <= set(kinds)
    assert all(e["isChargeable"] == (e["kind"] == "Usage-based") for e in served)
    assert all(e["chargedCents"] == 0 for e in served if e["kind"] == "Errored, Not Charged")


def test_removed_members_events_come_without_user_email(connect: Connect) -> None:
    sim, client = connect()
    removed = [m for m in client.get(MEMBERS).json()["teamMembers"] if m["isRemoved"]]
    assert removed
    body = {"startDate": NOW_MS - 10 * DAY_MS, "endDate": NOW_MS}
    theirs = [e for m in removed for e in all_events(client, email=m["email"], **body)]
    assert theirs and all("userEmail" not in e for e in theirs)
    assert all("userEmail" in e for e in all_events(client, **body) if e not in theirs)
    keys = sim.charged_cents(NOW - timedelta(days=10), NOW, by="user")
    assert UNKNOWN_USER in keys


def test_removing_a_member_drops_the_email_from_their_history(connect: Connect) -> None:
    sim, client = connect()
    active = [e for e in events(client)["usageEvents"] if "userEmail" in e]
    email = active[0]["userEmail"]
    sim.remove_member(email)
    listed = {m["email"]: m for m in client.get(MEMBERS).json()["teamMembers"]}
    assert listed[email]["isRemoved"] is True
    assert all("userEmail" not in e for e in events(client, email=email)["usageEvents"])


def test_filters_combine_with_and(connect: Connect) -> None:
    _, client = connect(numeric_member_ids=True)
    members = [m for m in client.get(MEMBERS).json()["teamMembers"] if not m["isRemoved"]]
    first, second = members[0], members[1]
    assert isinstance(first["id"], int)
    by_email = events(client, email=first["email"])
    by_both = events(client, email=first["email"], userId=first["id"])
    assert by_both == by_email and by_email["totalUsageEventsCount"] > 0
    assert events(client, email=first["email"], userId=second["id"])["usageEvents"] == []
    cloud = all_events(client, cloudAgentId="*", startDate=NOW_MS - 10 * DAY_MS, endDate=NOW_MS)
    assert all("cloudAgentId" in e and e["isHeadless"] for e in cloud)
    assert client.post(USAGE_EVENTS, json={"hostingType": "MOON"}).status_code == 400


# --- members --------------------------------------------------------------------------


def test_members_have_user_ids_unique_emails_and_an_owner(connect: Connect) -> None:
    _, client = connect(users=60)
    members = client.get(MEMBERS).json()["teamMembers"]
    assert len(members) == 60
    assert set(members[0]) == {"id", "name", "email", "role", "isRemoved"}
    assert all(m["id"].startswith("user_") and len(m["id"]) == 31 for m in members)
    assert len({m["email"] for m in members}) == 60
    assert all(m["email"].endswith("@acme.test") and " " in m["name"] for m in members)
    assert any(m["role"] == "owner" for m in members)
    assert {m["role"] for m in members} <= {"owner", "member", "free-owner"}


def test_removed_members_can_be_left_out_of_the_member_list(connect: Connect) -> None:
    _, client = connect(omit_removed_members=True)
    members = client.get(MEMBERS).json()["teamMembers"]
    assert len(members) < 20 and not any(m["isRemoved"] for m in members)


# --- spend ----------------------------------------------------------------------------


def test_member_spend_equals_the_sum_of_their_charged_cents_this_cycle(
    connect: Connect,
) -> None:
    _, client = connect()
    spend = client.post(SPEND, json={}).json()
    assert spend["subscriptionCycleStart"] == CYCLE_START_MS
    served = all_events(client, **cycle_body())
    overall: dict[str, Decimal] = defaultdict(Decimal)
    on_demand: dict[str, Decimal] = defaultdict(Decimal)
    for event in served:
        email = event.get("userEmail", UNKNOWN_USER)
        overall[email] += charged(event)
        if event["kind"] == "Usage-based":
            on_demand[email] += charged(event)
    rows = spend["teamMemberSpend"]
    assert spend["totalMembers"] == len(rows) and spend["totalPages"] == 1
    for row in rows:
        if row["email"] in overall:
            assert abs(Decimal(repr(row["overallSpendCents"])) - overall[row["email"]]) < Decimal(
                "1e-6"
            )
            assert abs(Decimal(repr(row["spendCents"])) - on_demand[row["email"]]) < Decimal("1e-6")
        assert row["includedSpendCents"] == pytest.approx(
            row["overallSpendCents"] - row["spendCents"]
        )
    team_total = sum((Decimal(repr(r["overallSpendCents"])) for r in rows), Decimal(0))
    assert abs(team_total - sum(overall.values(), Decimal(0))) < Decimal("1e-6")
    assert any(row["spendCents"] > 0 for row in rows)


def test_spend_search_sort_and_pages(connect: Connect) -> None:
    _, client = connect()
    rows = client.post(SPEND, json={"sortBy": "amount", "sortDirection": "asc"}).json()
    amounts = [r["overallSpendCents"] for r in rows["teamMemberSpend"]]
    assert amounts == sorted(amounts)
    name = rows["teamMemberSpend"][0]["name"].split()[0]
    found = client.post(SPEND, json={"searchTerm": name.lower()}).json()
    assert found["teamMemberSpend"] and all(
        name.lower() in (r["name"] + r["email"]).lower() for r in found["teamMemberSpend"]
    )
    paged = client.post(SPEND, json={"pageSize": 6, "page": 2}).json()
    assert len(paged["teamMemberSpend"]) == 6
    assert paged["totalPages"] == math.ceil(paged["totalMembers"] / 6)
    assert "pagination" not in paged and "currentPage" not in paged


def test_a_revised_event_is_served_with_its_new_cost_everywhere(connect: Connect) -> None:
    sim, client = connect()
    target = next(
        e for e in events(client)["usageEvents"] if "cursorTokenFee" in e and "userEmail" in e
    )
    before = client.post(SPEND, json={"searchTerm": target["userEmail"]}).json()
    sim.revise_event(int(target["timestamp"]), charged_cents=target["chargedCents"] + 100.0)
    stamp = int(target["timestamp"])
    revised = next(
        e
        for e in events(client, startDate=stamp, endDate=stamp)["usageEvents"]
        if e["conversationId"] == target.get("conversationId")
    )
    assert revised["chargedCents"] == target["chargedCents"] + 100.0
    usage = revised["tokenUsage"]
    expected = usage["totalCents"] * (1 - usage.get("discountPercentOff", 0) / 100)
    assert expected + revised["cursorTokenFee"] == pytest.approx(revised["chargedCents"])
    after = client.post(SPEND, json={"searchTerm": target["userEmail"]}).json()
    delta = (
        after["teamMemberSpend"][0]["overallSpendCents"]
        - before["teamMemberSpend"][0]["overallSpendCents"]
    )
    assert delta == pytest.approx(100.0)


# --- legacy ---------------------------------------------------------------------------


def test_legacy_profile_serves_the_older_field_set(connect: Connect) -> None:
    sim, client = connect(legacy=True)
    members = client.get(MEMBERS).json()["teamMembers"]
    assert all(set(m) == {"name", "email", "role"} for m in members)
    payload = events(client)
    assert payload["pagination"]["pageSize"] == 10
    for event in payload["usageEvents"]:
        assert "chargedCents" not in event and event["isFreeBugbot"] is False
        assert "cursorTokenFee" in event
    rows = client.post(SPEND, json={}).json()["teamMemberSpend"]
    assert all(isinstance(r["spendCents"], int) for r in rows)
    assert all("overallSpendCents" not in r and "userId" not in r for r in rows)
    truth = sim.charged_cents(datetime(2026, 3, 1, tzinfo=UTC), NOW, by="user")
    for row in rows:
        if row["email"] in truth:
            assert abs(row["spendCents"] - truth[row["email"]]) <= Decimal("0.5") + Decimal("1e-6")


# --- daily usage ----------------------------------------------------------------------


def test_daily_usage_without_paging_lists_only_active_user_days(connect: Connect) -> None:
    _, client = connect()
    body = {"startDate": NOW_MS - 4 * DAY_MS, "endDate": NOW_MS}
    payload = client.post(DAILY_USAGE, json=body).json()
    rows = payload["data"]
    assert rows and "pagination" not in payload and payload["period"] == body
    assert all(r["isActive"] for r in rows)
    assert len({(r["userId"], r["day"]) for r in rows}) == len(rows)
    per_user_day: Counter[tuple[str, int]] = Counter()
    day_start = (NOW_MS - 4 * DAY_MS) // DAY_MS * DAY_MS
    for event in all_events(client, startDate=day_start, endDate=NOW_MS):
        if "userEmail" in event and event["kind"] != "Errored, Not Charged":
            per_user_day[(event["userEmail"], int(event["timestamp"]) // DAY_MS * DAY_MS)] += 1
    removed = {m["email"] for m in client.get(MEMBERS).json()["teamMembers"] if m["isRemoved"]}
    for row in rows:
        assert row["date"] % DAY_MS == 0
        assert row["day"] == datetime.fromtimestamp(row["date"] / 1000, UTC).strftime("%Y-%m-%d")
        counted = row["subscriptionIncludedReqs"] + row["usageBasedReqs"] + row["apiKeyReqs"]
        if row["email"] not in removed:
            assert counted == per_user_day.pop((row["email"], row["date"]), 0)
    assert not per_user_day, "every active user-day has a row"


def test_daily_usage_with_paging_lists_every_member_every_day_paged_by_user(
    connect: Connect,
) -> None:
    _, client = connect()
    body = {"startDate": NOW_MS - 2 * DAY_MS, "endDate": NOW_MS, "pageSize": 7}
    first = client.post(DAILY_USAGE, json={**body, "page": 1}).json()
    total_users = first["pagination"]["totalUsers"]
    assert first["pagination"] == {
        "page": 1,
        "pageSize": 7,
        "totalUsers": total_users,
        "totalPages": math.ceil(total_users / 7),
        "hasNextPage": True,
        "hasPreviousPage": False,
    }
    pages = [first] + [
        client.post(DAILY_USAGE, json={**body, "page": p}).json()
        for p in range(2, first["pagination"]["totalPages"] + 1)
    ]
    users_per_page = [{r["userId"] for r in page["data"]} for page in pages]
    assert all(
        len(users) == len(page["data"]) / 3
        for users, page in zip(users_per_page, pages, strict=True)
    )
    assert sum(len(users) for users in users_per_page) == total_users
    assert len(set().union(*users_per_page)) == total_users
    rows = [r for page in pages for r in page["data"]]
    idle = [r for r in rows if not r["isActive"]]
    assert idle and all(
        r["agentRequests"] == 0 and r["mostUsedModel"] is None and r["clientVersion"] is None
        for r in idle
    )
    assert pages[-1]["pagination"]["hasNextPage"] is False


# --- determinism and ground truth -----------------------------------------------------


def snapshot(client: httpx.Client) -> list[Any]:
    window = {"startDate": NOW_MS - 3 * DAY_MS, "endDate": NOW_MS}
    return [
        client.get(MEMBERS).json(),
        client.post(USAGE_EVENTS, json={**window, "pageSize": 1000}).json(),
        client.post(SPEND, json={}).json(),
        client.post(DAILY_USAGE, json=window).json(),
    ]


def test_the_same_seed_gives_identical_payloads_and_another_seed_does_not(
    connect: Connect,
) -> None:
    _, one = connect(seed=7)
    _, same = connect(seed=7)
    _, other = connect(seed=8)
    assert snapshot(one) == snapshot(same)
    assert snapshot(one) != snapshot(other)


def test_ground_truth_helpers_agree_with_the_served_pages(connect: Connect) -> None:
    sim, client = connect()
    start, end = NOW - timedelta(days=6), NOW
    body = {"startDate": int(start.timestamp() * 1000), "endDate": NOW_MS}
    served = all_events(client, **body)
    assert sim.wire_events(start, end) == served
    by_model: dict[str, Decimal] = defaultdict(Decimal)
    for event in served:
        by_model[event["model"]] += charged(event)
    assert sim.charged_cents(start, end, by="model") == by_model
    assert sim.charged_cents(start, end) == {"total": sum(by_model.values(), Decimal(0))}
    kinds = sim.charged_cents(start, end, by="kind")
    assert sum(kinds.values(), Decimal(0)) == sum(by_model.values(), Decimal(0))
    assert sim.cycle_start() == datetime(2026, 3, 1, tzinfo=UTC)


def test_the_billing_cycle_starts_on_the_anchor_day(connect: Connect) -> None:
    sim, client = connect(cycle_anchor_day=15)
    assert sim.cycle_start() == datetime(2026, 2, 15, tzinfo=UTC)
    spend = client.post(SPEND, json={}).json()
    assert spend["subscriptionCycleStart"] == int(
        datetime(2026, 2, 15, tzinfo=UTC).timestamp() * 1000
    )


def test_calls_are_recorded_with_their_status(connect: Connect) -> None:
    sim, client = connect()
    client.get(MEMBERS)
    client.get("/nowhere")
    assert sim.calls == [("GET", MEMBERS, 200), ("GET", "/nowhere", 404)]


# --- over real HTTP -------------------------------------------------------------------


def test_running_server_serves_the_api_over_localhost() -> None:
    sim = CursorSimulator(SimulatorConfig(users=5, days=3), clock=MutableClock(NOW))
    with running_server(sim) as base_url, httpx.Client(base_url=base_url) as http:
        assert base_url.startswith("http://127.0.0.1:")
        assert http.get("/_simulator/health").json() == {"ok": True}
        members = http.get(MEMBERS, auth=(DEMO_API_KEY, ""))
        assert members.status_code == 200 and len(members.json()["teamMembers"]) == 5
        control = {"fail_next": {"status": 503, "count": 1, "path": SPEND}, "delay_seconds": 0}
        assert http.post("/_simulator/faults", json=control).json() == {"ok": True}
        assert http.post(SPEND, json={}, auth=(DEMO_API_KEY, "")).status_code == 503
        assert http.post(SPEND, json={}, auth=(DEMO_API_KEY, "")).status_code == 200
        http.post("/_simulator/faults", json={"revoke_after_calls": 0})
        assert http.get(MEMBERS, auth=(DEMO_API_KEY, "")).status_code == 401
        http.post("/_simulator/faults", json={"reset": True})
        assert http.get(MEMBERS, auth=(DEMO_API_KEY, "")).status_code == 200
