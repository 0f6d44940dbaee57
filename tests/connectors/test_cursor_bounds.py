"""Every call to Cursor is bounded: a total deadline, a size cap, a page cap.

A server that drips its answer, a pager that never ends and a page of a hundred megabytes
each fail within the deadline, with an error that says what happened and never the key;
a sync hit by one keeps what it stored and the next run resumes and ends with the
simulator's totals. The faults come from the simulator, served over real HTTP on
localhost where a socket is involved.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
import time
import traceback
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import Engine, func, select

from connectors.cursor.access import CursorAccess
from connectors.cursor.client import MIB, ClientOptions, CursorAdminClient
from connectors.cursor.endpoints import SPEND, USAGE_EVENTS
from connectors.cursor.sim_faults import Faults, apply_fault_settings
from connectors.cursor.sim_team import SimulatorConfig
from connectors.cursor.simulator import CursorSimulator, running_server
from connectors.cursor.source import CursorSource, EventPage
from connectors.cursor.windows import from_ms, settled_end
from connectors.errors import (
    DeadlineExceededError,
    PagingError,
    RateLimitedError,
    ResponseTooLargeError,
)
from ledger.db import session_scope
from ledger.event_rows import EVENTS
from ledger.ingest import IngestResult
from ledger.models import Connection, ConnectionStatus, SyncState, SyncTrigger
from ledger.sync import SyncOptions, SyncOutcome, sync_connection
from tests.ledger.support import Team, make_team, same_cents

NOW = datetime(2026, 11, 25, 14, 30, tzinfo=UTC)
END = settled_end(NOW)
KEY = "crsr_bounds_test_" + "9a" * 26
ROOT = Path(__file__).resolve().parents[2]

#: Short bounds so that every fault costs a test about two seconds.
DEADLINE = 1.0
BUDGET = 2.0


def bounded(url: str, **options: Any) -> ClientOptions:
    settings: dict[str, Any] = {
        "base_url": url,
        "rate_limits": {},
        "timeout_seconds": 30.0,  # per read: far longer than the deadline, as in production
        "deadline_seconds": DEADLINE,
        "budget_seconds": BUDGET,
        "max_attempts": 3,
        "backoff_initial_seconds": 0.01,
        **options,
    }
    return ClientOptions(**settings)


def make_sim(**config: Any) -> CursorSimulator:
    settings: dict[str, Any] = {"users": 10, "days": 12, "rate_limiting": False, **config}
    sim = CursorSimulator(SimulatorConfig(**settings), clock=lambda: NOW)
    sim.add_key(KEY)
    return sim


@contextmanager
def served_source(sim: CursorSimulator, **options: Any) -> Iterator[CursorSource]:
    """A source reading ``sim`` over real HTTP on localhost, with short bounds."""
    page_size = options.pop("page_size", 100)
    with (
        running_server(sim) as url,
        CursorAdminClient(KEY, bounded(url, **options)) as client,
    ):
        yield CursorSource(client, events_page_size=page_size)


def assert_no_key(error: BaseException) -> None:
    rendered = "".join(traceback.format_exception(error)) + repr(error)
    assert KEY not in rendered and KEY[5:] not in rendered


def read_window(source: CursorSource, pages: list[EventPage]) -> None:
    for page in source.usage_event_pages(NOW - timedelta(days=3), END):
        pages.append(page)


# --- the client: a deadline for the whole request ------------------------------------------


@pytest.mark.parametrize("transport", ["http", "in-process"])
def test_a_dripping_server_fails_within_the_deadline_with_a_named_error(transport: str) -> None:
    sim = make_sim()
    sim.faults.drip_seconds = 0.05  # each byte well within the 30 s read timeout
    if transport == "http":
        with served_source(sim) as source, pytest.raises(DeadlineExceededError) as caught:
            source.members()
    else:
        options = bounded("http://cursor.test")
        client = CursorAdminClient(KEY, options, transport=sim.transport())
        with client, pytest.raises(DeadlineExceededError) as caught:
            CursorSource(client).members()

    # how long it took is a figure of bench/bounds_bench.py
    assert "Cursor did not finish answering /teams/members within" in str(caught.value)
    assert "resume" in str(caught.value)
    assert_no_key(caught.value)


def test_a_server_that_sends_nothing_fails_within_the_deadline() -> None:
    sim = make_sim()
    sim.faults.delay_seconds = 4.0  # silent for longer than the deadline, shorter than a read
    started = time.monotonic()
    with served_source(sim, max_attempts=1) as source, pytest.raises(DeadlineExceededError) as e:
        source.members()
    elapsed = time.monotonic() - started

    assert elapsed >= DEADLINE  # the upper end is a figure of bench/bounds_bench.py
    assert str(e.value).startswith(
        f"Cursor did not finish answering /teams/members within {DEADLINE:g} s (1 attempt)"
    )


def test_retries_of_a_slow_server_stay_within_the_budget_of_one_call() -> None:
    sim = make_sim()
    sim.faults.drip_seconds = 0.05
    with (
        served_source(sim, max_attempts=10, budget_seconds=2.5) as source,
        pytest.raises(DeadlineExceededError, match=r"within the 2\.5 s budget of one call"),
    ):
        source.members()  # how long it took is a figure of bench/bounds_bench.py


def test_a_retry_whose_wait_would_overrun_the_budget_is_not_made() -> None:
    def always_429(_request: httpx.Request) -> httpx.Response:
        return httpx.Response(429, json={"error": "x"}, headers={"Retry-After": "50"})

    waits: list[float] = []
    options = ClientOptions(base_url="http://cursor.test", rate_limits={}, budget_seconds=120)
    client = CursorAdminClient(
        KEY, options, transport=httpx.MockTransport(always_429), sleep=waits.append
    )
    with client, pytest.raises(RateLimitedError, match="stopped by the 120 s budget") as caught:
        client.get_members()
    assert waits == [50.0, 50.0]  # a third wait of 50 s would end past 120 s
    assert "after 3 attempts" in str(caught.value)


# --- the client: a cap on the size of an answer --------------------------------------------


def test_a_huge_page_fails_at_the_size_cap_without_being_read_in_full() -> None:
    sim = make_sim()
    sim.faults.huge_page_mb = 40  # streamed without a Content-Length
    with (
        served_source(sim, max_response_bytes=2 * MIB) as source,
        pytest.raises(ResponseTooLargeError) as caught,
    ):
        list(source.usage_event_pages(NOW - timedelta(days=1), END))

    # how long it took is a figure of bench/bounds_bench.py
    assert str(caught.value).startswith(
        f"Cursor's response to {USAGE_EVENTS} exceeded 2 MiB; reading stopped there"
    )
    assert [status for _, path, status in sim.calls if path == USAGE_EVENTS] == [200]  # no retry
    assert_no_key(caught.value)


def test_an_announced_length_over_the_cap_is_refused_before_reading_the_body() -> None:
    read: list[bytes] = []

    class Body(httpx.SyncByteStream):
        def __iter__(self) -> Iterator[bytes]:
            read.append(b"x")
            yield b"{}"

    def huge(_request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, headers={"Content-Length": str(100 * MIB)}, stream=Body())

    options = ClientOptions(base_url="http://cursor.test", rate_limits={})
    client = CursorAdminClient(KEY, options, transport=httpx.MockTransport(huge))
    with client, pytest.raises(ResponseTooLargeError, match="exceeded 32 MiB") as caught:
        client.get_members()
    assert "announced 100 MiB" in str(caught.value)
    assert read == []


HUGE_PAGE_CHILD = textwrap.dedent(
    """
    import json, resource, sys, time
    from connectors.cursor.client import ClientOptions, CursorAdminClient
    from connectors.errors import ResponseTooLargeError

    url, key = sys.argv[1], sys.argv[2]
    options = ClientOptions(base_url=url, rate_limits={}, deadline_seconds=20.0)
    started = time.monotonic()
    with CursorAdminClient(key, options) as client:
        try:
            client.get_usage_events(start_ms=0, end_ms=1, page=1, page_size=1000)
            error = None
        except ResponseTooLargeError as exc:
            error = str(exc)
    status = open("/proc/self/status").read()
    hwm_kb = next(int(line.split()[1]) for line in status.splitlines() if line.startswith("VmHWM"))
    print(json.dumps({
        "error": error,
        "seconds": time.monotonic() - started,
        "ru_maxrss_kb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss,
        "vm_hwm_kb": hwm_kb,
    }))
    """
)


@pytest.mark.skipif(not Path("/proc/self/status").exists(), reason="reads VmHWM from /proc")
def test_a_100_mb_page_keeps_the_peak_memory_of_a_real_process_under_200_mb() -> None:
    sim = make_sim()
    sim.faults.huge_page_mb = 100
    with running_server(sim) as url:
        child = subprocess.run(
            [sys.executable, "-c", HUGE_PAGE_CHILD, url, KEY],
            cwd=ROOT,
            env={**os.environ, "PYTHONPATH": str(ROOT)},
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )
    assert child.returncode == 0, child.stderr
    report = json.loads(child.stdout)
    # VmHWM is the peak since exec; ru_maxrss may also count the parent's pages at fork time.
    peak_mb = report["vm_hwm_kb"] / 1024
    assert report["error"] is not None and "exceeded 32 MiB" in report["error"]
    assert peak_mb < 200, f"peak RSS {peak_mb:.0f} MB"


# --- the pager: a page count and a page cap ---------------------------------------------


def test_an_endless_pager_fails_within_the_deadline_with_a_named_error() -> None:
    sim = make_sim()
    sim.faults.endless_pages = True  # hasNextPage always, numPages = page + 1
    pages: list[EventPage] = []
    with served_source(sim, page_size=100) as source, pytest.raises(PagingError) as caught:
        read_window(source, pages)

    # how long it took is a figure of bench/bounds_bench.py
    assert [page.page for page in pages] == [1, 2, 3]  # page 4 is the third growth: not handed out
    assert str(caught.value).startswith("Cursor kept reporting more pages of usage events from")
    assert "page count grew from 2 to 5 while pages 1 to 4 were read" in str(caught.value)
    assert "the 3 pages before it are kept" in str(caught.value)
    assert_no_key(caught.value)


def test_an_endless_spend_pager_fails_with_a_named_error() -> None:
    sim = make_sim(users=250, days=2)  # three pages of 100
    sim.faults.endless_pages = True
    with served_source(sim) as source, pytest.raises(PagingError, match="pages of spend") as e:
        source.spend()
    assert "nothing of spend was stored" in str(e.value)
    assert len([path for _, path, _ in sim.calls if path == SPEND]) == 4


def scripted_pages(
    num_pages: Callable[[int], int], has_next: Callable[[int], bool] = lambda _page: True
) -> Callable[[httpx.Request], httpx.Response]:
    """Usage-event pages of one event each, with the page count and next-page flag given."""

    def handler(request: httpx.Request) -> httpx.Response:
        page = json.loads(request.content)["page"]
        event = {"timestamp": str(1_764_000_000_000 + page), "model": "gpt-5", "kind": "Included"}
        return httpx.Response(
            200,
            json={
                "totalUsageEventsCount": num_pages(page),
                "pagination": {"numPages": num_pages(page), "hasNextPage": has_next(page)},
                "usageEvents": [event],
            },
        )

    return handler


def pages_until_error(handler: Callable[[httpx.Request], httpx.Response], **options: Any) -> Any:
    opts = ClientOptions(base_url="http://cursor.test", rate_limits={}, **options)
    client = CursorAdminClient(KEY, opts, transport=httpx.MockTransport(handler))
    source = CursorSource(client, events_page_size=1)
    pages: list[int] = []
    with client, pytest.raises(PagingError) as caught:
        for page in source.usage_event_pages(NOW - timedelta(days=1), END):
            pages.append(page.page)
    return pages, str(caught.value)


def test_more_pages_than_the_reported_page_count_is_a_protocol_error() -> None:
    pages, message = pages_until_error(scripted_pages(lambda _page: 3))
    assert pages == [1, 2]
    assert "Cursor said page 3 of 3 of usage events" in message
    assert "had more pages after it; the 2 pages before it are kept" in message


def test_the_page_cap_stops_a_pager_whose_count_is_vast() -> None:
    pages, message = pages_until_error(scripted_pages(lambda _page: 10**9), max_pages=5)
    assert pages == [1, 2, 3, 4, 5]
    assert "(page 6 of 1,000,000,000) beyond the 5 page cap of one run" in message
    assert "the 5 pages before it are kept and the next sync resumes there" in message


def test_the_default_page_cap_is_five_thousand() -> None:
    assert ClientOptions().max_pages == 5000
    assert ClientOptions().max_response_bytes == 32 * MIB


def test_a_page_count_that_grows_twice_is_tolerated() -> None:
    counts = {1: 4, 2: 5, 3: 6, 4: 6, 5: 6, 6: 6}  # events landing late, then settled
    handler = scripted_pages(counts.__getitem__, lambda page: page < counts[page])
    opts = ClientOptions(base_url="http://cursor.test", rate_limits={})
    with CursorAdminClient(KEY, opts, transport=httpx.MockTransport(handler)) as client:
        source = CursorSource(client, events_page_size=1)
        pages = [p.page for p in source.usage_event_pages(NOW - timedelta(days=1), END)]
    assert pages == [1, 2, 3, 4, 5, 6]


def test_fault_switches_reach_a_simulator_in_another_process() -> None:
    faults = Faults()
    apply_fault_settings(faults, {"drip_seconds": 2, "endless_pages": True, "huge_page_mb": 100})
    assert (faults.drip_seconds, faults.endless_pages, faults.huge_page_mb) == (2.0, True, 100.0)
    apply_fault_settings(faults, {"reset": True})
    assert (faults.drip_seconds, faults.endless_pages, faults.huge_page_mb) == (0.0, False, 0.0)


# --- a sync hit by each fault ------------------------------------------------------------

FAULTS: dict[str, Callable[[Faults], None]] = {
    "dripping server": lambda faults: setattr(faults, "drip_seconds", 0.05),
    "silent server": lambda faults: setattr(faults, "delay_seconds", 4.0),
    "endless pager": lambda faults: setattr(faults, "endless_pages", True),
    "huge page": lambda faults: setattr(faults, "huge_page_mb", 8.0),
}
#: What the failed run's error (the connection's last_error) says.
SAYS: dict[str, str] = {
    "dripping server": "Cursor did not finish answering /teams/filtered-usage-events within",
    "silent server": "Cursor did not finish answering /teams/filtered-usage-events within",
    "endless pager": "Cursor kept reporting more pages of usage events",
    "huge page": "Cursor's response to /teams/filtered-usage-events exceeded 1 MiB",
}


def sync_over_http(
    team: Team, url: str, on_page: Callable[[EventPage, IngestResult], None] | None = None
) -> SyncOutcome:
    options = bounded(url, max_response_bytes=1 * MIB)
    access = CursorAccess(options, events_page_size=100)
    try:
        return sync_connection(
            team.engine,
            connection_id=team.connection_id,
            source_for_key=access.source,
            box=team.box,
            now=team.clock.now,
            trigger=SyncTrigger.MANUAL,
            options=SyncOptions(),
            on_page=on_page,
        )
    finally:
        access.close()


def stored_events(engine: Engine, connection_id: int) -> int:
    with session_scope(engine) as session:
        query = (
            select(func.count()).select_from(EVENTS).where(EVENTS.c.connection_id == connection_id)
        )
        return int(session.execute(query).scalar_one())


@pytest.mark.parametrize("fault", list(FAULTS))
def test_a_fault_fails_the_sync_within_the_deadline_keeps_its_pages_and_the_next_run_resumes(
    sqlite_engine: Engine, fault: str
) -> None:
    team = make_team(sqlite_engine)
    stored: list[EventPage] = []

    def arm_after_the_third_page(page: EventPage, _result: IngestResult) -> None:
        stored.append(page)
        if len(stored) == 3:
            FAULTS[fault](team.sim.faults)

    with running_server(team.sim) as url:
        failed = sync_over_http(team, url, on_page=arm_after_the_third_page)
        kept = stored_events(sqlite_engine, team.connection_id)
        with session_scope(sqlite_engine) as session:
            connection = session.get(Connection, team.connection_id)
            state = session.get(SyncState, team.connection_id)
            assert connection is not None and state is not None
            status, last_error, resume_page = (
                connection.status,
                connection.last_error,
                state.resume_page,
            )
        team.sim.faults.reset()
        resumed = sync_over_http(team, url)

    assert not failed.ok and SAYS[fault] in (failed.error or ""), failed.error
    # how long the failing call took is a figure of bench/bounds_bench.py
    assert KEY not in (failed.error or "")
    assert status == ConnectionStatus.FAILING and last_error == failed.error
    assert failed.pages == len(stored) >= 3
    assert kept == sum(len(page.events) for page in stored) > 0
    assert resume_page == stored[-1].page + 1

    assert resumed.ok, resumed.error
    assert resumed.window_start == from_ms(stored[-1].window_start_ms)  # resumed, not restarted
    assert same_cents(team.ledger_total(), team.sim_total())
