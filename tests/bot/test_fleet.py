"""Three real `stackspend serve --http` processes on one PostgreSQL database.

They share the Cursor simulator and the fake Slack Web API. The work that falls due is
split between them and done once: each connection's sync, each digest, each alert DM.
Then the replica holding a sync is killed with SIGKILL; another takes the sync over
once its lease expires, and finishes it with the simulator's totals.
"""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager, suppress
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path

import pytest
from sqlalchemy import Engine, func, select

from bot.testing.fake_slack import FakeSlack, SlackUser
from bot.testing.signed_requests import SIGNING_SECRET
from connectors.cursor.endpoints import USAGE_EVENTS
from connectors.cursor.sim_team import SimulatorConfig
from connectors.cursor.simulator import CursorSimulator, running_server
from ledger import migrate
from ledger.accounts import get_or_create_workspace, store_connection
from ledger.budgets import add_budget
from ledger.db import make_engine, session_scope
from ledger.lease import LEASES
from ledger.models import SyncRun, SyncStatus, SyncTrigger
from ledger.rollups import ROLLUPS
from ledger.schedules import add_schedule
from ledger.secrets import SecretBox, generate_secret_key
from tests.bot.test_serve_http import free_port, wait_until_up
from tests.ledger.support import Clock, same_cents

pytestmark = [pytest.mark.slow, pytest.mark.postgres, pytest.mark.timeout(600)]

REPLICAS = 3
WORKSPACES = 6
SYNCED = re.compile(r"scheduled sync of connection (\d+): ")
NOTABLE = re.compile(r" (WARNING|ERROR|CRITICAL) |Traceback|alert")


@dataclass
class Replica:
    process: subprocess.Popen[bytes]
    log: Path
    port: int

    def text(self) -> str:
        return self.log.read_text(errors="replace")

    def synced(self) -> set[int]:
        return {int(n) for n in SYNCED.findall(self.text())}


@dataclass
class Fleet:
    engine: Engine
    box: SecretBox
    sim: CursorSimulator
    clock: Clock
    slack: FakeSlack
    replicas: list[Replica]

    def logs(self) -> str:
        """Each replica's warnings and errors, then the tail of its log."""
        return "\n---\n".join(
            f"replica {i}:\n"
            + "\n".join(line for line in r.text().splitlines() if NOTABLE.search(line))
            + "\n...\n"
            + r.text()[-1500:]
            for i, r in enumerate(self.replicas)
        )

    def wait(self, what: str, done: Callable[[], bool], timeout: float = 120) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if done():
                return
            time.sleep(0.2)
        raise AssertionError(f"timed out waiting for {what}:\n{self.logs()}")

    def runs(self) -> list[SyncRun]:
        with session_scope(self.engine) as session:
            return list(session.execute(select(SyncRun)).scalars().all())

    def ok_runs(self) -> Counter[int]:
        return Counter(r.connection_id for r in self.runs() if r.status == SyncStatus.OK)

    def add_workspace(self, index: int, *, digest: bool) -> int:
        """Workspace T<index>: its own Cursor key, a $1 monthly budget that tells U<index>,
        and (``digest``) a daily digest to C<index> due 20 minutes ago."""
        key = f"key-workspace-{index:04d}-abcdefgh"
        self.sim.add_key(key)
        now = datetime.now(UTC)
        with session_scope(self.engine) as session:
            workspace = get_or_create_workspace(session, team_id=f"T{index}", name=f"T{index}")
            connection = store_connection(
                session,
                workspace=workspace,
                provider="cursor",
                api_key=key,
                box=self.box,
                key_hint=key[-4:],
                connected_by="U0",
                now=now,
            )
            add_budget(
                session,
                workspace,
                amount_cents=100,
                period="month",
                notify_user_ids=[f"U{index}"],
                created_by="U0",
                now=now,
            )
            if digest:
                add_schedule(
                    session,
                    workspace,
                    channel_id=f"C{index}",
                    local_time=(now - timedelta(minutes=20)).time().replace(second=0),
                    cadence="daily",
                    created_by="U0",
                    now=now,
                )
            assert connection.id is not None
            return connection.id

    def ledger_total(self, connection_id: int) -> Decimal:
        with session_scope(self.engine) as session:
            total = session.execute(
                select(func.sum(ROLLUPS.c.charged_cents)).where(
                    ROLLUPS.c.connection_id == connection_id
                )
            ).scalar()
        return Decimal(total or 0)

    def truth(self) -> Decimal:
        start = self.clock.now - timedelta(days=400)
        return self.sim.charged_cents(start, self.clock.now).get("total", Decimal(0))


@contextmanager
def fleet_of(url: str, tmp_path: Path) -> Iterator[Fleet]:
    migrate.upgrade(url)
    engine = make_engine(url)
    secret = generate_secret_key()
    # The simulator's clock stands still: what it serves does not change during the test.
    clock = Clock(datetime.now(UTC).replace(microsecond=0))
    sim = CursorSimulator(
        SimulatorConfig(users=10, days=8, seed=11, rate_limiting=False), clock=clock
    )
    with ExitStack() as stack:
        stack.callback(engine.dispose)  # even when the test fails: no connection left to GC
        slack = stack.enter_context(FakeSlack())
        cursor_url = stack.enter_context(running_server(sim))
        env = {
            **os.environ,
            "STACKSPEND_DATABASE_URL": url,
            "STACKSPEND_SECRET_KEY": secret,
            "STACKSPEND_CURSOR_BASE_URL": cursor_url,
            "STACKSPEND_SLACK_API_URL": slack.base_url,
            "STACKSPEND_LOG_LEVEL": "INFO",
            "STACKSPEND_SYNC_SWEEP_SECONDS": "2",
            "STACKSPEND_RECONCILE_SECONDS": "3",
            "STACKSPEND_SYNC_LEASE_SECONDS": "4",
            "SLACK_BOT_TOKEN": "xoxb-test",
            "SLACK_SIGNING_SECRET": SIGNING_SECRET,
        }
        replicas = []
        for index in range(REPLICAS):
            port = free_port()
            log = tmp_path / f"replica-{index}.log"
            with log.open("wb") as stderr:
                command = [sys.executable, "-m", "bot.cli", "serve", "--http"]
                process = subprocess.Popen(
                    [*command, "--host", "127.0.0.1", "--port", str(port)],
                    env=env,
                    stdout=subprocess.DEVNULL,
                    stderr=stderr,
                    start_new_session=True,  # its chart workers die with it
                )
            replicas.append(Replica(process, log, port))
            stack.callback(_kill, process)
        for replica in replicas:
            wait_until_up(
                f"http://127.0.0.1:{replica.port}/healthz",
                replica.process,
                replica.log,
                timeout=180,
            )
        yield Fleet(engine, SecretBox([secret]), sim, clock, slack, replicas)


def _kill(process: subprocess.Popen[bytes]) -> None:
    """SIGKILL the replica and its chart workers, as when its container dies."""
    with suppress(ProcessLookupError):
        os.killpg(process.pid, signal.SIGKILL)
    process.wait(timeout=30)


def test_three_replicas_split_the_work_do_it_once_and_finish_a_killed_sync(
    postgres_schema_url: str, tmp_path: Path
) -> None:
    with fleet_of(postgres_schema_url, tmp_path) as fleet:
        for index in range(1, WORKSPACES + 2):
            fleet.slack.add_channel(f"C{index}", f"spend-{index}")
            fleet.slack.add_user(
                SlackUser(id=f"U{index}", team_id=f"T{index}", email=f"u{index}@x.test")
            )
        fleet.sim.faults.delay_seconds = 0.25  # a sync lasts a few seconds
        connections = [fleet.add_workspace(i, digest=True) for i in range(1, WORKSPACES + 1)]

        def dms() -> Counter[str]:
            return Counter(
                c.params["channel"]
                for c in fleet.slack.calls_to("chat.postMessage")
                if str(c.params["channel"]).startswith("DU")
            )

        def digests() -> Counter[str]:
            return Counter(
                c.params["channel"]
                for c in fleet.slack.calls_to("chat.postMessage")
                if c.params.get("metadata")
            )

        fleet.wait("every connection synced", lambda: len(fleet.ok_runs()) == WORKSPACES)
        fleet.wait("every digest", lambda: len(digests()) == WORKSPACES)
        fleet.wait("every budget alert", lambda: len(dms()) == WORKSPACES)
        time.sleep(8)  # more sweeps and reconciles on every replica: nothing more happens

        assert fleet.ok_runs() == Counter(dict.fromkeys(connections, 1))
        assert digests() == Counter({f"C{i}": 1 for i in range(1, WORKSPACES + 1)})
        assert dms() == Counter({f"DU{i}": 1 for i in range(1, WORKSPACES + 1)})
        asked = Counter(
            (r.key, r.start, r.end, r.page) for r in fleet.sim.requests if r.path == USAGE_EVENTS
        )
        assert max(asked.values()) == 1, "a Cursor window was read twice"
        by_replica = [r.synced() for r in fleet.replicas]
        # A digest due before its workspace's first scheduled sync syncs it itself.
        by_digests = {r.connection_id for r in fleet.runs() if r.trigger == SyncTrigger.DIGEST}
        assert set().union(*by_replica) | by_digests == set(connections)
        assert sum(1 for synced in by_replica if synced) > 1, by_replica  # the work was split
        for connection_id in connections:
            assert same_cents(fleet.ledger_total(connection_id), fleet.truth())

        # kill -9 the replica in the middle of a long sync: another finishes it.
        fleet.sim.faults.delay_seconds = 0.6
        late = fleet.add_workspace(WORKSPACES + 1, digest=False)

        def holder() -> int | None:
            with session_scope(fleet.engine) as session:
                owner = session.execute(
                    select(LEASES.c.owner).where(LEASES.c.connection_id == late)
                ).scalar()
            pages = max((r.pages for r in fleet.runs() if r.connection_id == late), default=0)
            return int(str(owner).split(":")[1]) if owner and pages >= 2 else None

        fleet.wait("the late connection's sync to be under way", lambda: holder() is not None)
        victim_pid = holder()
        assert victim_pid is not None
        victim = next(r for r in fleet.replicas if r.process.pid == victim_pid)
        _kill(victim.process)
        fleet.sim.faults.delay_seconds = 0.05
        fleet.wait("another replica to finish the killed sync", lambda: fleet.ok_runs()[late] == 1)

        finished = [r for r in fleet.runs() if r.connection_id == late]
        assert sorted(r.status for r in finished) == [SyncStatus.OK, SyncStatus.STOPPED]
        assert same_cents(fleet.ledger_total(late), fleet.truth())
        survivors = [r for r in fleet.replicas if r is not victim]
        assert any(late in r.synced() for r in survivors)
        for replica in survivors:
            replica.process.send_signal(signal.SIGTERM)
        for replica in survivors:
            assert replica.process.wait(timeout=30) == 0, replica.text()[-2000:]
