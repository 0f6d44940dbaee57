"""Syncs racing each other: CLI processes, `/spend cursor sync`, timezone changes and kills.

Each seed draws an interleaving of real `python -m bot.cli sync` processes (reading a
simulator served over real HTTP), manual syncs through the Slack command, timezone changes
through `/spend settings timezone`, and a SIGKILL of whichever CLI process is mid-sync. At
least two sync processes always run at once. Whatever the order, once a final sync has run
(after the killed process's lease expired):

- the ledger's totals are the simulator's, to the cent;
- the rollups are exactly what a clean rebuild from the raw events gives in the final zone;
- no run is left ``running``, and each run killed mid-sync is marked stopped with its pages;
- every refused sync was refused cleanly (exit 75 and one line; the Slack "already running"
  answer), and nobody in Slack ever got the generic apology.
"""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import Engine, func, select
from sqlmodel import Session

from bot.slack.errors import SORRY
from bot.testing.fake_slack import FakeSlack
from bot.usecases.connect import connect_cursor
from bot.usecases.syncs import sync_one
from connectors.cursor.sim_team import DEMO_API_KEY
from connectors.cursor.simulator import running_server
from connectors.cursor.windows import settled_end
from ledger import migrate
from ledger.db import make_engine, session_scope
from ledger.lease import INTERRUPTED, LEASES, wall_clock
from ledger.models import SyncRun, SyncStatus, SyncTrigger, Workspace
from ledger.rollups import ROLLUPS, rebuild_rollups
from ledger.secrets import SecretBox, generate_secret_key
from ledger.sync import SyncOptions
from tests.bot.harness import ADMIN, Harness, build_harness
from tests.ledger.support import same_cents

#: Short, so that a killed process's lease expires within the test.
LEASE_SECONDS = 8
#: Each Cursor request takes at least this long: a sync lasts several seconds.
PAGE_DELAY_SECONDS = 0.1
#: Zones far apart, so that a rollup bucketed in the wrong one lands on another day.
ZONES = ("Asia/Kolkata", "America/Los_Angeles", "Pacific/Auckland", "Europe/Berlin", "UTC")
#: Generous: this runs real processes on a small, busy machine.
DEADLINE_SECONDS = 120.0

SYNC_OK = ":white_check_mark: Cursor synced"
SYNC_BUSY = "A sync has been running since"
CLI_BUSY = "skipped: a sync has been running since"

PG_SEEDS = (11, 12, 13, 14)
SQLITE_SEEDS = (21, 22)
CASES = [
    pytest.param("postgres", seed, marks=pytest.mark.postgres, id=f"postgres-{seed}")
    for seed in PG_SEEDS
] + [pytest.param("sqlite", seed, id=f"sqlite-{seed}") for seed in SQLITE_SEEDS]


@dataclass
class CliSync:
    """One `python -m bot.cli sync` process; its output goes to files (no pipe can fill)."""

    process: subprocess.Popen[bytes]
    stdout: Path
    stderr: Path
    killed: bool = False

    @property
    def pid(self) -> int:
        return self.process.pid

    def alive(self) -> bool:
        return self.process.poll() is None

    def output(self) -> tuple[str, str]:
        return self.stdout.read_text(errors="replace"), self.stderr.read_text(errors="replace")


@dataclass(frozen=True)
class Killed:
    pid: int
    run_id: int
    pages: int


@dataclass
class Interleaving:
    """The world one seed plays in, and what happened in it (``trace`` explains a failure)."""

    bot: Harness
    connection_id: int
    env: dict[str, str]
    logs: Path
    rng: random.Random
    zone: str
    clis: list[CliSync] = field(default_factory=list)
    slack_syncs: list[str] = field(default_factory=list)
    zone_changes: list[tuple[str, str]] = field(default_factory=list)
    killed_mid_sync: list[Killed] = field(default_factory=list)
    #: The most CLI processes alive at once.
    most_alive: int = 0
    trace: list[str] = field(default_factory=list)

    @property
    def engine(self) -> Engine:
        return self.bot.engine

    @property
    def now(self) -> datetime:
        return self.bot.clock.now

    def note(self, what: str) -> None:
        self.trace.append(f"{time.monotonic():.2f} {what}")

    # Actions -----------------------------------------------------------------------

    def start_cli(self) -> CliSync:
        n = len(self.clis)
        stdout, stderr = self.logs / f"cli{n}.out", self.logs / f"cli{n}.err"
        with stdout.open("wb") as out, stderr.open("wb") as err:
            command = [sys.executable, "-m", "bot.cli", "sync", "--now", self.now.isoformat()]
            process = subprocess.Popen(command, env=self.env, stdout=out, stderr=err)
        cli = CliSync(process, stdout, stderr)
        self.clis.append(cli)
        self.most_alive = max(self.most_alive, sum(c.alive() for c in self.clis))
        self.note(f"cli {n} started (pid {cli.pid}, now {self.now:%d %H:%M})")
        return cli

    def slack_sync(self) -> None:
        _, key = self.bot.command("cursor sync", user=ADMIN)
        self.slack_syncs.append(key)
        self.note(f"/spend cursor sync ({key})")

    def change_timezone(self) -> None:
        # One change in flight at a time, so that the final zone is known.
        self.wait(
            lambda: all(self.replies(key) for _, key in self.zone_changes),
            "the previous timezone change",
        )
        zone = self.rng.choice([z for z in ZONES if z != self.zone])
        _, key = self.bot.command(f"settings timezone {zone}", user=ADMIN)
        self.zone_changes.append((zone, key))
        self.zone = zone
        self.note(f"/spend settings timezone {zone} ({key})")

    def progress(self, pages: int) -> None:
        """Wait until ``pages`` more pages were committed, or nothing is running any more."""
        target = pages_committed(self.engine) + pages
        self.wait(
            lambda: pages_committed(self.engine) >= target or self.quiet(),
            f"{pages} more pages",
        )
        self.note(f"progress: {pages_committed(self.engine)} pages committed")

    def kill_mid_sync(self) -> None:
        """SIGKILL a CLI process after it committed a few pages of its run (start one if needed)."""
        target = self.rng.randint(1, 3)
        deadline = time.monotonic() + DEADLINE_SECONDS
        while time.monotonic() < deadline:
            alive = [cli for cli in self.clis if cli.alive()]
            owner = live_lease_owner(self.engine)
            victim = next((cli for cli in alive if owner and pid_of(owner) == cli.pid), None)
            if victim is not None:
                run = running_run(self.engine)
                if run is not None and run[1] >= target and live_lease_owner(self.engine) == owner:
                    victim.process.send_signal(signal.SIGKILL)
                    victim.process.wait(timeout=30)
                    victim.killed = True
                    status, pages = run_status(self.engine, run[0])
                    self.note(f"killed pid {victim.pid}: run {run[0]} {status} at {pages} pages")
                    if status == SyncStatus.RUNNING.value:
                        self.killed_mid_sync.append(Killed(victim.pid, run[0], pages))
                        return
                    # It finished just before the signal: try again with another process.
            elif not alive and owner is None and self.slack_quiet():
                # Once the history is in, a sync reads two days (two pages): kill after one.
                target = 1
                self.start_cli()
            time.sleep(0.05)
        raise AssertionError(f"no CLI sync could be killed mid-sync:\n{self.story()}")

    def play(self, step: str, amount: int) -> None:
        if step == "cli":
            self.start_cli()
        elif step == "slack":
            self.slack_sync()
        elif step == "tz":
            for _ in range(amount):  # a burst: each change waits for the one before
                self.change_timezone()
        elif step == "kill":
            self.kill_mid_sync()
        elif step == "clock":  # later syncs have new hours to read
            self.bot.clock.advance(hours=amount)
            self.note(f"clock moved {amount} h to {self.now:%d %H:%M}")
        elif step == "cli-syncing":
            self.wait(self.cli_syncing, "a CLI process to hold the lease")
            self.note("a CLI process holds the lease" if self.cli_syncing() else "no CLI alive")
        else:
            assert step == "progress"
            self.progress(amount)

    # Waiting -----------------------------------------------------------------------

    def replies(self, key: str) -> list[str]:
        calls = self.bot.slack.calls_to("response_url")
        return [c.all_text() for c in calls if c.params.get("_key") == key]

    def slack_quiet(self) -> bool:
        def answered(key: str) -> bool:
            return any(
                SYNC_OK in text or SYNC_BUSY in text or ":x:" in text or SORRY in text
                for text in self.replies(key)
            )

        return all(answered(key) for key in self.slack_syncs) and all(
            self.replies(key) for _, key in self.zone_changes
        )

    def cli_syncing(self) -> bool:
        """A CLI process holds the lease (or none is alive to take it)."""
        alive = {cli.pid for cli in self.clis if cli.alive()}
        owner = live_lease_owner(self.engine)
        return not alive or (owner is not None and pid_of(owner) in alive)

    def quiet(self) -> bool:
        return not any(cli.alive() for cli in self.clis) and self.slack_quiet()

    def wait(self, done: Callable[[], bool], what: str) -> None:
        deadline = time.monotonic() + DEADLINE_SECONDS
        while time.monotonic() < deadline:
            if done():
                return
            time.sleep(0.05)
        raise AssertionError(f"gave up waiting for {what}:\n{self.story()}")

    def story(self) -> str:
        lines = list(self.trace)
        for n, cli in enumerate(self.clis):
            out, err = cli.output()
            lines.append(f"cli {n} pid {cli.pid} rc {cli.process.poll()}: {out!r} {err!r}")
        for key in self.slack_syncs + [key for _, key in self.zone_changes]:
            lines.append(f"{key}: {self.replies(key)!r}")
        return "\n".join(lines)


def pid_of(owner: str) -> int:
    """The pid in a lease owner ``host:pid:token/n``."""
    return int(owner.rsplit("/", 1)[0].split(":")[-2])


def pages_committed(engine: Engine) -> int:
    with session_scope(engine) as session:
        return int(session.execute(select(func.coalesce(func.sum(SyncRun.pages), 0))).scalar_one())


def live_lease_owner(engine: Engine) -> str | None:
    with session_scope(engine) as session:
        row = session.execute(select(LEASES.c.owner, LEASES.c.expires_at)).first()
    return row.owner if row is not None and row.expires_at > wall_clock() else None


def running_run(engine: Engine) -> tuple[int, int] | None:
    """(id, pages) of the newest run still marked running."""
    with session_scope(engine) as session:
        row = session.execute(
            select(SyncRun.id, SyncRun.pages)  # type: ignore[call-overload]
            .where(SyncRun.status == SyncStatus.RUNNING.value)
            .order_by(SyncRun.id.desc())  # type: ignore[union-attr]
        ).first()
    return (int(row.id), int(row.pages)) if row is not None else None


def run_status(engine: Engine, run_id: int) -> tuple[str, int]:
    with session_scope(engine) as session:
        run = session.get(SyncRun, run_id)
        assert run is not None
        return run.status, run.pages


def session_total(engine: Engine, connection_id: int) -> Decimal:
    with session_scope(engine) as session:
        total = session.execute(
            select(func.sum(ROLLUPS.c.charged_cents)).where(
                ROLLUPS.c.connection_id == connection_id
            )
        ).scalar()
    return Decimal(total or 0)


def rollup_rows(session: Session, connection_id: int) -> list[tuple[Any, ...]]:
    query = (
        select(ROLLUPS)
        .where(ROLLUPS.c.connection_id == connection_id)
        .order_by(*ROLLUPS.primary_key.columns)
    )
    return [tuple(row) for row in session.execute(query).all()]


def rollups_and_clean_rebuild(
    engine: Engine, connection_id: int, zone: str
) -> tuple[list[tuple[Any, ...]], list[tuple[Any, ...]]]:
    """The stored rollups, and a rebuild from the raw events in ``zone`` (rolled back)."""
    with Session(engine) as session:
        stored = rollup_rows(session, connection_id)
        rebuild_rollups(session, connection_id=connection_id, tz=ZoneInfo(zone))
        rebuilt = rollup_rows(session, connection_id)
        session.rollback()
    return stored, rebuilt


def program(rng: random.Random) -> list[tuple[str, int]]:
    """The seed's interleaving: every kind of step once or more, in a random order, with
    random amounts of sync progress in between. Two CLI processes always start together, and
    a burst of timezone changes always lands while one of them is syncing new events."""
    steps = ["cli", "slack", "tz", "kill"]
    steps += rng.choices(["cli", "slack", "tz", "clock"], k=rng.randint(1, 2))
    rng.shuffle(steps)
    planned: list[tuple[str, int]] = []
    for step in steps:
        amount = {"tz": rng.randint(1, 3), "clock": rng.randint(2, 24)}.get(step, 0)
        planned.append((step, amount))
        chance = rng.random()
        if step == "cli" and chance < 0.5:
            planned.append(("cli-syncing", 0))
        elif chance < 0.6:
            planned.append(("progress", rng.randint(1, 4)))
    # The first CLI process gets a twin, new hours to read and timezone changes mid-sync.
    first_cli = planned.index(("cli", 0))
    planned[first_cli : first_cli + 1] = [
        ("clock", rng.randint(72, 200)),
        ("cli", 0),
        ("cli", 0),
        ("cli-syncing", 0),
        ("progress", rng.randint(1, 2)),
        ("tz", rng.randint(4, 6)),
    ]
    return planned


@contextmanager
def interleaving_world(
    url: str, tmp_path: Path, seed: int
) -> Iterator[tuple[Interleaving, Callable[[], Decimal]]]:
    rng = random.Random(seed)
    migrate.upgrade(url)
    engine = make_engine(url)
    with FakeSlack() as slack:
        bot = build_harness(engine, slack, users=30, days=25, future_days=12, seed=seed)
        try:
            secret = generate_secret_key()
            bot.services.box = SecretBox([secret])  # the CLI processes decrypt the same key
            bot.services.sync_options = SyncOptions(lease_ttl=timedelta(seconds=LEASE_SECONDS))
            bot.services.manual_sync_interval = timedelta(0)  # `/spend cursor sync` at will
            access = bot.services.cursor_access()
            connected = connect_cursor(
                engine,
                access=access,
                box=bot.services.box,
                team_id="T1",
                api_key=DEMO_API_KEY,
                connected_by=ADMIN,
                now=bot.clock.now,
            )
            access.close()
            with running_server(bot.sim) as cursor_url:
                env = {
                    **os.environ,
                    "STACKSPEND_DATABASE_URL": url,
                    "STACKSPEND_SECRET_KEY": secret,
                    "STACKSPEND_CURSOR_BASE_URL": cursor_url,
                    "STACKSPEND_SYNC_LEASE_SECONDS": str(LEASE_SECONDS),
                }
                logs = tmp_path / "logs"
                logs.mkdir()
                world = Interleaving(bot, connected.connection_id, env, logs, rng, zone="UTC")

                def truth() -> Decimal:
                    now = bot.clock.now
                    start = now - timedelta(days=400)
                    return bot.sim.charged_cents(start, settled_end(now)).get("total", Decimal(0))

                try:
                    yield world, truth
                finally:
                    for cli in world.clis:
                        if cli.alive():
                            cli.process.kill()
                            cli.process.wait(timeout=30)
        finally:
            bot.close()
            engine.dispose()


@pytest.mark.slow
@pytest.mark.timeout(360)
@pytest.mark.parametrize(("backend", "seed"), CASES)
def test_any_interleaving_of_syncs_timezone_changes_and_kills_ends_with_cursors_totals(
    backend: str, seed: int, request: pytest.FixtureRequest, tmp_path: Path
) -> None:
    if backend == "postgres":
        url = request.getfixturevalue("postgres_schema_url")
    else:
        url = f"sqlite:///{tmp_path / 'ledger.db'}"
    with interleaving_world(url, tmp_path, seed) as (world, truth):
        engine, bot = world.engine, world.bot
        bot.sim.faults.delay_seconds = PAGE_DELAY_SECONDS
        steps = program(world.rng)
        world.note(f"program: {steps}")
        for step, amount in steps:
            world.play(step, amount)

        # Let everything finish; only a killed process may have left its lease behind.
        world.wait(world.quiet, "every sync and command to finish")
        owner = live_lease_owner(engine)
        assert owner is None or pid_of(owner) in {c.pid for c in world.clis if c.killed}, (
            f"a lease outlived its sync: {owner}\n{world.story()}"
        )
        world.wait(lambda: live_lease_owner(engine) is None, "the killed sync's lease to expire")

        bot.sim.faults.delay_seconds = 0
        access = bot.services.cursor_access()
        try:
            final = sync_one(
                engine,
                connection_id=world.connection_id,
                access=access,
                box=bot.services.box,
                now=bot.clock.now,
                trigger=SyncTrigger.MANUAL,
                options=bot.services.sync_options,
            )
        finally:
            access.close()
        story = world.story()
        assert final.ok, f"{final.error}\n{story}"

        # The ledger is Cursor's truth, and its rollups a clean rebuild in the final zone.
        with session_scope(engine) as session:
            stored_zone = session.execute(select(Workspace)).scalar_one().timezone
            leases = session.execute(select(func.count()).select_from(LEASES)).scalar_one()
            runs = session.execute(select(SyncRun)).scalars().all()
        assert stored_zone == world.zone, story
        ledger_total = session_total(engine, world.connection_id)
        assert same_cents(ledger_total, truth()), f"{ledger_total} != {truth()}\n{story}"
        stored, rebuilt = rollups_and_clean_rebuild(engine, world.connection_id, world.zone)
        assert stored == rebuilt, story
        assert leases == 0, story

        # No run is left running; each killed one is stopped with the pages it committed.
        assert [r.id for r in runs if r.status == SyncStatus.RUNNING.value] == [], story
        by_id = {r.id: r for r in runs}
        assert world.killed_mid_sync, story
        for killed in world.killed_mid_sync:
            run = by_id[killed.run_id]
            assert (run.status, run.error) == (SyncStatus.STOPPED.value, INTERRUPTED), story
            assert run.pages == killed.pages >= 1, story

        # Every refusal was clean: exit 75 and one line, or the Slack "already running" answer.
        for cli in world.clis:
            out, err = cli.output()
            code = cli.process.returncode
            if cli.killed:
                assert code == -signal.SIGKILL, story
            elif code == 75:
                assert out == "" and len(err.strip().splitlines()) == 1, story
                assert err.startswith(f"T1: {CLI_BUSY} "), story
            else:
                assert code == 0 and err == "", story
                assert out.startswith("T1: synced "), story
        for key in world.slack_syncs:
            answers = world.replies(key)
            assert any(SYNC_OK in text or SYNC_BUSY in text for text in answers), story
        for zone, key in world.zone_changes:
            assert any(f"Reports now use *{zone}*" in text for text in world.replies(key)), story
        apologies = [c for c in bot.slack.calls if SORRY in c.all_text()]
        assert apologies == [], story
        assert world.most_alive >= 2, story
