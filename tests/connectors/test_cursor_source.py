"""The real client and source read the simulated Admin API exactly, whatever it throws.

Everything goes through ``CursorAdminClient`` + ``CursorSource`` against ``CursorSimulator``
(in-process WSGI, or real HTTP on localhost where a timeout must be honoured). Ground truth
comes from the simulator (``wire_events``, ``charged_cents``), which computes it from the very
values it serves.
"""

from __future__ import annotations

import base64
import functools
import itertools
import logging
import time
import traceback
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable, Iterator
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from connectors.cursor.client import ClientOptions, CursorAdminClient
from connectors.cursor.endpoints import DAILY_USAGE, MEMBERS, SPEND, USAGE_EVENTS
from connectors.cursor.sim_team import (
    KIND_INCLUDED,
    KIND_USAGE_BASED,
    SimulatorConfig,
)
from connectors.cursor.simulator import CursorSimulator, running_server
from connectors.cursor.source import CursorSource, EventPage
from connectors.cursor.windows import DAY_MS, from_ms, settled_end, start_of_hour, to_ms
from connectors.errors import (
    AuthError,
    BadRequestError,
    ConnectorError,
    MalformedResponseError,
    PlanError,
    RateLimitedError,
    UnavailableError,
)
from connectors.records import UNKNOWN_USER, KindClass, UsageEvent

NOW = datetime(2026, 11, 25, 14, 30, tzinfo=UTC)  # a Wednesday; the cycle started Nov 1st
END = settled_end(NOW)  # 13:59:59.999, the last settled millisecond
KEY = "crsr_source_test_" + "7e" * 26
OTHER_KEY = "crsr_no_enterprise_" + "5d" * 25
UNKNOWN_KEY = "crsr_unknown_" + "3c" * 28
BASE_URL = "http://cursor.test"
TRIPLE = tuple[str, Decimal, str]


class Clock:
    """A clock the test moves by hand."""

    def __init__(self, now: datetime) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now


class Sleeps:
    """Records waits instead of sleeping."""

    def __init__(self) -> None:
        self.calls: list[float] = []

    def __call__(self, seconds: float) -> None:
        self.calls.append(seconds)


def make_sim(clock: Callable[[], datetime] | None = None, **config: Any) -> CursorSimulator:
    """A small team (10 users, 12 days; rate limits off unless asked) that knows ``KEY``."""
    settings_: dict[str, Any] = {"users": 10, "days": 12, "rate_limiting": False, **config}
    sim = CursorSimulator(SimulatorConfig(**settings_), clock=clock or Clock(NOW))
    sim.add_key(KEY)
    return sim


def make_client(
    sim: CursorSimulator,
    *,
    key: str = KEY,
    sleep: Callable[[float], None] | None = None,
    **options: Any,
) -> CursorAdminClient:
    opts: dict[str, Any] = {"base_url": BASE_URL, "rate_limits": {}, **options}
    return CursorAdminClient(
        key, ClientOptions(**opts), transport=sim.transport(), sleep=sleep or Sleeps()
    )


Connect = Callable[..., CursorSource]


@pytest.fixture
def connect() -> Iterator[Connect]:
    """``connect(sim, page_size=..., key=..., sleep=..., **client_options)`` -> a source."""
    clients: list[CursorAdminClient] = []

    def factory(sim: CursorSimulator, *, page_size: int = 1000, **kwargs: Any) -> CursorSource:
        client = make_client(sim, **kwargs)
        clients.append(client)
        return CursorSource(client, events_page_size=page_size)

    yield factory
    for client in clients:
        client.close()


def read_all(source: CursorSource, start: datetime, end: datetime, **kw: Any) -> list[EventPage]:
    return list(source.usage_event_pages(start, end, **kw))


def records(pages: Iterable[EventPage]) -> list[UsageEvent]:
    return [event for page in pages for event in page.events]


def total(events: Iterable[UsageEvent]) -> Decimal:
    return sum((event.charged_cents for event in events), Decimal(0))


def triples(events: Iterable[UsageEvent]) -> Counter[TRIPLE]:
    return Counter((e.natural_key, e.charged_cents, e.user_email) for e in events)


def statuses(sim: CursorSimulator, path: str | None = None) -> list[int]:
    return [status for _, route, status in sim.calls if path is None or route == path]


def removed_emails(sim: CursorSimulator) -> set[str]:
    return {m.email for m in sim.team.members if m.is_removed}


# --- reading windows ----------------------------------------------------------------------


@pytest.mark.parametrize("page_size", [7, 100, 1000])
def test_every_event_of_a_window_is_read_across_page_boundaries(
    connect: Connect, page_size: int
) -> None:
    sim = make_sim()
    start = NOW - timedelta(days=10)
    pages = read_all(connect(sim, page_size=page_size), start, END)
    events = records(pages)
    truth = sim.wire_events(start, END)

    assert len(truth) > 1000  # even the largest page size crosses a page boundary
    assert [p.page for p in pages] == list(range(1, len(pages) + 1))
    assert all(p.num_pages == len(pages) for p in pages)
    assert [p.has_next for p in pages] == [True] * (len(pages) - 1) + [False]
    assert all(len(p.events) == page_size for p in pages[:-1])
    assert len(events) == len(truth)
    assert len({e.natural_key for e in events}) == len(events)
    assert total(events) == sim.charged_cents(start, END)["total"]  # exact, Decimal
    assert [to_ms(e.occurred_at) for e in events] == [int(w["timestamp"]) for w in truth]


def test_a_range_over_30_days_is_split_into_windows_and_never_refused(connect: Connect) -> None:
    sim = make_sim(users=5, days=40)
    start = NOW - timedelta(days=40)
    pages = read_all(connect(sim), start, END)
    windows = sorted({(p.window_start_ms, p.window_end_ms) for p in pages})

    assert len(windows) == 2
    assert windows[0][0] == to_ms(start) and windows[-1][1] == to_ms(END)
    assert all(hi - lo < 30 * DAY_MS for lo, hi in windows)
    assert all(a[1] + 1 == b[0] for a, b in itertools.pairwise(windows))
    assert set(statuses(sim)) == {200}
    assert len(records(pages)) == len(sim.wire_events(start, END))
    assert total(records(pages)) == sim.charged_cents(start, END)["total"]


def test_the_providers_30_day_cap_is_real_so_a_longer_window_is_a_400(
    connect: Connect,
) -> None:
    sim = make_sim()
    source = CursorSource(connect(sim).client, max_range_days=31)
    with pytest.raises(BadRequestError) as caught:
        read_all(source, NOW - timedelta(days=31), END)
    assert "30 days" in caught.value.provider_message
    assert statuses(sim) == [400]  # a 400 is not retried


def test_an_oversized_page_is_clamped_or_refused_as_the_provider_does(connect: Connect) -> None:
    window = {"start_ms": to_ms(NOW - timedelta(days=10)), "end_ms": to_ms(END)}
    clamped = connect(make_sim()).client.get_usage_events(page_size=5000, **window)
    assert clamped.page_size == 1000
    assert len(clamped.events) == 1000
    strict = connect(make_sim(clamp_page_size=False)).client
    with pytest.raises(BadRequestError, match="pageSize"):
        strict.get_usage_events(page_size=5000, **window)


def test_the_window_ends_at_the_previous_whole_hour_and_the_next_hour_reveals_more(
    connect: Connect,
) -> None:
    clock = Clock(NOW)
    sim = make_sim(clock, users=20)
    source = connect(sim)
    start = NOW - timedelta(days=1)
    this_hour = start_of_hour(NOW)
    assert settled_end(NOW) == this_hour - timedelta(milliseconds=1)

    before = records(read_all(source, start, settled_end(clock.now)))
    assert max(e.occurred_at for e in before) < this_hour
    # Asking past the settled end changes nothing: the current hour is not served yet.
    assert len(records(read_all(source, start, clock.now))) == len(before)

    clock.now = NOW + timedelta(hours=1)
    after = records(read_all(source, start, settled_end(clock.now)))
    new = [e for e in after if e.natural_key not in {b.natural_key for b in before}]
    assert new, "the team works at 14:00 UTC on a Wednesday"
    assert all(this_hour <= e.occurred_at < this_hour + timedelta(hours=1) for e in new)
    assert len(after) == len(before) + len(new)
    assert triples(after) == triples(before) + triples(new)
    hour_truth = sim.wire_events(this_hour, this_hour + timedelta(hours=1, milliseconds=-1))
    assert len(new) == len(hour_truth)


def test_retention_hides_older_events_silently(connect: Connect) -> None:
    sim = make_sim(users=5, days=40, retention_days=20)
    events = records(read_all(connect(sim), NOW - timedelta(days=40), END))
    assert events
    assert min(e.occurred_at for e in events) >= NOW - timedelta(days=20)
    assert len(events) == len(sim.wire_events(NOW - timedelta(days=40), END))


# --- any page size, any split: the same events ---------------------------------------------

PROPERTY_SIM = make_sim(users=5, days=4)
PROPERTY_START = NOW - timedelta(days=2)
PROPERTY_LO, PROPERTY_HI = to_ms(PROPERTY_START), to_ms(END)
PROPERTY_STAMPS = sorted(
    {int(e["timestamp"]) for e in PROPERTY_SIM.wire_events(PROPERTY_START, END)}
)


def property_source(page_size: int) -> CursorSource:
    return CursorSource(make_client(PROPERTY_SIM), events_page_size=page_size)


@functools.cache
def property_baseline() -> tuple[Counter[TRIPLE], int]:
    source = property_source(1000)
    events = records(read_all(source, PROPERTY_START, END))
    source.client.close()
    return triples(events), len(events)


def sub_windows(cuts: Iterable[int]) -> list[tuple[int, int]]:
    """Inclusive windows covering [LO, HI], a new one starting at every cut."""
    starts = sorted({PROPERTY_LO, *(c for c in cuts if PROPERTY_LO < c <= PROPERTY_HI)})
    ends = [s - 1 for s in starts[1:]] + [PROPERTY_HI]
    return list(zip(starts, ends, strict=True))


cut_points = st.one_of(
    st.integers(PROPERTY_LO + 1, PROPERTY_HI),
    # Cuts on and right after an event's millisecond test the inclusive bounds.
    st.sampled_from(PROPERTY_STAMPS).flatmap(lambda ts: st.sampled_from([ts, ts + 1])),
)


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(page_size=st.integers(1, 1000), cuts=st.lists(cut_points, max_size=8))
@example(page_size=1, cuts=[])
@example(page_size=1, cuts=PROPERTY_STAMPS[::40])
@example(page_size=1000, cuts=[PROPERTY_HI])
def test_any_page_size_and_any_split_of_a_window_yield_the_same_events(
    page_size: int, cuts: list[int]
) -> None:
    baseline, count = property_baseline()
    source = property_source(page_size)
    try:
        events = [
            event
            for lo, hi in sub_windows(cuts)
            for event in records(read_all(source, from_ms(lo), from_ms(hi)))
        ]
    finally:
        source.client.close()
    assert len(events) == count
    assert {e.natural_key for e in events} == {key for key, _, _ in baseline}
    assert triples(events) == baseline


def test_the_property_window_is_not_trivial() -> None:
    baseline, count = property_baseline()
    assert count > 200 and len(baseline) == count
    assert len(PROPERTY_STAMPS) > 200


# --- resume ---------------------------------------------------------------------------------


@pytest.mark.parametrize("where", ["second", "middle", "last"])
def test_resuming_a_window_at_page_k_reads_exactly_the_remaining_events(
    connect: Connect, where: str
) -> None:
    sim = make_sim()
    source = connect(sim, page_size=50)
    start = NOW - timedelta(days=5)
    full = read_all(source, start, END)
    k = {"second": 2, "middle": len(full) // 2, "last": len(full)}[where]
    assert len(full) > 10

    done = list(itertools.islice(source.usage_event_pages(start, END), k - 1))
    first = full[0]
    resumed = read_all(source, start, END, resume=(first.window_start_ms, first.window_end_ms, k))

    assert [p.page for p in resumed] == list(range(k, len(full) + 1))
    assert triples(records(done)) + triples(records(resumed)) == triples(records(full))
    assert triples(records(resumed)) == triples(records(full[k - 1 :]))


def test_resume_for_another_window_is_ignored(connect: Connect) -> None:
    sim = make_sim()
    source = connect(sim, page_size=200)
    start = NOW - timedelta(days=5)
    full = read_all(source, start, END)
    other = read_all(source, start, END, resume=(to_ms(start) - 1, to_ms(END), 3))
    assert triples(records(other)) == triples(records(full))


def test_resuming_past_the_last_page_reads_nothing_more(connect: Connect) -> None:
    sim = make_sim()
    source = connect(sim, page_size=100)
    start = NOW - timedelta(days=5)
    full = read_all(source, start, END)
    window = (full[0].window_start_ms, full[0].window_end_ms)
    after = read_all(source, start, END, resume=(*window, len(full) + 1))
    assert len(after) == 1 and after[0].events == [] and not after[0].has_next


# --- revisions and removals -----------------------------------------------------------------


def test_a_revised_event_keeps_its_natural_key_and_carries_the_new_charge(
    connect: Connect,
) -> None:
    sim = make_sim()
    source = connect(sim, page_size=100)
    start = NOW - timedelta(days=2)
    before = {e.natural_key: e for e in records(read_all(source, start, END))}
    target = max(before.values(), key=lambda e: e.charged_cents)
    sim.revise_event(to_ms(target.occurred_at), charged_cents=1.25)

    after = {e.natural_key: e for e in records(read_all(source, start, END))}
    assert after.keys() == before.keys()
    assert after[target.natural_key].charged_cents == Decimal("1.25")
    assert total(after.values()) == sim.charged_cents(start, END)["total"]
    assert total(after.values()) == total(before.values()) - target.charged_cents + Decimal("1.25")


def test_removing_a_member_keeps_natural_keys_and_moves_charges_to_removed_user(
    connect: Connect,
) -> None:
    sim = make_sim()
    source = connect(sim, page_size=100)
    start = NOW - timedelta(days=5)
    before = {e.natural_key: e for e in records(read_all(source, start, END))}
    email = Counter(e.user_email for e in before.values() if not e.email_missing).most_common(1)
    leaver = email[0][0]
    sim.remove_member(leaver)

    after = {e.natural_key: e for e in records(read_all(source, start, END))}
    assert after.keys() == before.keys()
    moved = [k for k, e in before.items() if e.user_email == leaver]
    assert moved and all(after[k].user_email == UNKNOWN_USER for k in moved)
    assert all(after[k].charged_cents == before[k].charged_cents for k in before)
    assert leaver in {m.email for m in source.members() if m.is_removed}


# --- totals ---------------------------------------------------------------------------------


def grouped(events: Iterable[UsageEvent], key: Callable[[UsageEvent], str]) -> dict[str, Decimal]:
    totals: dict[str, Decimal] = defaultdict(Decimal)
    for event in events:
        totals[key(event)] += event.charged_cents
    return dict(totals)


def test_per_user_and_per_model_totals_equal_the_providers(connect: Connect) -> None:
    sim = make_sim(users=20, days=30)
    start = NOW - timedelta(days=29)
    events = records(read_all(connect(sim, page_size=500), start, END))

    by_user = grouped(events, lambda e: e.user_email)
    assert by_user == sim.charged_cents(start, END, by="user")
    assert UNKNOWN_USER in by_user  # removed members' events are kept, not dropped
    assert removed_emails(sim).isdisjoint(by_user)
    assert grouped(events, lambda e: e.model) == sim.charged_cents(start, END, by="model")
    assert grouped(events, lambda e: e.kind) == sim.charged_cents(start, END, by="kind")


def test_spend_matches_the_members_events_in_the_cycle(connect: Connect) -> None:
    sim = make_sim(users=20, days=30)
    source = connect(sim)
    snapshot = source.spend()
    assert snapshot.cycle_start == sim.cycle_start() == datetime(2026, 11, 1, tzinfo=UTC)

    events = records(read_all(source, snapshot.cycle_start, END))
    overall = grouped(events, lambda e: e.user_email)
    on_demand = grouped(
        (e for e in events if e.kind_class is KindClass.ON_DEMAND), lambda e: e.user_email
    )
    removed = removed_emails(sim)
    tolerance = Decimal("1e-6")
    seen_removed = Decimal(0)
    assert {m.email for m in snapshot.members} >= {m.email for m in sim.team.members} - removed
    for member in snapshot.members:
        assert member.cycle_start == snapshot.cycle_start
        if member.email in removed:  # their events carry no email any more
            seen_removed += member.overall_cents
            continue
        assert abs(member.overall_cents - overall.get(member.email, Decimal(0))) < tolerance
        assert abs(member.on_demand_cents - on_demand.get(member.email, Decimal(0))) < tolerance
        assert member.included_cents + member.on_demand_cents - member.overall_cents < tolerance
    assert abs(seen_removed - overall.get(UNKNOWN_USER, Decimal(0))) < tolerance
    assert any(m.on_demand_cents > 0 for m in snapshot.members)


def test_legacy_payloads_still_total_to_the_providers_truth(connect: Connect) -> None:
    sim = make_sim(users=10, days=30, legacy=True)
    source = connect(sim, page_size=300)
    snapshot = source.spend()
    events = records(read_all(source, snapshot.cycle_start, END))

    assert all(e.charged_cents == e.model_cost_cents + e.token_fee_cents for e in events)
    assert total(events) == sim.charged_cents(snapshot.cycle_start, END)["total"]
    assert grouped(events, lambda e: e.user_email) == sim.charged_cents(
        snapshot.cycle_start, END, by="user"
    )
    overall = grouped(events, lambda e: e.user_email)
    removed = removed_emails(sim)
    for member in snapshot.members:
        # spendCents was the whole spend (whole cents) and there was no split.
        assert member.overall_cents == member.overall_cents.to_integral_value()
        assert member.on_demand_cents == 0 and member.included_cents == member.overall_cents
        if member.email not in removed:
            expected = overall.get(member.email, Decimal(0))
            assert abs(member.overall_cents - expected) <= Decimal("0.5") + Decimal("1e-6")
    members = source.members()
    assert all(m.provider_user_id is None and not m.is_removed for m in members)
    assert {m.email for m in members} == {m.email for m in sim.team.members} - removed


# --- members --------------------------------------------------------------------------------


def test_members_lists_removed_people_flagged(connect: Connect) -> None:
    sim = make_sim(users=20)
    members = connect(sim).members()
    assert len(members) == 20
    assert {m.email for m in members if m.is_removed} == removed_emails(sim) != set()
    assert all(m.provider_user_id and m.provider_user_id.startswith("user_") for m in members)


def test_numeric_member_ids_are_read_as_strings(connect: Connect) -> None:
    sim = make_sim(users=20, days=30, numeric_member_ids=True)
    source = connect(sim)
    ids = {m.email: m.provider_user_id for m in source.members()}
    assert ids == {m.email: str(m.numeric_id) for m in sim.team.members}
    spend = source.spend().members
    assert spend and all(ids[row.email] == row.provider_user_id for row in spend)


def test_omitted_removed_members_are_tolerated(connect: Connect) -> None:
    sim = make_sim(users=20, days=30, omit_removed_members=True)
    source = connect(sim)
    members = source.members()
    assert {m.email for m in members} == {m.email for m in sim.team.members} - removed_emails(sim)
    assert not any(m.is_removed for m in members)
    events = records(read_all(source, NOW - timedelta(days=20), END))
    assert any(e.email_missing and e.user_email == UNKNOWN_USER for e in events)
    assert total(events) == sim.charged_cents(NOW - timedelta(days=20), END)["total"]


# --- daily activity -------------------------------------------------------------------------


def test_daily_usage_based_requests_count_the_usage_based_events(connect: Connect) -> None:
    sim = make_sim(users=20, days=30)
    source = connect(sim)
    start = (NOW - timedelta(days=10)).replace(hour=0, minute=30)  # mid-day: whole day counts
    day_start = start.replace(minute=0)
    rows = source.daily_activity(start, END)
    truth = Counter(w["kind"] for w in sim.wire_events(day_start, END))
    events = records(read_all(source, day_start, END))

    assert {r.day for r in rows} == {(day_start + timedelta(days=i)).date() for i in range(11)}
    assert all(r.is_active for r in rows)
    used = sum(r.usage_based_requests for r in rows)
    assert used == truth[KIND_USAGE_BASED] > 0
    assert used == sum(e.kind_class is KindClass.ON_DEMAND for e in events)
    assert sum(r.included_requests for r in rows) == truth[KIND_INCLUDED]
    assert statuses(sim, DAILY_USAGE) == [200]


# --- oldest event ---------------------------------------------------------------------------


def oldest_truth(sim: CursorSimulator) -> datetime:
    return min(from_ms(int(w["timestamp"])) for w in sim.wire_events(NOW - timedelta(400), NOW))


def test_oldest_event_is_found_at_the_retention_floor(connect: Connect) -> None:
    sim = make_sim(users=20, days=40, retention_days=20)
    oldest = connect(sim).oldest_event_at(NOW)
    floor = NOW - timedelta(days=20)  # retention keeps ts >= now - 20 days
    assert oldest == oldest_truth(sim)
    assert oldest is not None and floor <= oldest < floor + timedelta(hours=1)
    assert len(sim.calls) <= 4  # walks back window by window, not page by page


def test_oldest_event_is_found_at_the_start_of_a_short_history(connect: Connect) -> None:
    sim = make_sim(days=10)
    oldest = connect(sim).oldest_event_at(NOW)
    first_day = datetime(2026, 11, 15, tzinfo=UTC)  # history starts 10 whole days back
    assert oldest == oldest_truth(sim)
    assert oldest is not None and first_day <= oldest < first_day + timedelta(days=1)


def test_a_team_without_events_has_no_oldest_event(connect: Connect) -> None:
    sim = make_sim(events_per_user_day=0.0)
    assert connect(sim).oldest_event_at(NOW) is None


# --- faults ---------------------------------------------------------------------------------


def test_429_with_retry_after_waits_as_told_then_succeeds(connect: Connect) -> None:
    sim, sleeps = make_sim(), Sleeps()
    source = connect(sim, sleep=sleeps)
    sim.faults.fail_next(429, path=MEMBERS, retry_after=7)
    assert len(source.members()) == 10
    assert sleeps.calls == [7.0]
    assert statuses(sim, MEMBERS) == [429, 200]
    assert source.client.stats.rate_limited == 1 and source.client.stats.retries == 1


def test_429_without_retry_after_backs_off_exponentially(connect: Connect) -> None:
    sim, sleeps = make_sim(), Sleeps()
    source = connect(sim, sleep=sleeps, backoff_initial_seconds=0.5)
    sim.faults.fail_next(429, count=2, path=USAGE_EVENTS)
    events = records(read_all(source, NOW - timedelta(days=2), END))
    assert len(events) == len(sim.wire_events(NOW - timedelta(days=2), END))
    assert len(sleeps.calls) == 2
    assert 0.5 <= sleeps.calls[0] <= 1.0 and 1.0 <= sleeps.calls[1] <= 1.5
    assert statuses(sim, USAGE_EVENTS)[:3] == [429, 429, 200]


def test_persistent_429_gives_up_with_rate_limited_error(connect: Connect) -> None:
    sim = make_sim()
    source = connect(sim, max_attempts=3)
    sim.faults.fail_next(429, count=3, path=SPEND, retry_after=1)
    with pytest.raises(RateLimitedError):
        source.spend()
    assert statuses(sim) == [429, 429, 429]


@pytest.mark.parametrize("status", [500, 502, 503, 504])
def test_server_errors_mid_read_are_retried_and_nothing_is_lost(
    connect: Connect, status: int
) -> None:
    sim, sleeps = make_sim(), Sleeps()
    source = connect(sim, page_size=100, sleep=sleeps)
    start = NOW - timedelta(days=5)
    pages: list[EventPage] = []
    for page in source.usage_event_pages(start, END):
        pages.append(page)
        if page.page == 2:
            sim.faults.fail_next(status, path=USAGE_EVENTS)
    assert len(pages) > 3
    assert triples(records(pages)) == triples(records(read_all(source, start, END)))
    assert total(records(pages)) == sim.charged_cents(start, END)["total"]
    assert statuses(sim).count(status) == 1 and statuses(sim)[2] == status
    assert len(sleeps.calls) == 1 and source.client.stats.retries == 1


def test_persistent_server_errors_give_up_with_unavailable_error(connect: Connect) -> None:
    sim = make_sim()
    source = connect(sim, max_attempts=3)
    sim.faults.fail_next(503, count=5)
    with pytest.raises(UnavailableError, match="failed 3 times"):
        source.members()
    assert statuses(sim) == [503, 503, 503]


@pytest.mark.parametrize("route", [MEMBERS, USAGE_EVENTS, SPEND, DAILY_USAGE])
def test_a_malformed_body_is_an_error_and_is_not_retried(connect: Connect, route: str) -> None:
    sim = make_sim()
    source = connect(sim)
    sim.faults.malform_next(path=route)
    calls: dict[str, Callable[[], object]] = {
        MEMBERS: source.members,
        USAGE_EVENTS: lambda: read_all(source, NOW - timedelta(days=2), END),
        SPEND: source.spend,
        DAILY_USAGE: lambda: source.daily_activity(NOW - timedelta(days=2), END),
    }
    with pytest.raises(MalformedResponseError, match="nothing from it was stored"):
        calls[route]()
    assert statuses(sim) == [200]
    assert source.client.stats.retries == 0


def test_a_response_slower_than_the_timeout_is_retried_then_unavailable() -> None:
    sim, sleeps = make_sim(), Sleeps()
    sim.faults.delay_seconds = 0.5
    with running_server(sim) as url:
        options = ClientOptions(base_url=url, rate_limits={}, timeout_seconds=0.2, max_attempts=2)
        with CursorAdminClient(KEY, options, sleep=sleeps) as client:
            started = time.monotonic()
            with pytest.raises(UnavailableError, match="timed out") as caught:
                CursorSource(client).members()
            elapsed = time.monotonic() - started
        assert elapsed >= 0.4  # two attempts, each cut at 0.2 s (the error says "timed out")
        assert len(sleeps.calls) == 1
        deadline = time.monotonic() + 5  # let the slow handlers finish before shutdown
        while len(sim.calls) < 2 and time.monotonic() < deadline:
            time.sleep(0.02)
    assert KEY not in "".join(traceback.format_exception(caught.value))


def test_a_key_revoked_mid_read_stops_with_auth_error_after_the_pages_served(
    connect: Connect,
) -> None:
    sim = make_sim()
    source = connect(sim, page_size=50)
    sim.faults.revoke_after_calls = 3
    pages: list[EventPage] = []
    with pytest.raises(AuthError, match="new key"):
        for page in source.usage_event_pages(NOW - timedelta(days=5), END):
            pages.append(page)
    assert [p.page for p in pages] == [1, 2, 3]
    assert statuses(sim) == [200, 200, 200, 401]  # 401 is never retried


def test_a_key_without_enterprise_access_is_a_plan_error(connect: Connect) -> None:
    sim = make_sim()
    sim.add_key(OTHER_KEY, "no-enterprise")
    source = connect(sim, key=OTHER_KEY)
    with pytest.raises(PlanError, match="Enterprise"):
        source.members()
    with pytest.raises(PlanError):
        read_all(source, NOW - timedelta(days=1), END)
    assert statuses(sim) == [403, 403]


@pytest.mark.parametrize("kind", ["unknown", "analytics"])
def test_an_unknown_or_non_admin_key_is_an_auth_error(connect: Connect, kind: str) -> None:
    sim = make_sim()
    if kind == "analytics":
        sim.add_key(UNKNOWN_KEY, "analytics")
    with pytest.raises(AuthError):
        connect(sim, key=UNKNOWN_KEY).spend()
    assert statuses(sim) == [401]


def secret_forms(key: str) -> tuple[str, ...]:
    return (key, base64.b64encode(f"{key}:".encode()).decode(), key[5:])


def _with_faults(**switches: Any) -> Callable[[CursorSimulator], str]:
    def arrange(sim: CursorSimulator) -> str:
        if "fail" in switches:
            status, retry_after = switches["fail"]
            sim.faults.fail_next(status, count=9, retry_after=retry_after)
        if switches.get("malform"):
            sim.faults.malform_next(count=9)
        if "revoke_after" in switches:
            sim.faults.revoke_after_calls = switches["revoke_after"]
        return KEY

    return arrange


def _no_enterprise(sim: CursorSimulator) -> str:
    sim.add_key(OTHER_KEY, "no-enterprise")
    return OTHER_KEY


SCENARIOS: dict[str, Callable[[CursorSimulator], str]] = {
    "429-retry-after": _with_faults(fail=(429, 1)),
    "429-backoff": _with_faults(fail=(429, None)),
    "503": _with_faults(fail=(503, None)),
    "malformed": _with_faults(malform=True),
    "revoked": _with_faults(revoke_after=1),
    "no-enterprise": _no_enterprise,
    "unknown-key": lambda _sim: UNKNOWN_KEY,
}


@pytest.mark.parametrize("scenario", SCENARIOS)
def test_the_key_never_appears_in_logs_or_errors(
    connect: Connect, caplog: pytest.LogCaptureFixture, scenario: str
) -> None:
    caplog.set_level(logging.DEBUG)
    sim = make_sim()
    key = SCENARIOS[scenario](sim)
    source = connect(sim, key=key, page_size=50, max_attempts=3)
    with pytest.raises(ConnectorError) as caught:
        read_all(source, NOW - timedelta(days=5), END)
    rendered = "".join(traceback.format_exception(caught.value))
    for text in (rendered, caplog.text, repr(source.client), str(caught.value)):
        for secret in secret_forms(key):
            assert secret not in text
    if scenario.startswith(("429", "503")):
        assert "retry" in caplog.text  # the retries were logged, without the key


# --- pacing ---------------------------------------------------------------------------------


def paced_sim() -> CursorSimulator:
    limits = {MEMBERS: 5, DAILY_USAGE: 5, SPEND: 5, USAGE_EVENTS: 5}
    return make_sim(rate_limiting=True, minute_seconds=0.5, rate_limits=limits)


def test_pacing_reads_many_pages_without_a_single_429() -> None:
    sim = paced_sim()
    options = ClientOptions(base_url=BASE_URL, rate_limits={USAGE_EVENTS: 5}, window_seconds=0.5)
    with CursorAdminClient(KEY, options, transport=sim.transport()) as client:
        source = CursorSource(client, events_page_size=20)
        started = time.monotonic()
        pages = list(itertools.islice(source.usage_event_pages(NOW - timedelta(days=5), END), 12))
        elapsed = time.monotonic() - started
        assert len(pages) == 12 and pages[-1].has_next
        assert client.stats.rate_limited == 0 and client.stats.retries == 0
    assert statuses(sim) == [200] * 12
    floor = (12 - 1) // 5 * 0.5  # the 11th request may start one minute after the 1st...
    assert elapsed >= floor  # ...and the 6th one minute after the 1st: 2 minutes of 0.5 s


def test_without_pacing_the_same_read_is_rate_limited_but_recovers() -> None:
    sim = paced_sim()
    options = ClientOptions(base_url=BASE_URL, rate_limits={}, window_seconds=0.5)
    with CursorAdminClient(KEY, options, transport=sim.transport()) as client:
        source = CursorSource(client, events_page_size=20)
        pages = list(itertools.islice(source.usage_event_pages(NOW - timedelta(days=5), END), 12))
        assert len(pages) == 12
        assert client.stats.rate_limited > 0  # the limits are really on
    assert 429 in statuses(sim)
