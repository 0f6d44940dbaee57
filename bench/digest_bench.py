"""Daily digest figures: render time with and without the chart, and the query that feeds it.

A simulated team of ``BENCH_DIGEST_USERS`` (default 200) people over 35 days is synced
through ``CursorSource`` (the simulator as an httpx transport, no rate limits) into a fresh
SQLite file, not timed. Then, over ``BENCH_DIGEST_RUNS`` (default 20) runs after one
warm-up, median and p95 of:

1. inputs: ``digest_inputs`` (top 10) in a fresh session (few grouped queries over rollups).
2. digest without chart: ``compose`` + ``render_blocks`` (what the scheduler posts). Target
   < 20 ms. ``render_text`` and ``render_json`` are timed on their own too.
3. digest with chart: the same plus ``render_chart`` (1200 x 700 PNG). Target < 150 ms.

The first chart render of a process also loads fonts; it is printed apart as "cold".
"""

from __future__ import annotations

import os
import statistics
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

from bench.ledger_bench import TEAM_ID, add_connection
from connectors.cursor.access import CursorAccess
from connectors.cursor.client import ClientOptions
from connectors.cursor.sim_team import SimulatorConfig
from connectors.cursor.simulator import CursorSimulator
from digests.chart import render_chart
from digests.daily import compose
from digests.daily_json import render_json
from digests.daily_render import render_blocks, render_text
from ledger import migrate
from ledger.accounts import find_workspace
from ledger.db import make_engine, session_scope
from ledger.digest_data import DigestInputs, digest_inputs
from ledger.models import SyncTrigger
from ledger.queries import scope_for
from ledger.secrets import SecretBox, generate_secret_key
from ledger.sync import sync_connection

NOW = datetime(2026, 11, 25, 14, 30, tzinfo=UTC)  # a Wednesday; the cycle started Nov 1st
TIMEZONE = "Europe/Paris"
USERS = int(os.environ.get("BENCH_DIGEST_USERS", "200"))
RUNS = int(os.environ.get("BENCH_DIGEST_RUNS", "20"))

WITH_CHART_TARGET_MS = 150.0
WITHOUT_CHART_TARGET_MS = 20.0


def fixed_clock() -> datetime:
    return NOW


def line(name: str, figure: str, target: str, details: str) -> None:
    print(f"{name:<28}{figure:>24}   ({target})   [{details}]")


def timings(run: Callable[[], object], runs: int = RUNS) -> tuple[float, float]:
    """(median ms, p95 ms) of ``runs`` calls after one warm-up call."""
    run()
    samples = []
    for _ in range(runs):
        started = time.perf_counter()
        run()
        samples.append((time.perf_counter() - started) * 1000)
    samples.sort()
    p95 = samples[min(len(samples) - 1, round(0.95 * (len(samples) - 1)))]
    return statistics.median(samples), p95


def synced_inputs(url: str) -> tuple[Callable[[], DigestInputs], int]:
    """A function reading the digest inputs of a freshly synced team, and its event count."""
    engine = make_engine(url)
    box = SecretBox([generate_secret_key()])
    connection_id = add_connection(engine, box, timezone=TIMEZONE)
    sim = CursorSimulator(
        SimulatorConfig(users=USERS, days=35, rate_limiting=False, seed=11), clock=fixed_clock
    )
    access = CursorAccess(
        ClientOptions(base_url="http://cursor.test", rate_limits={}), sim.transport()
    )
    try:
        outcome = sync_connection(
            engine,
            connection_id=connection_id,
            source_for_key=access.source,
            box=box,
            now=NOW,
            trigger=SyncTrigger.MANUAL,
        )
    finally:
        access.close()
    assert outcome.ok, outcome.error

    def read() -> DigestInputs:
        with session_scope(engine) as session:
            scope = scope_for(session, find_workspace(session, TEAM_ID))
            today = NOW.astimezone(scope.tz).date()
            return digest_inputs(session, scope, today=today, top=10, now=NOW)

    return read, outcome.events.seen


def main() -> None:
    with tempfile.TemporaryDirectory(prefix="digest-bench-") as folder:
        url = f"sqlite:///{Path(folder) / 'ledger.db'}"
        migrate.upgrade(url)
        started = time.perf_counter()
        read, events = synced_inputs(url)
        print(
            f"setup: {USERS} users, {events:,} events synced into SQLite "
            f"in {time.perf_counter() - started:.1f} s; {RUNS} runs each"
        )
        inputs = read()

        cold_started = time.perf_counter()
        render_chart(inputs)
        cold_ms = (time.perf_counter() - cold_started) * 1000

        median, p95 = timings(read)
        line("inputs (sqlite)", f"{median:.1f} / {p95:.1f} ms", "median / p95", "digest_inputs")

        def without_chart() -> object:
            return render_blocks(compose(inputs))

        def with_chart() -> object:
            return render_blocks(compose(inputs)), render_chart(inputs)

        median, p95 = timings(without_chart)
        verdict = "ok" if p95 < WITHOUT_CHART_TARGET_MS else "MISSED"
        line(
            "digest without chart",
            f"{median:.2f} / {p95:.2f} ms",
            f"target < {WITHOUT_CHART_TARGET_MS:.0f} ms: {verdict}",
            "compose + render_blocks",
        )
        median, p95 = timings(lambda: render_text(compose(inputs)))
        line("  as text", f"{median:.2f} / {p95:.2f} ms", "median / p95", "compose + render_text")
        median, p95 = timings(lambda: render_json(compose(inputs)))
        line("  as json", f"{median:.2f} / {p95:.2f} ms", "median / p95", "compose + render_json")

        median, p95 = timings(with_chart)
        verdict = "ok" if p95 < WITH_CHART_TARGET_MS else "MISSED"
        png = render_chart(inputs)
        line(
            "digest with chart",
            f"{median:.1f} / {p95:.1f} ms",
            f"target < {WITH_CHART_TARGET_MS:.0f} ms: {verdict}",
            f"+ render_chart 1200x700, {len(png) / 1024:.0f} KiB PNG, "
            f"{len({m for _, m, _ in inputs.daily_by_model})} models",
        )
        line("  first chart (cold)", f"{cold_ms:.0f} ms", "once per process", "fonts loaded")


if __name__ == "__main__":
    main()
