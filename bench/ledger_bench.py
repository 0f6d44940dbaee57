"""Ledger figures: ingest rate, peak memory of a large sync, report query latency.

1. ingest: pages of neutral usage events (a simulated team of 300 users x 30 days read through
   ``CursorSource`` at page size 1000, kept in memory, not timed) ingested page by page, one
   transaction each, into a freshly migrated SQLite file (and PostgreSQL when it answers).
   Target >= 50,000 events/s on SQLite: the median of ``BENCH_INGEST_RUNS`` (default 3) runs,
   each into a fresh file. The input is moved out of the garbage collector's sight
   (``gc.freeze``): a sync holds one page at a time, and the collector re-scanning 180,000
   held events would be a cost of the benchmark, not of ingest. The same pages are then
   ingested again: every event is unchanged, which is the idempotent re-read path of the sync
   overlap. "database only" replays the statements one ingest sends (event rows and rollup
   deltas prepared beforehand, untimed) with the same transactions: what this machine's
   database costs, whatever the Python around it. On a PostgreSQL server without autovacuum
   the tables are ANALYZEd after the first pages, as auto-analyze would.
2. sync memory: the simulator serves a team of ~``BENCH_SYNC_EVENTS`` (default 1,000,000) visible
   events over localhost HTTP from one child process; a second child migrates a fresh SQLite
   file, stores a connection and runs ``sync_connection`` over it, then reports its own peak
   RSS (VmHWM; ``ru_maxrss`` from ``wait4`` would include this process's peak, see
   ``memory_mb``). Target < 250 MB. When the target is missed, the sync is run once more under
   ``tracemalloc`` (set ``BENCH_TRACEMALLOC=1`` to always do so) and the largest allocation
   sites at the traced peak are printed.
3. report latency: a year of rollups for 1,000 users (no API involved: rows inserted directly,
   day by day as a sync creates them), then ``bot.usecases.reports.report_for`` timed as the bot
   runs it, without its report cache, a fresh session each time: the cycle by user, 30 days by
   model, one person's month by day. p50/p95 over ``BENCH_QUERY_RUNS`` (default 60) runs after
   a warm-up. Target p95 < 50 ms, SQLite and PostgreSQL (ANALYZEd after loading; SQLite is left
   as the app leaves it, never ANALYZEd). A report that misses gets its query plans printed
   and is timed again with candidate fixes applied to the benchmark database only.

PostgreSQL figures use a fresh schema at ``STACKSPEND_TEST_POSTGRES_URL`` (default
``postgresql+psycopg://postgres@127.0.0.1:5432/test``), dropped afterwards; they are skipped,
saying why, when no server answers.
"""

from __future__ import annotations

import gc
import json
import math
import os
import random
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any
from urllib.parse import quote
from zoneinfo import ZoneInfo

import sqlalchemy
from sqlalchemy import Engine, Table, event, func, select

from bot.usecases.reports import report_for
from connectors.cursor.access import CursorAccess
from connectors.cursor.client import ClientOptions
from connectors.cursor.sim_team import DEMO_API_KEY, SimulatorConfig
from connectors.cursor.simulator import CursorSimulator, running_server
from connectors.cursor.windows import settled_end
from connectors.records import KindClass, UsageEvent
from ledger import coarse_rollups, migrate
from ledger.accounts import (
    find_connection,
    find_workspace,
    get_or_create_workspace,
    store_connection,
)
from ledger.db import make_engine, session_scope
from ledger.event_rows import stored_rows
from ledger.ingest import IngestResult, event_insert, ingest_events
from ledger.models import SpendSnapshot, SyncState, SyncTrigger, UsageRollup
from ledger.periods import parse_period
from ledger.queries import Breakdown, Row, Totals, current_cycle, freshness, scope_for
from ledger.rollups import ROLLUP_KEY, ROLLUP_MEASURES, RollupDeltas
from ledger.secrets import SecretBox, generate_secret_key
from ledger.sync import sync_connection
from ledger.types import stored_form

NOW = datetime(2026, 11, 25, 14, 30, tzinfo=UTC)  # a Wednesday; the cycle started Nov 1st
TIMEZONE = "Europe/Paris"
TEAM_ID = "TBENCH"

INGEST_TARGET = 50_000
MEMORY_TARGET_MB = 250
LATENCY_TARGET_MS = 50.0

POSTGRES_URL = os.environ.get(
    "STACKSPEND_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test"
)
PROJECT_ROOT = Path(__file__).resolve().parent.parent

ROLLUPS: Table = UsageRollup.__table__  # type: ignore[attr-defined]
SPEND: Table = SpendSnapshot.__table__  # type: ignore[attr-defined]
STATE: Table = SyncState.__table__  # type: ignore[attr-defined]


def fixed_clock() -> datetime:
    return NOW


def line(name: str, figure: str, target: str, details: str) -> None:
    print(f"{name:<28}{figure:>18}   ({target})   [{details}]")


# --- databases ----------------------------------------------------------------------------


def postgres_unavailable_reason() -> str | None:
    try:
        engine = sqlalchemy.create_engine(POSTGRES_URL, connect_args={"connect_timeout": 3})
        with engine.connect() as connection:
            connection.exec_driver_sql("SELECT 1")
        engine.dispose()
    except Exception as exc:  # any failure to connect means: skip, saying why
        return f"no PostgreSQL answers at {POSTGRES_URL} ({type(exc).__name__})"
    return None


@contextmanager
def sqlite_database() -> Iterator[str]:
    """The URL of a SQLite file in a temporary directory, migrated to head."""
    with tempfile.TemporaryDirectory(prefix="ledger-bench-") as folder:
        url = f"sqlite:///{Path(folder) / 'ledger.db'}"
        migrate.upgrade(url)
        yield url


@contextmanager
def postgres_database() -> Iterator[str]:
    """A PostgreSQL URL whose search_path is a fresh schema (migrated), dropped afterwards."""
    schema = f"bench_{uuid.uuid4().hex[:12]}"
    admin = sqlalchemy.create_engine(POSTGRES_URL)
    with admin.begin() as connection:
        connection.exec_driver_sql(f'CREATE SCHEMA "{schema}"')
    separator = "&" if "?" in POSTGRES_URL else "?"
    try:
        url = f"{POSTGRES_URL}{separator}options={quote(f'-csearch_path={schema}')}"
        migrate.upgrade(url)
        yield url
    finally:
        with admin.begin() as connection:
            connection.exec_driver_sql(f'DROP SCHEMA "{schema}" CASCADE')
        admin.dispose()


def databases() -> Iterator[tuple[str, str]]:
    """(label, migrated URL) for SQLite, then PostgreSQL if it answers (else says why)."""
    with sqlite_database() as url:
        yield "sqlite", url
    reason = postgres_unavailable_reason()
    if reason is not None:
        print(f"{'postgres':<28}{'skipped':>18}   ({reason})")
        return
    with postgres_database() as url:
        yield "postgres", url


def add_connection(engine: Engine, box: SecretBox, timezone: str = TIMEZONE) -> int:
    with session_scope(engine) as session:
        workspace = get_or_create_workspace(session, team_id=TEAM_ID, name="Bench team")
        workspace.timezone = timezone
        connection = store_connection(
            session,
            workspace=workspace,
            provider="cursor",
            api_key=DEMO_API_KEY,
            box=box,
            key_hint="…0000",
            connected_by="UBENCH",
            now=NOW,
        )
        assert connection.id is not None
        return connection.id


# --- 1. ingest rate -----------------------------------------------------------------------


def event_pages(users: int = 300, days: int = 30, page_size: int = 1000) -> list[list[UsageEvent]]:
    """Every page of the team's visible history, as ``CursorSource`` yields them."""
    sim = CursorSimulator(
        SimulatorConfig(users=users, days=days, rate_limiting=False), clock=fixed_clock
    )
    options = ClientOptions(base_url="http://cursor.test", rate_limits={})
    access = CursorAccess(options, sim.transport(), events_page_size=page_size)
    try:
        source = access.source(DEMO_API_KEY)
        start = NOW - timedelta(days=days + 1)
        return [page.events for page in source.usage_event_pages(start, settled_end(NOW))]
    finally:
        access.close()


def ingest_pass(
    engine: Engine,
    connection_id: int,
    pages: list[list[UsageEvent]],
    *,
    analyze_after: int | None = None,
) -> tuple[float, float, IngestResult]:
    """(wall s, this process's CPU s) to ingest every page, one transaction each; the result.

    ``analyze_after``: ANALYZE the event and rollup tables once that many pages are in (what
    autovacuum's auto-analyze does on a server that runs it), inside the timing."""
    tz = ZoneInfo(TIMEZONE)
    total = IngestResult()
    cpu, started = time.process_time(), time.perf_counter()
    for number, events in enumerate(pages, start=1):
        with session_scope(engine) as session:
            total.add(ingest_events(session, connection_id=connection_id, tz=tz, events=events))
        if number == analyze_after:
            with engine.begin() as connection:
                connection.exec_driver_sql("ANALYZE usage_event, usage_rollup")
    return time.perf_counter() - started, time.process_time() - cpu, total


def autovacuum_off(engine: Engine) -> bool:
    if engine.dialect.name != "postgresql":
        return False
    with engine.connect() as connection:
        return connection.exec_driver_sql("SHOW autovacuum").scalar() == "off"


#: On a PostgreSQL server without autovacuum, ANALYZE after this many pages (see bench_ingest).
ANALYZE_AFTER_PAGES = 5


def database_only(engine: Engine, connection_id: int, pages: list[list[UsageEvent]]) -> float:
    """Seconds to send what ``ingest_events`` sends for ``pages`` (all new), one transaction
    each, with every row built beforehand: the database's share of an ingest."""
    form = stored_form(engine.dialect)
    prepared = []
    for events in pages:
        rows = stored_rows(form, connection_id, events)
        deltas = RollupDeltas(ZoneInfo(TIMEZONE))
        deltas.add((event.occurred_at for event in events), rows)
        prepared.append((rows, deltas))
    started = time.perf_counter()
    for rows, deltas in prepared:
        with session_scope(engine) as session:
            connection = session.connection()
            event_insert(engine.dialect).execute(connection, rows)
            deltas.apply(connection, connection_id)
    return time.perf_counter() - started


def ingest_runs() -> int:
    return max(1, int(os.environ.get("BENCH_INGEST_RUNS", "3")))


def bench_ingest() -> None:
    started = time.perf_counter()
    pages = event_pages()
    count = sum(len(events) for events in pages)
    made = time.perf_counter() - started
    print(f"   ingest input: {count:,} events in {len(pages)} pages, read in {made:.1f} s")
    gc.freeze()  # see the module's docstring
    try:
        box = SecretBox([generate_secret_key()])
        bench_sqlite_ingest(pages, count, box)
        reason = postgres_unavailable_reason()
        if reason is not None:
            print(f"{'ingest postgres':<28}{'skipped':>18}   ({reason})")
            return
        with postgres_database() as url:
            engine = make_engine(url)
            try:
                ingest_and_reingest("postgres", engine, add_connection(engine, box), pages, count)
            finally:
                engine.dispose()
    finally:
        gc.unfreeze()


def bench_sqlite_ingest(pages: list[list[UsageEvent]], count: int, box: SecretBox) -> None:
    rates, floors = [], []
    for run in range(ingest_runs()):
        with sqlite_database() as url:
            engine = make_engine(url)
            try:
                connection_id = add_connection(engine, box)
                if run == 0:
                    rates.append(ingest_and_reingest("sqlite", engine, connection_id, pages, count))
                else:
                    wall, _, _ = ingest_pass(engine, connection_id, pages)
                    rates.append(count / wall)
            finally:
                engine.dispose()
        with sqlite_database() as url:
            engine = make_engine(url)
            try:
                floors.append(count / database_only(engine, add_connection(engine, box), pages))
            finally:
                engine.dispose()
    runs = ", ".join(f"{rate:,.0f}" for rate in rates)
    line(
        "ingest sqlite",
        f"{statistics.median(rates):,.0f} events/s",
        f"target >= {INGEST_TARGET:,}",
        f"median of {len(rates)} runs into fresh files: {runs}",
    )
    line(
        "ingest sqlite, database only",
        f"{statistics.median(floors):,.0f} events/s",
        "no target",
        "the same statements and transactions, rows built beforehand; runs: "
        + ", ".join(f"{rate:,.0f}" for rate in floors),
    )


def ingest_and_reingest(
    label: str, engine: Engine, connection_id: int, pages: list[list[UsageEvent]], count: int
) -> float:
    """Ingest every page, then every page again (all unchanged); prints both; the first rate."""
    # A never-analyzed table gives PostgreSQL no statistics to plan a page's key lookups
    # with; a server without autovacuum never gathers them, so do what it would have done.
    analyze_after = ANALYZE_AFTER_PAGES if autovacuum_off(engine) else None
    note = (
        f"; autovacuum is off here: ANALYZE after page {analyze_after}, timed"
        if analyze_after
        else ""
    )
    wall, cpu, result = ingest_pass(engine, connection_id, pages, analyze_after=analyze_after)
    assert result.new == count, result
    rate = count / wall
    line(
        f"ingest {label}" + (", first run" if label == "sqlite" else ""),
        f"{rate:,.0f} events/s",
        "see the median below" if label == "sqlite" else "no target",
        f"{count:,} new events in {len(pages)} pages, {wall:.2f} s; "
        f"{count / cpu:,.0f} events per CPU s of this process{note}",
    )
    wall, cpu, result = ingest_pass(engine, connection_id, pages)
    assert result.new == 0 and result.revised == 0, result
    line(
        f"re-ingest unchanged {label}",
        f"{count / wall:,.0f} events/s",
        "no target",
        f"{count:,} unchanged events, nothing written, {wall:.2f} s; "
        f"{count / cpu:,.0f} events per CPU s",
    )
    return rate


# --- 2. peak memory of a large sync -------------------------------------------------------

#: Visible events per member per day of history, as the simulator draws them (measured: the
#: longer the history, the more removed members stop early).
SIM_EVENTS_PER_USER_DAY = {30: 19.5, 85: 18.3}


def sim_shape(events: int) -> tuple[int, int]:
    """(users, days) of a simulated team holding about ``events`` visible events."""
    days = 85 if events >= 500_000 else 30  # within the simulator's 90 days of retention
    return max(1, round(events / (SIM_EVENTS_PER_USER_DAY[days] * days))), days


def child_command(*args: str) -> list[str]:
    return [sys.executable, "-m", "bench.ledger_bench", *args]


@contextmanager
def simulator_process(users: int, days: int) -> Iterator[dict[str, Any]]:
    """A child process serving the simulated team; yields what it reported (url, build_s...)."""
    proc = subprocess.Popen(
        child_command("serve-sim", str(users), str(days)),
        cwd=PROJECT_ROOT,
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert proc.stdout is not None
        ready = proc.stdout.readline()
        if not ready:
            raise RuntimeError(f"the simulator process exited ({proc.wait()}) before serving")
        yield json.loads(ready)
    finally:
        assert proc.stdin is not None
        proc.stdin.close()  # the child serves until its stdin closes
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


@dataclass(frozen=True)
class ChildRun:
    report: dict[str, Any]
    rusage_mb: float
    wall: float


def memory_mb(field: str = "VmHWM") -> float:
    """This process's peak (VmHWM) or current (VmRSS) resident memory, from /proc.

    Not ``ru_maxrss``: Linux starts a child's maxrss at its parent's high-water mark (the
    parent's pages are mapped into the child until it execs), so a child's rusage says at
    least as much as its parent held, whatever the child itself used.
    """
    try:
        with open("/proc/self/status") as status:
            for entry in status:
                if entry.startswith(field + ":"):
                    return int(entry.split()[1]) / 1024
    except OSError:
        pass
    import resource

    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def run_sync_child(url: str, *, trace: bool = False) -> ChildRun:
    """Run one sync in a child process; it reports its own figures as JSON."""
    with tempfile.TemporaryDirectory(prefix="ledger-bench-sync-") as folder:
        args = ["sync", url, str(Path(folder) / "ledger.db")]
        started = time.perf_counter()
        proc = subprocess.Popen(
            child_command(*args, *(["--trace"] if trace else [])),
            cwd=PROJECT_ROOT,
            stdout=subprocess.PIPE,
            text=True,
        )
        assert proc.stdout is not None
        output = proc.stdout.read()
        _, status, usage = os.wait4(proc.pid, 0)
        proc.returncode = os.waitstatus_to_exitcode(status)
        wall = time.perf_counter() - started
        proc.stdout.close()
    if proc.returncode != 0:
        raise RuntimeError(f"the sync process failed ({proc.returncode}):\n{output}")
    return ChildRun(json.loads(output.splitlines()[-1]), usage.ru_maxrss / 1024, wall)


def bench_sync_memory() -> None:
    wanted = int(os.environ.get("BENCH_SYNC_EVENTS", "1000000"))
    trace = os.environ.get("BENCH_TRACEMALLOC") == "1"
    users, days = sim_shape(wanted)
    with simulator_process(users, days) as sim:
        run = run_sync_child(sim["url"])
        report = run.report
        line(
            "sync peak memory",
            f"{report['peak_mb']:,.1f} MB",
            f"target < {MEMORY_TARGET_MB} MB",
            f"VmHWM of the sync process: {report['baseline_mb']:.0f} MB after imports and "
            f"migrating, highest RSS at page {report['peak_page']:,} of {report['pages']:,}; "
            f"{report['events']:,} events ({report['new']:,} new), status {report['status']}; "
            f"not wait4's ru_maxrss ({run.rusage_mb:,.0f} MB): that starts from the "
            f"bench process's own peak ({memory_mb():,.0f} MB) at spawn",
        )
        line(
            "sync end to end",
            f"{report['events'] / report['sync_s']:,.0f} events/s",
            "no target",
            f"sync_connection {report['sync_s']:.1f} s, process {run.wall:.1f} s; simulator "
            f"{users} users x {days} days, {sim['visible_events']:,} visible events, "
            f"built in {sim['build_s']:.1f} s, {sim['rss_mb']:,.0f} MB, separate process",
        )
        if trace or report["peak_mb"] >= MEMORY_TARGET_MB:
            traced = run_sync_child(sim["url"], trace=True).report
            print(
                f"   tracemalloc: peak traced {traced['traced_peak_mb']:.1f} MB; largest sites "
                f"when traced memory was highest ({traced['snapshot_mb']:.1f} MB):"
            )
            for site in traced["top"]:
                print(f"     {site}")


def serve_sim_child(users: int, days: int) -> None:
    """Child: build the team, report on stdout, serve until stdin closes."""
    started = time.perf_counter()
    config = SimulatorConfig(users=users, days=days, rate_limiting=False)
    sim = CursorSimulator(config, clock=fixed_clock)
    build = time.perf_counter() - started
    floor = NOW - timedelta(days=config.retention_days)
    lo, hi = sim.team.store.bounds(
        int(floor.timestamp() * 1000), int(sim.visible_cutoff().timestamp() * 1000)
    )
    with running_server(sim) as url:
        ready = {
            "url": url,
            "build_s": build,
            "visible_events": hi - lo,
            "rss_mb": memory_mb(),
        }
        print(json.dumps(ready), flush=True)
        sys.stdin.read()


class PageWatch:
    """Called after every stored page: notes when RSS was highest, optionally traces."""

    TRACE_EVERY_PAGES = 50

    def __init__(self, trace: bool) -> None:
        self.pages = 0
        self.peak_rss = 0.0
        self.peak_page = 0
        self._tm: Any = None
        self._best = 0
        self._snapshot: Any = None
        if trace:
            import tracemalloc

            self._tm = tracemalloc
            tracemalloc.start(1)

    def on_page(self, _page: Any, _result: IngestResult) -> None:
        self.pages += 1
        rss = memory_mb("VmRSS")
        if rss > self.peak_rss:
            self.peak_rss, self.peak_page = rss, self.pages
        if self._tm is None or self.pages % self.TRACE_EVERY_PAGES:
            return
        current, _ = self._tm.get_traced_memory()
        if current > self._best + 4 * 2**20 or self._snapshot is None:
            self._best, self._snapshot = current, self._tm.take_snapshot()

    def trace_summary(self) -> dict[str, Any]:
        if self._tm is None:
            return {}
        _, peak = self._tm.get_traced_memory()
        top: list[str] = []
        if self._snapshot is not None:
            for stat in self._snapshot.statistics("lineno")[:12]:
                frame = stat.traceback[0]
                top.append(
                    f"{stat.size / 2**20:8.1f} MB {stat.count:>9,} blocks  "
                    f"{frame.filename}:{frame.lineno}"
                )
        return {"traced_peak_mb": peak / 2**20, "snapshot_mb": self._best / 2**20, "top": top}


def sync_child(url: str, db_path: str, trace: bool) -> None:
    """Child: migrate a fresh SQLite file, connect the simulator, sync it once; report JSON."""
    db_url = f"sqlite:///{db_path}"
    migrate.upgrade(db_url)
    engine = make_engine(db_url)
    box = SecretBox([generate_secret_key()])
    connection_id = add_connection(engine, box)
    access = CursorAccess(ClientOptions(base_url=url, rate_limits={}))
    baseline = memory_mb()
    watch = PageWatch(trace)
    started = time.perf_counter()
    try:
        outcome = sync_connection(
            engine,
            connection_id=connection_id,
            source_for_key=access.source,
            box=box,
            now=NOW,
            trigger=SyncTrigger.MANUAL,
            on_page=watch.on_page,
        )
    finally:
        access.close()
    elapsed = time.perf_counter() - started
    engine.dispose()
    report: dict[str, Any] = {
        "status": outcome.status.value,
        "error": outcome.error,
        "pages": outcome.pages,
        "events": outcome.events.seen,
        "new": outcome.events.new,
        "sync_s": elapsed,
        "baseline_mb": baseline,
        "peak_mb": memory_mb(),
        "peak_page": watch.peak_page,
        **watch.trace_summary(),
    }
    print(json.dumps(report))


# --- 3. report query latency --------------------------------------------------------------

#: (model, share of a member's use, cents per event) for the rollup generator.
ROLLUP_MODELS = (
    ("claude-4.5-sonnet", 0.30, 9.0),
    ("gpt-5", 0.15, 5.0),
    ("auto", 0.18, 3.0),
    ("composer-2.5-fast", 0.14, 2.5),
    ("claude-4.1-opus", 0.05, 45.0),
    ("gemini-2.5-pro", 0.08, 4.0),
    ("grok-code-fast-1", 0.10, 0.6),
)
LEDGER_USERS = 1000
LEDGER_DAYS = 365
CHUNK_ROWS = 20_000


def cents(rng: random.Random, mean: float) -> Decimal:
    """A positive amount of cents near ``mean``, with eight decimal places."""
    return Decimal(int(mean * (0.5 + rng.random()) * 10**8)).scaleb(-8)


@dataclass(frozen=True, slots=True)
class LedgerMember:
    email: str
    activity: float  # share of days with any use
    intensity: float
    weights: list[float]  # preference over ROLLUP_MODELS
    runs_out: int  # day of the month the included allowance runs out (99: never)


def ledger_members(rng: random.Random, users: int) -> list[LedgerMember]:
    return [
        LedgerMember(
            email=f"user{index:04d}@acme.test",
            activity=rng.uniform(0.55, 0.85),
            intensity=rng.uniform(3.0, 5.0) if rng.random() < 0.06 else rng.uniform(0.4, 1.4),
            weights=[m[1] * rng.uniform(0.3, 3.0) for m in ROLLUP_MODELS],
            runs_out=99 if rng.random() < 0.33 else rng.randint(4, 26),
        )
        for index in range(users)
    ]


def kind_classes(rng: random.Random, member: LedgerMember, day: date) -> list[str]:
    """'included' until the member's allowance runs out in the month, 'on_demand' after."""
    if day.day < member.runs_out:
        classes = ["included"]
    elif day.day == member.runs_out:
        classes = ["included", "on_demand"]
    else:
        classes = ["on_demand"]
    if rng.random() < 0.03:  # errored or own-key events
        classes.append("other")
    return classes


def rollup_rows(
    connection_id: int, *, users: int, days: int, last_day: date, seed: int = 11
) -> Iterator[list[dict[str, Any]]]:
    """usage_rollup rows in chunks, day by day as a sync creates them: each member active on
    ~70% of days, 1-4 of 7 models a day, kind classes as ``kind_classes`` says."""
    rng = random.Random(seed)
    members = ledger_members(rng, users)
    models = range(len(ROLLUP_MODELS))
    first_day = last_day - timedelta(days=days - 1)
    chunk: list[dict[str, Any]] = []
    for offset in range(days):
        day = first_day + timedelta(days=offset)
        for member in members:
            if rng.random() >= member.activity:
                continue
            for model in set(rng.choices(models, member.weights, k=rng.randint(1, 4))):
                name, _, per_event = ROLLUP_MODELS[model]
                for kind_class in kind_classes(rng, member, day):
                    events = max(1, int(member.intensity * rng.uniform(2, 40)))
                    inputs = events * rng.randint(2_000, 40_000)
                    charged = (
                        Decimal(0) if kind_class == "other" else cents(rng, events * per_event)
                    )
                    chunk.append(
                        {
                            "connection_id": connection_id,
                            "day": day,
                            "user_email": member.email,
                            "model": name,
                            "kind_class": kind_class,
                            "events": events,
                            "request_units": Decimal(events),
                            "input_tokens": inputs,
                            "output_tokens": inputs // rng.randint(5, 20),
                            "cache_read_tokens": inputs * rng.randint(0, 8),
                            "cache_write_tokens": inputs // rng.randint(2, 10),
                            "charged_cents": charged,
                        }
                    )
        if len(chunk) >= CHUNK_ROWS:
            yield chunk
            chunk = []
    if chunk:
        yield chunk


def stored_rollups(engine: Engine, chunk: list[dict[str, Any]]) -> list[tuple[Any, ...]]:
    """``rollup_rows`` dicts as the rollup upsert's stored rows (what the hook receives)."""
    form = stored_form(engine.dialect)
    money = ("request_units", "charged_cents")
    columns = ("connection_id", *ROLLUP_KEY, *ROLLUP_MEASURES)
    return [
        tuple(
            form.day(row[c]) if c == "day" else form.money(row[c]) if c in money else row[c]
            for c in columns
        )
        for row in chunk
    ]


def build_ledger(engine: Engine, box: SecretBox) -> int:
    """A year of rollups for 1,000 members, spend snapshots and sync state; rows inserted."""
    connection_id = add_connection(engine, box, timezone="UTC")
    rows = 0
    for chunk in rollup_rows(
        connection_id, users=LEDGER_USERS, days=LEDGER_DAYS, last_day=NOW.date()
    ):
        with session_scope(engine) as session:
            session.execute(ROLLUPS.insert(), chunk)
            # the coarse rollups, as the hook in ``RollupDeltas.apply`` keeps them
            coarse_rollups.add_deltas(session.connection(), stored_rollups(engine, chunk))
        rows += len(chunk)
    cycles = (datetime(2026, 10, 1, tzinfo=UTC), datetime(2026, 11, 1, tzinfo=UTC))
    snapshots = [
        {
            "connection_id": connection_id,
            "cycle_start": cycle_start,
            "taken_at": NOW,
            "email": f"user{index:04d}@acme.test",
            "name": f"User {index}",
            "overall_cents": Decimal("1234.5"),
            "on_demand_cents": Decimal("234.5"),
            "included_cents": Decimal(1000),
            "premium_requests": 100,
            "limit_dollars": None,
        }
        for cycle_start in cycles
        for index in range(LEDGER_USERS)
    ]
    with session_scope(engine) as session:
        session.execute(SPEND.insert(), snapshots)
        session.execute(
            STATE.insert(),
            [{"connection_id": connection_id, "events_synced_to": NOW - timedelta(hours=1)}],
        )
    if engine.dialect.name == "postgresql":
        with engine.begin() as connection:
            connection.exec_driver_sql(
                "ANALYZE workspace, connection, sync_state, spend_snapshot, usage_rollup, "
                "usage_rollup_coarse"
            )
    return rows


@dataclass(frozen=True)
class ReportCase:
    label: str
    period: str
    by: str
    user: str | None = None


REPORT_CASES = (
    ReportCase("cycle by user", "cycle", "user"),
    ReportCase("30d by model", "30d", "model"),
    ReportCase("user's month by day", "month", "day", "user0042@acme.test"),
)


def percentile(samples: list[float], fraction: float) -> float:
    ordered = sorted(samples)
    return ordered[max(0, math.ceil(fraction * len(ordered)) - 1)]


def latency(work: Callable[[], int], runs: int) -> tuple[float, float, int]:
    """(p50 ms, p95 ms, what the last run returned) of ``work`` over ``runs`` runs, warmed up."""
    for _ in range(5):
        answer = work()
    samples = []
    for _ in range(runs):
        started = time.perf_counter()
        answer = work()
        samples.append((time.perf_counter() - started) * 1000)
    return percentile(samples, 0.50), percentile(samples, 0.95), answer


def report_as_today(engine: Engine, case: ReportCase) -> Callable[[], int]:
    """One ``report_for`` run, as the bot makes it; returns the rows in the answer."""

    def run() -> int:
        report = report_for(
            engine,
            workspace_ref=TEAM_ID,
            period_text=case.period,
            by=case.by,
            now=NOW,
            user=case.user,
        )
        return len(report.rows)

    return run


MEASURES = (
    "charged_cents",
    "events",
    "input_tokens",
    "output_tokens",
    "cache_read_tokens",
    "cache_write_tokens",
)


def report_conditional_sums(engine: Engine, case: ReportCase) -> Callable[[], int]:
    """What-if: ``report_for`` with one row per key. ``ledger.queries`` groups by the
    dimension and the kind class and folds the kinds in Python; here the rollups are grouped
    by the dimension only, the on-demand and included cents are conditional sums, and the
    totals are the sum of the rows."""
    by = Breakdown.parse(case.by)
    dimension = {
        Breakdown.USER: ROLLUPS.c.user_email,
        Breakdown.MODEL: ROLLUPS.c.model,
        Breakdown.DAY: ROLLUPS.c.day,
        Breakdown.KIND: ROLLUPS.c.kind_class,
    }[by]
    charged = ROLLUPS.c.charged_cents
    cents = func.sum(charged)
    sums = [
        cents,
        *(func.sum(ROLLUPS.c[m]) for m in MEASURES[1:]),
        *(
            func.sum(sqlalchemy.case((ROLLUPS.c.kind_class == kind.value, charged), else_=0))
            for kind in (KindClass.ON_DEMAND, KindClass.INCLUDED)
        ),
    ]

    def run() -> int:
        with session_scope(engine) as session:
            workspace = find_workspace(session, TEAM_ID)
            find_connection(session, workspace)
            scope = scope_for(session, workspace)
            today = NOW.astimezone(scope.tz).date()
            cycle = current_cycle(session, scope, today)
            period = parse_period(case.period, today=today, cycle=cycle)
            freshness(session, scope)
            conditions = [
                ROLLUPS.c.connection_id == scope.connection_id,
                ROLLUPS.c.day >= period.start,
                ROLLUPS.c.day <= period.end,
            ]
            if case.user is not None:
                conditions.append(ROLLUPS.c.user_email == case.user.lower())
            query = (
                select(dimension, *sums)
                .where(*conditions)
                .group_by(dimension)
                .order_by(cents.desc(), dimension)
            )
            fetched = session.execute(query).all()
            summed = [sum(row[i] or 0 for row in fetched) for i in range(1, 9)]
            Totals(
                cents=Decimal(summed[0]),
                on_demand_cents=Decimal(summed[6]),
                included_cents=Decimal(summed[7]),
                events=int(summed[1]),
                input_tokens=int(summed[2]),
                output_tokens=int(summed[3]),
                cache_read_tokens=int(summed[4]),
                cache_write_tokens=int(summed[5]),
            )
            rows = [
                Row(
                    key=key.isoformat() if isinstance(key, date) else str(key),
                    cents=Decimal(total or 0),
                    events=int(events or 0),
                    input_tokens=int(tokens_in or 0),
                    output_tokens=int(tokens_out or 0),
                )
                for key, total, events, tokens_in, tokens_out, *_ in fetched
            ]
            return len(rows)

    return run


def covering_index(engine: Engine) -> None:
    """What-if: an index holding every column the report queries read, led by the day range."""
    stored = ", ".join(MEASURES)
    with engine.connect() as connection:
        connection = connection.execution_options(isolation_level="AUTOCOMMIT")
        if engine.dialect.name == "sqlite":
            connection.exec_driver_sql(
                f"CREATE INDEX ix_bench_rollup_covering ON usage_rollup "
                f"(connection_id, day, user_email, model, kind_class, {stored})"
            )
        else:
            connection.exec_driver_sql(
                f"CREATE INDEX ix_bench_rollup_covering ON usage_rollup (connection_id, day) "
                f"INCLUDE (user_email, model, kind_class, {stored})"
            )
            connection.exec_driver_sql("VACUUM ANALYZE usage_rollup")


def bench_reports() -> None:
    runs = int(os.environ.get("BENCH_QUERY_RUNS", "60"))
    box = SecretBox([generate_secret_key()])
    for label, url in databases():
        engine = make_engine(url)
        try:
            started = time.perf_counter()
            rows = build_ledger(engine, box)
            built = time.perf_counter() - started
            print(
                f"   {label} ledger: {rows:,} usage_rollup rows "
                f"({LEDGER_USERS:,} users x {LEDGER_DAYS} days), built in {built:.1f} s"
            )
            misses = []
            for case in REPORT_CASES:
                p50, p95, answer = latency(report_as_today(engine, case), runs)
                line(
                    f"{case.label} {label}",
                    f"p95 {p95:6.1f} ms",
                    f"target < {LATENCY_TARGET_MS:.0f} ms",
                    f"p50 {p50:.1f} ms over {runs} runs; {answer} rows in the answer",
                )
                if p95 >= LATENCY_TARGET_MS:
                    misses.append(case)
            if misses:
                what_ifs(engine, label, misses, runs)
        finally:
            engine.dispose()


def what_ifs(engine: Engine, label: str, misses: list[ReportCase], runs: int) -> None:
    """Plans of the reports that missed, then the same reports with candidate fixes."""
    for case in misses:
        explain(engine, case)
    print(f"   what-if on this {label} ledger (ledger code unchanged):")
    for case in misses:
        p50, p95, _ = latency(report_conditional_sums(engine, case), runs)
        line(f"  {case.label}", f"p95 {p95:6.1f} ms", "conditional sums", f"p50 {p50:.1f} ms")
    covering_index(engine)
    for case in REPORT_CASES:
        p50, p95, _ = latency(report_as_today(engine, case), runs)
        line(f"  {case.label}", f"p95 {p95:6.1f} ms", "+covering index", f"p50 {p50:.1f} ms")


def report_statements(engine: Engine, case: ReportCase) -> list[tuple[str, Any]]:
    """The SQL (and parameters) that one ``report_for`` run sends about usage_rollup."""
    seen: list[tuple[str, Any]] = []

    def capture(_conn: Any, _cursor: Any, statement: str, parameters: Any, *_: Any) -> None:
        if "usage_rollup" in statement:
            seen.append((statement, parameters))

    event.listen(engine, "before_cursor_execute", capture)
    try:
        report_for(
            engine,
            workspace_ref=TEAM_ID,
            period_text=case.period,
            by=case.by,
            now=NOW,
            user=case.user,
        )
    finally:
        event.remove(engine, "before_cursor_execute", capture)
    return seen


def explain(engine: Engine, case: ReportCase) -> None:
    """The plans of the rollup queries behind a report that missed its target."""
    sqlite = engine.dialect.name == "sqlite"
    prefix = "EXPLAIN QUERY PLAN " if sqlite else "EXPLAIN (ANALYZE, COSTS OFF) "
    print(f"   plans of '{case.label}' ({engine.dialect.name}):")
    for statement, parameters in report_statements(engine, case):
        with engine.connect() as connection:
            plan = connection.exec_driver_sql(prefix + statement, parameters).all()
        print(f"     {' '.join(statement.split())[:110]}...")
        for row in plan:
            print(f"       {row[-1]}")


# --- entry points -------------------------------------------------------------------------


def main() -> None:
    sections: list[tuple[str, Callable[[], None]]] = [
        ("ingest", bench_ingest),
        ("sync memory", bench_sync_memory),
        ("report latency", bench_reports),
    ]
    for name, section in sections:
        started = time.perf_counter()
        print(f"-- {name}")
        section()
        print(f"   ({name}: {time.perf_counter() - started:.1f} s)")


def child_main(argv: list[str]) -> None:
    if argv[0] == "serve-sim":
        serve_sim_child(int(argv[1]), int(argv[2]))
    elif argv[0] == "sync":
        sync_child(argv[1], argv[2], trace="--trace" in argv[3:])
    else:
        raise SystemExit(f"unknown child command {argv[0]!r}")


if __name__ == "__main__":
    if len(sys.argv) > 1:
        child_main(sys.argv[1:])
    else:
        main()
