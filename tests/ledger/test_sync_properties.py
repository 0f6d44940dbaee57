"""Properties of sync: any page sizes, overlaps, duplicated pages and crashes give the truth."""

from __future__ import annotations

import itertools
import os
import signal
import subprocess
import sys
import time
from datetime import timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import Engine, func, select

from connectors.cursor.client import ClientOptions, CursorAdminClient
from connectors.cursor.sim_team import DEMO_API_KEY, SimulatorConfig
from connectors.cursor.simulator import CursorSimulator, running_server
from connectors.cursor.source import CursorSource
from connectors.cursor.windows import settled_end
from ledger import migrate
from ledger.db import make_engine, session_scope
from ledger.ingest import ingest_events
from ledger.lease import LEASES, wall_clock
from ledger.models import SyncRun
from ledger.rollups import ROLLUPS
from tests.ledger.support import NOW, Clock, make_team, same_cents

SYNC_STEPS = st.lists(
    st.tuples(
        st.integers(min_value=1, max_value=400),  # page size
        st.integers(min_value=0, max_value=24 * 6),  # overlap in hours
        st.integers(min_value=0, max_value=30),  # hours the clock moves before the run
    ),
    min_size=1,
    max_size=4,
)


@pytest.mark.slow
@settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(steps=SYNC_STEPS)
def test_any_sequence_of_syncs_gives_the_providers_totals(
    steps: list[tuple[int, int, int]],
) -> None:
    with _fresh_engine() as engine:
        team = make_team(engine, users=5, days=6)
        for page_size, overlap, hours in steps:
            team.clock.advance(hours=hours)
            assert team.sync(page_size=page_size, overlap_hours=overlap or 1).ok
        assert same_cents(team.ledger_total(), team.sim_total())


@settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    page_size=st.integers(min_value=1, max_value=300),
    cuts=st.lists(st.integers(min_value=1, max_value=5 * 24 - 1), max_size=4),
    repeats=st.lists(st.integers(min_value=0, max_value=30), max_size=5),
)
def test_split_windows_and_duplicated_pages_change_nothing(
    page_size: int, cuts: list[int], repeats: list[int]
) -> None:
    """Pages read over any sub-windows, some ingested twice, sum to the simulator's total."""
    with _fresh_engine() as engine:
        team = make_team(engine, users=5, days=5)
        end = settled_end(team.clock.now)
        start = end - timedelta(days=5)
        bounds = [start, *sorted({start + timedelta(hours=c) for c in cuts}), end]
        source = CursorSource(
            CursorAdminClient(
                DEMO_API_KEY,
                ClientOptions(base_url="http://c.test", rate_limits={}),
                transport=team.sim.transport(),
            ),
            events_page_size=page_size,
        )
        pages = [
            page
            for lower, upper in itertools.pairwise(bounds)
            for page in source.usage_event_pages(
                lower, upper - timedelta(milliseconds=1) if upper != end else upper
            )
        ]
        replayed = [pages[i % len(pages)] for i in repeats] if pages else []
        for page in [*pages, *replayed]:
            with session_scope(engine) as session:
                ingest_events(
                    session,
                    connection_id=team.connection_id,
                    tz=ZoneInfo("UTC"),
                    events=page.events,
                )
        assert same_cents(team.ledger_total(), team.sim_total(start, end))


class _fresh_engine:
    """A migrated SQLite file per hypothesis example (fixtures are per test, not per example)."""

    def __enter__(self) -> Engine:
        import tempfile

        self._dir = tempfile.TemporaryDirectory()
        url = f"sqlite:///{self._dir.name}/ledger.db"
        migrate.upgrade(url)
        self._engine = make_engine(url)
        return self._engine

    def __exit__(self, *_: object) -> None:
        self._engine.dispose()
        self._dir.cleanup()


def _rollup_total(engine: Engine) -> object:
    with session_scope(engine) as session:
        return session.execute(select(func.sum(ROLLUPS.c.charged_cents))).scalar()


@pytest.mark.slow
def test_a_sync_killed_mid_run_then_rerun_gives_the_uninterrupted_totals(
    database_url: str, tmp_path: Path
) -> None:
    """SIGKILL a `stackspend sync` subprocess after a few pages; while its lease lives a rerun is
    refused in one line, and once it expired the rerun resumes and completes exactly."""
    clock = Clock(NOW)
    sim = CursorSimulator(
        SimulatorConfig(users=30, days=25, seed=3, rate_limiting=False), clock=clock
    )
    engine = make_engine(database_url)
    team = make_team(engine, clock=clock, users=1)  # workspace + encrypted key in the ledger
    team.sim = sim
    env = {
        **os.environ,
        "STACKSPEND_DATABASE_URL": database_url,
        "STACKSPEND_SECRET_KEY": team.secret,
        "STACKSPEND_SYNC_LEASE_SECONDS": "12",
    }
    with running_server(sim) as base_url:
        env["STACKSPEND_CURSOR_BASE_URL"] = base_url
        sim.faults.delay_seconds = 0.15  # slow enough to be caught mid-run
        command = [sys.executable, "-m", "bot.cli", "sync", "--now", NOW.isoformat()]
        victim = subprocess.Popen(
            command, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
        )
        try:
            _wait_for_pages(engine, at_least=3, timeout=60)
        finally:
            victim.send_signal(signal.SIGKILL)
            victim.wait(timeout=10)
        assert victim.returncode == -signal.SIGKILL
        killed_total = team.ledger_total()
        sim.faults.delay_seconds = 0
        refused = subprocess.run(command, env=env, capture_output=True, text=True, timeout=120)
        _wait_for_lease_expiry(engine, timeout=30)
        rerun = subprocess.run(command, env=env, capture_output=True, text=True, timeout=120)
    assert refused.returncode == 75, refused.stderr
    assert "skipped: a sync has been running since" in refused.stderr
    assert len(refused.stderr.strip().splitlines()) == 1
    assert rerun.returncode == 0, rerun.stderr
    assert 0 < killed_total < team.sim_total()
    assert same_cents(team.ledger_total(), team.sim_total())
    engine.dispose()


def _wait_for_lease_expiry(engine: Engine, *, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with session_scope(engine) as session:
            expiry = session.execute(select(func.max(LEASES.c.expires_at))).scalar()
        if expiry is None or expiry < wall_clock():
            return
        time.sleep(0.1)
    raise AssertionError("the killed sync's lease never expired")


def _wait_for_pages(engine: Engine, *, at_least: int, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with session_scope(engine) as session:
            pages = session.execute(select(func.max(SyncRun.pages))).scalar()
        if (pages or 0) >= at_least:
            return
        time.sleep(0.05)
    raise AssertionError(f"the sync never reached {at_least} pages")
