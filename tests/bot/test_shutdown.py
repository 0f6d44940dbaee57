"""SIGTERM (`docker stop`, a deploy) mid-sync: the process leaves promptly and loses nothing.

The sync ends after the page it is committing, its run is marked stopped with its pages
kept, its lease is released (so the next sync starts at once instead of waiting for the
lease to expire), and the next sync resumes where it stopped and ends with Cursor's totals.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path

import httpx
import pytest
from sqlalchemy import Engine, func, select

from bot.testing.fake_slack import FakeSlack
from bot.testing.signed_requests import SIGNING_SECRET
from connectors.cursor.sim_team import SimulatorConfig
from connectors.cursor.simulator import CursorSimulator, running_server
from ledger import migrate
from ledger.db import make_engine, session_scope
from ledger.lease import LEASES
from ledger.models import SyncRun, SyncStatus, UsageEventRow
from ledger.rollups import ROLLUPS
from tests.bot.test_serve_http import free_port, wait_until_up
from tests.ledger.support import NOW, Clock, make_team, same_cents

#: Real processes on a small, busy machine: slow, and given time.
pytestmark = [pytest.mark.slow, pytest.mark.timeout(300)]

#: Each Cursor request takes at least this long, so that a sync lasts well past a few pages.
PAGE_DELAY_SECONDS = 0.3
#: What a stopped sync records as its reason.
STOPPING = "the process was stopping; the next sync resumes from here"


@dataclass
class Ledger:
    """A migrated ledger with one Cursor connection, and the simulator it reads."""

    url: str
    engine: Engine
    sim: CursorSimulator
    clock: Clock
    connection_id: int
    secret: str

    def runs(self) -> list[SyncRun]:
        with session_scope(self.engine) as session:
            return list(session.execute(select(SyncRun).order_by(SyncRun.id)).scalars().all())  # type: ignore[arg-type]

    def pages(self) -> int:
        return max((run.pages for run in self.runs()), default=0)

    def leases(self) -> int:
        with session_scope(self.engine) as session:
            return int(session.execute(select(func.count()).select_from(LEASES)).scalar_one())

    def total(self) -> Decimal:
        with session_scope(self.engine) as session:
            total = session.execute(select(func.sum(ROLLUPS.c.charged_cents))).scalar()
        return Decimal(total or 0)

    def events(self) -> int:
        with session_scope(self.engine) as session:
            return int(
                session.execute(select(func.count()).select_from(UsageEventRow)).scalar_one()
            )

    def truth(self) -> Decimal:
        # The simulator's clock stands still: everything it shows is up to its current hour.
        start = self.clock.now - timedelta(days=400)
        return self.sim.charged_cents(start, self.clock.now).get("total", Decimal(0))

    def wire_events(self) -> int:
        return len(self.sim.wire_events(self.clock.now - timedelta(days=400), self.clock.now))

    def wait_for_pages(self, at_least: int, process: subprocess.Popen[bytes], log: Path) -> int:
        deadline = time.monotonic() + 180
        while time.monotonic() < deadline:
            pages = self.pages()
            if pages >= at_least:
                return pages
            if process.poll() is not None:
                raise AssertionError(f"exited before syncing: {log.read_text()[-3000:]}")
            time.sleep(0.05)
        raise AssertionError(f"the sync never reached {at_least} pages: {log.read_text()[-3000:]}")

    def env(self, cursor_url: str) -> dict[str, str]:
        return {
            **os.environ,
            "STACKSPEND_DATABASE_URL": self.url,
            "STACKSPEND_SECRET_KEY": self.secret,
            "STACKSPEND_CURSOR_BASE_URL": cursor_url,
        }


def ledger_with_a_connection(url: str, clock: Clock) -> Ledger:
    migrate.upgrade(url)
    engine = make_engine(url)
    team = make_team(engine, clock=clock, users=1, days=1)  # workspace T1 and its stored key
    sim = CursorSimulator(
        SimulatorConfig(users=30, days=25, seed=5, rate_limiting=False), clock=clock
    )
    return Ledger(url, engine, sim, clock, team.connection_id, team.secret)


def stop(process: subprocess.Popen[bytes]) -> None:
    if process.poll() is None:
        process.kill()
        process.wait(timeout=30)


@dataclass
class HealthProbe:
    """Asks /healthz every 0.2 s from a thread until stopped; remembers every answer."""

    url: str
    answers: list[int | str] = field(default_factory=list)
    _done: threading.Event = field(default_factory=threading.Event)

    @contextmanager
    def running(self) -> Iterator[HealthProbe]:
        thread = threading.Thread(target=self._probe, daemon=True)
        thread.start()
        try:
            yield self
        finally:
            self._done.set()
            thread.join(timeout=10)

    def _probe(self) -> None:
        while not self._done.wait(0.2):
            try:
                self.answers.append(httpx.get(self.url, timeout=5).status_code)
            except httpx.HTTPError as exc:
                self.answers.append(type(exc).__name__)


def test_sigterm_during_a_sync_exits_within_ten_seconds_and_loses_nothing(tmp_path: Path) -> None:
    """`stackspend serve --http` syncs a never-synced connection at start-up; SIGTERM mid-sync
    ends it after the page in hand: exit 0 within 10 s, run stopped with its pages, no lease
    left, /healthz answered throughout; `stackspend sync` then completes with Cursor's totals."""
    # The bot runs on the real clock; the simulator's stands still at start-up, so what it
    # serves does not change while the test runs, whatever the hour.
    ledger = ledger_with_a_connection(
        f"sqlite:///{tmp_path / 'serve.db'}", Clock(datetime.now(UTC))
    )
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    log = tmp_path / "serve.log"
    serve = [sys.executable, "-m", "bot.cli", "serve", "--http", "--host", "127.0.0.1"]
    with FakeSlack() as slack, running_server(ledger.sim) as cursor_url:
        env = {
            **ledger.env(cursor_url),
            "STACKSPEND_SLACK_API_URL": slack.base_url,
            "STACKSPEND_LOG_LEVEL": "INFO",
            "SLACK_BOT_TOKEN": "xoxb-test",
            "SLACK_SIGNING_SECRET": SIGNING_SECRET,
        }
        ledger.sim.faults.delay_seconds = PAGE_DELAY_SECONDS
        with log.open("wb") as stderr:
            process = subprocess.Popen(
                [*serve, "--port", str(port)], env=env, stdout=subprocess.DEVNULL, stderr=stderr
            )
        try:
            wait_until_up(f"{base}/healthz", process, log, timeout=180)
            with HealthProbe(f"{base}/healthz").running() as probe:
                pages_before = ledger.wait_for_pages(3, process, log)
                total_before = ledger.total()
            process.send_signal(signal.SIGTERM)
            signalled = time.monotonic()
            try:
                code = process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                raise AssertionError(
                    f"still running 10 s after SIGTERM: {log.read_text()[-3000:]}"
                ) from None
            took = time.monotonic() - signalled
        finally:
            stop(process)
        served_log = log.read_text(errors="replace")

        assert code == 0, served_log[-3000:]
        assert took < 10
        assert probe.answers and set(probe.answers) == {200}, probe.answers
        assert ledger.leases() == 0, "the lease outlived the process"
        (run,) = ledger.runs()
        assert (run.trigger, run.status, run.error) == (
            "schedule",
            SyncStatus.STOPPED.value,
            STOPPING,
        )
        assert run.pages >= pages_before
        assert 0 < total_before <= ledger.total() < ledger.truth(), "the stopped run kept its pages"

        ledger.sim.faults.delay_seconds = 0
        rerun = subprocess.run(
            [sys.executable, "-m", "bot.cli", "sync"],
            env=ledger.env(cursor_url),
            capture_output=True,
            text=True,
            timeout=300,
        )
    assert_resumed_exactly(ledger, rerun)


def test_sigterm_during_stackspend_sync_stops_after_the_page_and_the_rerun_completes_exactly(
    database_url: str,
) -> None:
    """`stackspend sync` receiving SIGTERM mid-run ends after the page in hand, promptly, with
    one line saying so; nothing committed is lost and the rerun resumes to Cursor's totals."""
    ledger = ledger_with_a_connection(database_url, Clock(NOW))
    command = [sys.executable, "-m", "bot.cli", "sync", "--now", NOW.isoformat()]
    with running_server(ledger.sim) as cursor_url:
        env = ledger.env(cursor_url)
        ledger.sim.faults.delay_seconds = PAGE_DELAY_SECONDS
        process = subprocess.Popen(
            command, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
        )
        try:
            deadline = time.monotonic() + 180
            while ledger.pages() < 3:
                assert process.poll() is None, process.communicate()
                assert time.monotonic() < deadline, "the sync never reached 3 pages"
                time.sleep(0.05)
            pages_before, total_before = ledger.pages(), ledger.total()
            process.send_signal(signal.SIGTERM)
            signalled = time.monotonic()
            stdout, stderr = process.communicate(timeout=10)
            took = time.monotonic() - signalled
        finally:
            if process.poll() is None:
                process.kill()
                process.communicate(timeout=30)
        (run,) = ledger.runs()
        assert process.returncode == 128 + signal.SIGTERM, stderr  # 143: stopped by SIGTERM
        assert took < 10
        assert stdout == ""
        assert stderr.splitlines() == [f"T1: sync stopped after {run.pages} pages: {STOPPING}"]
        assert ledger.leases() == 0, "the lease outlived the process"
        assert (run.trigger, run.status, run.error) == ("cli", SyncStatus.STOPPED.value, STOPPING)
        assert run.pages >= pages_before
        assert 0 < total_before <= ledger.total() < ledger.truth()

        ledger.sim.faults.delay_seconds = 0
        rerun = subprocess.run(command, env=env, capture_output=True, text=True, timeout=300)
    assert_resumed_exactly(ledger, rerun)  # at once: no lease to wait for


def assert_resumed_exactly(ledger: Ledger, rerun: subprocess.CompletedProcess[str]) -> None:
    """The rerun resumed where the stopped sync left off and ends with Cursor's totals."""
    assert rerun.returncode == 0, rerun.stderr
    assert rerun.stdout.startswith("T1: synced "), rerun.stdout
    assert same_cents(ledger.total(), ledger.truth())
    assert ledger.events() == ledger.wire_events()
    resumed = ledger.runs()[-1]
    assert resumed.status == SyncStatus.OK.value
    assert resumed.events_seen < ledger.wire_events(), "the rerun started over instead of resuming"
    ledger.engine.dispose()
