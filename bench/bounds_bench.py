"""Bounds figures: how long a call to a misbehaving Cursor takes before it gives up.

The tests assert what happens when Cursor drips, stays silent, pages forever or sends a
huge page (the named error, nothing lost); the time each takes is a figure here, on the
simulator served over real HTTP on localhost:

- the connect modal's key check (``CursorAccess.for_key_check``, as
  ``check_cursor_key`` runs it) against a Cursor that drips a byte every 0.5 s, and one
  silent for 10 s: Slack closes a modal that has no answer within 3 s;
- the client with the short bounds of the tests (1 s deadline, 2 s budget of one call):
  a dripping answer, a silent server, retries of a slow server (2.5 s budget), an endless
  pager and a 40 MB page (2 MiB cap). Target: within the bound plus 1.5 s.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

from bench.ledger_bench import line
from bot.usecases.connect import check_cursor_key
from connectors.cursor.access import KEY_CHECK_TIMEOUT_SECONDS, CursorAccess
from connectors.cursor.client import MIB, ClientOptions, CursorAdminClient
from connectors.cursor.sim_faults import Faults
from connectors.cursor.sim_team import DEMO_API_KEY, SimulatorConfig
from connectors.cursor.simulator import CursorSimulator, running_server
from connectors.cursor.source import CursorSource
from connectors.cursor.windows import settled_end
from connectors.errors import ConnectorError

NOW = datetime(2026, 11, 25, 14, 30, tzinfo=UTC)
MODAL_TARGET_S = 3.0
DEADLINE_S = 1.0
BUDGET_S = 2.0
SLACK_S = 1.5


def simulator(fault: Callable[[Faults], None]) -> CursorSimulator:
    sim = CursorSimulator(
        SimulatorConfig(users=10, days=12, rate_limiting=False), clock=lambda: NOW
    )
    fault(sim.faults)
    return sim


def seconds_until_it_gives_up(call: Callable[[], object]) -> tuple[float, str]:
    started = time.monotonic()
    try:
        call()
        outcome = "answered"
    except ConnectorError as exc:
        outcome = type(exc).__name__
    return time.monotonic() - started, outcome


def key_check(fault: Callable[[Faults], None]) -> tuple[float, str]:
    sim = simulator(fault)
    with running_server(sim) as url:
        access = CursorAccess.for_key_check(url)
        result = seconds_until_it_gives_up(lambda: check_cursor_key(access, DEMO_API_KEY))
        sim.faults.reset()
    return result


def client_call(
    fault: Callable[[Faults], None], read: Callable[[CursorSource], object], **options: Any
) -> tuple[float, str]:
    sim = simulator(fault)
    page_size = options.pop("page_size", 100)
    with running_server(sim) as url:
        settings: dict[str, Any] = {
            "base_url": url,
            "rate_limits": {},
            "timeout_seconds": 30.0,
            "deadline_seconds": DEADLINE_S,
            "budget_seconds": BUDGET_S,
            "max_attempts": 3,
            "backoff_initial_seconds": 0.01,
            **options,
        }
        with CursorAdminClient(DEMO_API_KEY, ClientOptions(**settings)) as client:
            source = CursorSource(client, events_page_size=page_size)
            result = seconds_until_it_gives_up(lambda: read(source))
        sim.faults.reset()
    return result


def drip(seconds: float) -> Callable[[Faults], None]:
    def apply(faults: Faults) -> None:
        faults.drip_seconds = seconds

    return apply


def silent(seconds: float) -> Callable[[Faults], None]:
    def apply(faults: Faults) -> None:
        faults.delay_seconds = seconds

    return apply


def endless(faults: Faults) -> None:
    faults.endless_pages = True


def huge(faults: Faults) -> None:
    faults.huge_page_mb = 40


def events(source: CursorSource) -> object:
    return list(source.usage_event_pages(NOW - timedelta(days=3), settled_end(NOW)))


def main() -> None:
    modal = f"target < {MODAL_TARGET_S:g} s"
    for name, fault in (("drip 0.5 s", drip(0.5)), ("silent 10 s", silent(10))):
        took, outcome = key_check(fault)
        line(
            f"key check, {name}",
            f"{took:.2f} s",
            modal,
            f"{outcome}, key-check bound {KEY_CHECK_TIMEOUT_SECONDS:g} s",
        )

    cases: list[tuple[str, Callable[[], tuple[float, str]], float]] = [
        ("drip 0.05 s", lambda: client_call(drip(0.05), lambda s: s.members()), BUDGET_S),
        (
            "silent 4 s",
            lambda: client_call(silent(4.0), lambda s: s.members(), max_attempts=1),
            DEADLINE_S,
        ),
        (
            "slow, 10 attempts",
            lambda: client_call(
                drip(0.05), lambda s: s.members(), max_attempts=10, budget_seconds=2.5
            ),
            2.5,
        ),
        ("endless pager", lambda: client_call(endless, events), DEADLINE_S),
        (
            "40 MB page",
            lambda: client_call(huge, events, max_response_bytes=2 * MIB),
            DEADLINE_S,
        ),
    ]
    for name, run, bound in cases:
        took, outcome = run()
        line(f"client, {name}", f"{took:.2f} s", f"target < {bound + SLACK_S:g} s", outcome)


if __name__ == "__main__":
    main()
