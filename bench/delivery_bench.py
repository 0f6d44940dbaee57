"""Digest delivery figure: 1,000 workspaces whose digests fall due in the same minute.

Each workspace has a connection synced an hour ago, 30 days of rollups for a few people
and a daily 09:00 UTC digest with its chart. At 09:00:30 every schedule is delivered by the
scheduler's thread pool (as its cron jobs would fire) to the fake Slack Web API; then the
catch-up pass runs again, as after a restart. Target: all delivered in under 60 s, each
channel receiving exactly one digest and one chart.
"""

from __future__ import annotations

import random
import tempfile
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from datetime import time as time_of_day
from decimal import Decimal

from bench.ledger_bench import line
from bot.assembly import assemble, chart_pool, core_services
from bot.settings import Settings
from bot.slack.client import slack_client
from bot.testing.fake_slack import FakeSlack
from connectors.cursor.access import CursorAccess
from connectors.cursor.client import ClientOptions
from ledger import migrate
from ledger.db import make_engine, session_scope
from ledger.models import (
    Cadence,
    Connection,
    DigestSchedule,
    SpendSnapshot,
    SyncState,
    UsageRollup,
    Workspace,
)
from ledger.secrets import generate_secret_key

WORKSPACES = 1000
PEOPLE = 5
MODELS = ("claude-4.5-sonnet", "gpt-5", "composer-2.5-fast")
DUE = datetime(2026, 11, 25, 9, 0, tzinfo=UTC)
TARGET_SECONDS = 60.0
WORKERS = 8


def build(
    engine_url: str, *, workspaces: int = WORKSPACES, people: int = PEOPLE, chart: bool = True
) -> list[int]:
    """Workspaces with a synced connection, 30 days of rollups and a digest due at 09:00."""
    engine = make_engine(engine_url)
    rng = random.Random(5)
    schedule_ids: list[int] = []
    with session_scope(engine) as session:
        for index in range(workspaces):
            workspace = Workspace(slack_team_id=f"T{index:05d}", name=f"Team {index}")
            session.add(workspace)
            session.flush()
            assert workspace.id is not None
            connection = Connection(
                workspace_id=workspace.id,
                encrypted_key="-",
                key_hint="…0000",
                last_success_at=DUE - timedelta(minutes=30),
                connected_by="U1",
                history_start=DUE - timedelta(days=60),
            )
            session.add(connection)
            session.flush()
            assert connection.id is not None
            session.add(
                SyncState(connection_id=connection.id, events_synced_to=DUE - timedelta(hours=1))
            )
            session.add(
                SpendSnapshot(
                    connection_id=connection.id,
                    cycle_start=datetime(2026, 11, 1, tzinfo=UTC),
                    taken_at=DUE,
                    email="p0@acme.test",
                )
            )
            schedule = DigestSchedule(
                workspace_id=workspace.id,
                channel_id=f"C{index:05d}",
                local_time=time_of_day(9, 0),
                cadence=Cadence.DAILY,
                created_by="U1",
                chart=chart,
            )
            session.add(schedule)
            session.flush()
            assert schedule.id is not None
            schedule_ids.append(schedule.id)
            rows = [
                {
                    "connection_id": connection.id,
                    "day": (DUE - timedelta(days=back)).date(),
                    "user_email": f"p{person}@acme.test",
                    "model": model,
                    "kind_class": "included" if back > 10 else "on_demand",
                    "events": rng.randint(1, 40),
                    "request_units": Decimal(3),
                    "input_tokens": 1000,
                    "output_tokens": 100,
                    "cache_read_tokens": 0,
                    "cache_write_tokens": 0,
                    "charged_cents": Decimal(rng.randint(10, 5000)) / 10,
                }
                for back in range(1, 31)
                for person in range(people)
                for model in MODELS
            ]
            session.execute(UsageRollup.__table__.insert(), rows)  # type: ignore[attr-defined]
    engine.dispose()
    return schedule_ids


def main() -> None:
    with tempfile.TemporaryDirectory() as folder, FakeSlack() as slack:
        url = f"sqlite:///{folder}/delivery.db"
        migrate.upgrade(url)
        started = time.perf_counter()
        schedule_ids = build(url)
        elapsed = time.perf_counter() - started
        print(f"{WORKSPACES:,} workspaces with digests due at 09:00 built in {elapsed:.1f} s")
        for index in range(WORKSPACES):
            slack.add_channel(f"C{index:05d}", f"spend-{index}")
        engine = make_engine(url)
        now = DUE + timedelta(seconds=30)

        def no_cursor() -> CursorAccess:
            return CursorAccess(ClientOptions(base_url="http://127.0.0.1:9", rate_limits={}))

        charts_pool = chart_pool()
        settings = Settings(_env_file=None, secret_key=generate_secret_key())
        core = core_services(
            settings,
            engine,
            cursor=no_cursor,
            cursor_check=no_cursor,
            clock=lambda: now,
            charts=charts_pool,
        )
        sender = assemble(settings, core, slack=slack_client("xoxb-bench", slack.base_url)).sender
        services = core
        started = time.perf_counter()
        with ThreadPoolExecutor(WORKERS) as pool:
            outcomes = Counter(pool.map(lambda sid: sender.deliver_due(sid, now=now), schedule_ids))
        elapsed = time.perf_counter() - started
        again = Counter(sender.catch_up(now + timedelta(seconds=60)).values())
        posts = Counter(c.params["channel"] for c in slack.calls_to("chat.postMessage"))
        charts = Counter(
            c.params.get("channel_id") for c in slack.calls_to("files.completeUploadExternal")
        )
        services.workers.shutdown()
        charts_pool.shutdown()
        engine.dispose()
    duplicates = sum(1 for count in posts.values() if count > 1)
    missed = WORKSPACES - len(posts)
    line(
        "1,000 digests due at once",
        f"{elapsed:.1f} s",
        f"< {TARGET_SECONDS:.0f} s",
        f"{WORKERS} workers; outcomes {dict(outcomes)}; duplicates {duplicates}, missed {missed}, "
        f"charts {len(charts)}; a second pass: {dict(again)}",
    )
