"""Cursor connector figures: parse+transform throughput and paced reading efficiency.

1. parse+transform: pages of 1000 usage events, served by the simulator (200 users, 30 days),
   parsed (``wire.read_usage_events_page``) and transformed to neutral records.
   Target >= 100,000 events/s on one core.
2. paced read: the simulator over real localhost HTTP with its rate limits on and a shortened
   minute (``BENCH_MINUTE_SECONDS``, default 2.0), the events route limited to 60 requests a
   minute, and the real client pacing itself with the same minute. N pages are read; the
   floor is the earliest the last request may start, ``((N - 1) // limit) * minute``.
   Target: wall / floor <= 1.10 with zero 429s. The last window's requests run back to back
   (a few ms each) after the floor; with Cursor's real 60-second minute that tail is a
   fraction of a percent, with a one-second minute it is about 12%, hence the 2-second default.
"""

from __future__ import annotations

import itertools
import os
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import httpx

from connectors.cursor import transform, wire
from connectors.cursor.client import ClientOptions, CursorAdminClient
from connectors.cursor.endpoints import MAX_EVENTS_PAGE_SIZE, USAGE_EVENTS
from connectors.cursor.sim_team import DEMO_API_KEY, SimulatorConfig
from connectors.cursor.simulator import CursorSimulator, running_server
from connectors.cursor.source import CursorSource
from connectors.cursor.windows import settled_end, to_ms

NOW = datetime(2026, 11, 25, 14, 30, tzinfo=UTC)
END = settled_end(NOW)
START = NOW - timedelta(days=29)  # one request window (the cap is 30 days)

PARSE_TARGET = 100_000
RATIO_TARGET = 1.10
EVENTS_LIMIT = 60
PACED_PAGE_SIZE = 100


def fixed_clock() -> datetime:
    return NOW


# --- parse + transform --------------------------------------------------------------------


def event_pages(users: int = 200, days: int = 30) -> list[bytes]:
    """Every page (1000 events each) of one 29-day window, as the simulator sends them."""
    config = SimulatorConfig(users=users, days=days, rate_limiting=False)
    sim = CursorSimulator(config, clock=fixed_clock)
    pages: list[bytes] = []
    with httpx.Client(
        transport=sim.transport(), base_url="http://cursor.test", auth=(DEMO_API_KEY, "")
    ) as http:
        for page in itertools.count(1):
            body = {
                "startDate": to_ms(START),
                "endDate": to_ms(END),
                "page": page,
                "pageSize": MAX_EVENTS_PAGE_SIZE,
            }
            response = http.post(USAGE_EVENTS, json=body)
            response.raise_for_status()
            pages.append(response.content)
            if not response.json()["pagination"]["hasNextPage"]:
                return pages
    raise AssertionError("unreachable")  # pragma: no cover


def parse_and_transform(pages: list[bytes]) -> int:
    """What the source does with each page of one window; returns the events made."""
    keyer = transform.EventKeyer()
    made = 0
    for page in pages:
        response = wire.read_usage_events_page(page)
        made += len(list(transform.to_usage_events(response.events, keyer)))
    return made


def best_rate(work: Callable[[], int], trials: int = 3) -> tuple[float, int]:
    """Best items/s over ``trials`` runs of ``work`` (which returns the items it handled)."""
    best, count = 0.0, 0
    for _ in range(trials):
        started = time.perf_counter()
        count = work()
        best = max(best, count / (time.perf_counter() - started))
    return best, count


# --- paced read ---------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class PacedRead:
    pages: int
    wall: float
    floor: float
    rate_limited: int
    served_429: int

    limit: int

    @property
    def ratio(self) -> float:
        return self.wall / self.floor if self.floor else float("inf")

    @property
    def last_batch(self) -> int:
        """Requests that may start at the floor: they run back to back after it."""
        return self.pages - (self.pages - 1) // self.limit * self.limit


def paced_read(pages: int, minute: float, limit: int = EVENTS_LIMIT) -> PacedRead:
    limits = {USAGE_EVENTS: limit}
    config = SimulatorConfig(users=50, days=30, minute_seconds=minute, rate_limits=limits)
    sim = CursorSimulator(config, clock=fixed_clock)
    available = len(sim.wire_events(START, END)) // PACED_PAGE_SIZE
    if available < pages:
        raise RuntimeError(f"the simulated window holds {available} pages, {pages} needed")
    with running_server(sim) as url:
        options = ClientOptions(base_url=url, rate_limits=limits, window_seconds=minute)
        with CursorAdminClient(DEMO_API_KEY, options) as client:
            source = CursorSource(client, events_page_size=PACED_PAGE_SIZE)
            started = time.perf_counter()
            read = sum(1 for _ in itertools.islice(source.usage_event_pages(START, END), pages))
            wall = time.perf_counter() - started
            rate_limited = client.stats.rate_limited
    assert read == pages
    return PacedRead(
        pages=pages,
        wall=wall,
        floor=(pages - 1) // limit * minute,
        rate_limited=rate_limited,
        served_429=sum(1 for _, _, status in sim.calls if status == 429),
        limit=limit,
    )


# --- report -------------------------------------------------------------------------------


def main() -> None:
    minute = float(os.environ.get("BENCH_MINUTE_SECONDS", "2.0"))

    pages = event_pages()
    rate, count = best_rate(lambda: parse_and_transform(pages))
    print(
        f"{'parse+transform':<22}{rate:>12,.0f} events/s   (target >= {PARSE_TARGET:,})"
        f"   [{count:,} events in {len(pages)} pages, best of 3]"
    )

    for n in (3 * EVENTS_LIMIT, 3 * EVENTS_LIMIT + 1):
        result = paced_read(n, minute)
        print(
            f"{f'paced read N={n}':<22}{result.ratio:>12.3f} wall/floor "
            f"(target <= {RATIO_TARGET:.2f})   429s {result.served_429} (target 0)"
            f"   [wall {result.wall:.3f} s, floor {result.floor:.3f} s, "
            f"then {result.last_batch} request(s) in {result.wall - result.floor:.3f} s; "
            f"limit {EVENTS_LIMIT}/{minute:g} s, page size {PACED_PAGE_SIZE}]"
        )


if __name__ == "__main__":
    main()
