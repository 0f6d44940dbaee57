"""Ingest speed against the database's own floor, and the CPU of a whole first sync.

Printed in one run, as ratios (figures of a shared machine are noisy; ratios measured in
the same run are not):

1. floor: plain ``sqlite3`` ``executemany`` of the ledger's event rows (the migrated
   ``usage_event`` table itself: same columns, unique key and pragmas, WAL), 1,000-row
   transactions; and on PostgreSQL a ``COPY`` of the same rows into a fresh ``usage_event``.
2. API pages: 1,000 neutral events a page, one transaction each with the rollups and the
   resume point (``sync_state``), as a sync writes them.
3. bulk: ``ingest_events`` over 20,000-event batches (an import's transactions) with
   ``bulk=True`` where the code has it.
4. first sync: the CPU time (``time.process_time``) a sync process spends per event over a
   simulator in another process (limits and pacer off), split between reading (HTTP, JSON,
   transform: the time inside the source's page iterator) and writing (the rest).

Every measurement runs in a child process with the code of a project root: this worktree
and, for "before" figures, ``BENCH_BASELINE_ROOT`` (e.g. a checkout of main; skipped when
unset or missing). Events of the ingest figures come from the simulator (300 users x 30
days, ~180k events), read once and pickled for every child. ``BENCH_SYNC_EVENTS``
(default ``200000,1000000``) sets the first-sync sizes.
"""

from __future__ import annotations

import gc
import inspect
import json
import os
import pickle
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve()
ROOT = HERE.parent.parent
BASELINE = os.environ.get("BENCH_BASELINE_ROOT", "/work/main")
POSTGRES_URL = os.environ.get(
    "STACKSPEND_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test"
)
FLOOR_TRANSACTION = 1_000
BULK_BATCH = 20_000


def child(root: Path, *args: str, script: Path = HERE) -> dict[str, Any]:
    """Run ``script``'s (this file's) child ``args`` with the code of ``root``; its JSON
    report."""
    env = {**os.environ, "PYTHONPATH": str(root)}
    proc = subprocess.run(
        [sys.executable, str(script), *args],
        cwd=root,
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    if proc.returncode != 0:
        raise RuntimeError(f"child {args} failed:\n{proc.stdout}\n{proc.stderr}")
    return dict(json.loads(proc.stdout.splitlines()[-1]))


# --- children -------------------------------------------------------------------------------


def _pages(path: str) -> list[Any]:
    """The pickled pages, moved out of the garbage collector's sight (``gc.freeze``): a
    sync holds one page at a time, and the collector re-scanning all 180,000 held events
    would be a cost of the benchmark, not of ingest (as in ``ledger_bench``)."""
    with open(path, "rb") as handle:
        pages: list[Any] = pickle.load(handle)
    gc.freeze()
    return pages


def child_make_pages(path: str) -> dict[str, Any]:
    from bench.ledger_bench import NOW, fixed_clock
    from connectors.cursor.access import CursorAccess
    from connectors.cursor.client import ClientOptions
    from connectors.cursor.sim_team import DEMO_API_KEY, SimulatorConfig
    from connectors.cursor.simulator import CursorSimulator
    from connectors.cursor.windows import settled_end

    sim = CursorSimulator(
        SimulatorConfig(users=300, days=30, rate_limiting=False), clock=fixed_clock
    )
    access = CursorAccess(
        ClientOptions(base_url="http://cursor.test", rate_limits={}), sim.transport()
    )
    try:
        source = access.source(DEMO_API_KEY)
        start = NOW - timedelta_days(31)
        pages = list(source.usage_event_pages(start, settled_end(NOW)))
    finally:
        access.close()
    with open(path, "wb") as handle:
        pickle.dump(pages, handle, protocol=pickle.HIGHEST_PROTOCOL)
    return {"events": sum(len(p.events) for p in pages), "pages": len(pages)}


def timedelta_days(days: int) -> Any:
    from datetime import timedelta

    return timedelta(days=days)


class Database:
    """A freshly migrated database (``sqlite`` file or ``postgres`` schema) with a connection."""

    def __init__(self, backend: str) -> None:
        self.backend = backend
        self._folder = tempfile.TemporaryDirectory(prefix="ingest-bench-")
        self._schema: str | None = None

    def __enter__(self) -> tuple[Any, int]:
        from urllib.parse import quote

        from bench.ledger_bench import add_connection
        from ledger import migrate
        from ledger.db import make_engine
        from ledger.secrets import SecretBox, generate_secret_key

        if self.backend == "sqlite":
            self.url = f"sqlite:///{Path(self._folder.name) / 'ledger.db'}"
        else:
            import uuid

            self._schema = f"bench_{uuid.uuid4().hex[:12]}"
            self._admin = make_engine(POSTGRES_URL)
            with self._admin.begin() as connection:
                connection.exec_driver_sql(f'CREATE SCHEMA "{self._schema}"')
            separator = "&" if "?" in POSTGRES_URL else "?"
            option = quote(f"-csearch_path={self._schema}")
            self.url = f"{POSTGRES_URL}{separator}options={option}"
        migrate.upgrade(self.url)
        self.engine = make_engine(self.url)
        self.box = SecretBox([generate_secret_key()])
        return self.engine, add_connection(self.engine, self.box)

    def __exit__(self, *_: object) -> None:
        self.engine.dispose()
        if self._schema is not None:
            with self._admin.begin() as connection:
                connection.exec_driver_sql(f'DROP SCHEMA "{self._schema}" CASCADE')
            self._admin.dispose()
        self._folder.cleanup()


def _analyze_if_needed(engine: Any, pages_done: int) -> None:
    if engine.dialect.name == "postgresql" and pages_done == 5:
        with engine.begin() as connection:
            connection.exec_driver_sql("ANALYZE usage_event, usage_rollup")


def child_floor(pages_path: str, backend: str) -> dict[str, Any]:
    """Rows/s of the database alone: executemany (SQLite) or COPY (PostgreSQL)."""
    from ledger.event_rows import EVENT_COLUMNS, stored_rows
    from ledger.types import stored_form

    pages = _pages(pages_path)
    events = [e for page in pages for e in page.events]
    with Database(backend) as (engine, connection_id):
        rows = stored_rows(stored_form(engine.dialect), connection_id, events)
        columns = ", ".join(EVENT_COLUMNS)
        raw = engine.raw_connection()
        try:
            driver = raw.driver_connection
            assert driver is not None
            cpu, started = time.process_time(), time.perf_counter()
            if backend == "sqlite":
                marks = ", ".join("?" * len(EVENT_COLUMNS))
                sql = f"INSERT INTO usage_event ({columns}) VALUES ({marks})"
                for i in range(0, len(rows), FLOOR_TRANSACTION):
                    driver.execute("BEGIN")
                    driver.executemany(sql, rows[i : i + FLOOR_TRANSACTION])
                    driver.execute("COMMIT")
            else:
                with (
                    driver.cursor() as cursor,
                    cursor.copy(f"COPY usage_event ({columns}) FROM STDIN") as copy,
                ):
                    for row in rows:
                        copy.write_row(row)
                driver.commit()
            seconds, cpu = time.perf_counter() - started, time.process_time() - cpu
        finally:
            raw.close()
    return {"rate": len(rows) / seconds, "cpu_rate": len(rows) / cpu, "rows": len(rows)}


def _supports_bulk() -> bool:
    from ledger.ingest import ingest_events

    return "bulk" in inspect.signature(ingest_events).parameters


def child_api(pages_path: str, backend: str) -> dict[str, Any]:
    """Events/s of API pages: one transaction each with rollups and the resume point."""
    from zoneinfo import ZoneInfo

    from ledger.db import session_scope
    from ledger.ingest import ingest_events
    from ledger.sync_runs import advance_cursor, sync_state

    pages = _pages(pages_path)
    tz = ZoneInfo("Europe/Paris")
    with Database(backend) as (engine, connection_id):
        cpu, started = time.process_time(), time.perf_counter()
        for number, page in enumerate(pages, start=1):
            with session_scope(engine) as session:
                ingest_events(session, connection_id=connection_id, tz=tz, events=page.events)
                advance_cursor(sync_state(session, connection_id), page)
            _analyze_if_needed(engine, number)
        wall, cpu = time.perf_counter() - started, time.process_time() - cpu
    count = sum(len(p.events) for p in pages)
    return {"rate": count / wall, "cpu_rate": count / cpu}


def child_bulk(pages_path: str, backend: str) -> dict[str, Any]:
    """Events/s of 20,000-event batches, one transaction each (an import's shape)."""
    from zoneinfo import ZoneInfo

    from ledger.db import session_scope
    from ledger.ingest import ingest_events

    events = [e for page in _pages(pages_path) for e in page.events]
    tz = ZoneInfo("Europe/Paris")
    extra: dict[str, Any] = {"bulk": True} if _supports_bulk() else {}
    with Database(backend) as (engine, connection_id):
        cpu, started = time.process_time(), time.perf_counter()
        for number, i in enumerate(range(0, len(events), BULK_BATCH), start=1):
            with session_scope(engine) as session:
                batch = events[i : i + BULK_BATCH]
                ingest_events(session, connection_id=connection_id, tz=tz, events=batch, **extra)
            if engine.dialect.name == "postgresql" and number == 1:
                with engine.begin() as connection:
                    connection.exec_driver_sql("ANALYZE usage_event, usage_rollup")
        wall, cpu = time.perf_counter() - started, time.process_time() - cpu
    return {"rate": len(events) / wall, "cpu_rate": len(events) / cpu, "bulk": bool(extra)}


class TimedSource:
    """A source whose usage-event pages are timed in this process's CPU time."""

    def __init__(self, source: Any) -> None:
        self._source = source
        self.read_cpu = 0.0

    def __getattr__(self, name: str) -> Any:
        return getattr(self._source, name)

    def usage_event_pages(self, *args: Any, **kwargs: Any) -> Any:
        pages = self._source.usage_event_pages(*args, **kwargs)
        while True:
            started = time.process_time()
            try:
                page = next(pages)
            except StopIteration:
                self.read_cpu += time.process_time() - started
                return
            self.read_cpu += time.process_time() - started
            yield page


def child_sync(sim_url: str) -> dict[str, Any]:
    """CPU of one first sync into a fresh SQLite file, split into reading and writing."""
    from bench.ledger_bench import NOW
    from connectors.cursor.access import CursorAccess
    from connectors.cursor.client import ClientOptions
    from ledger.models import SyncTrigger
    from ledger.sync import sync_connection

    database = Database("sqlite")
    with database as (engine, connection_id):
        access = CursorAccess(ClientOptions(base_url=sim_url, rate_limits={}))
        sources: list[TimedSource] = []

        def source_for_key(key: str) -> Any:
            sources.append(TimedSource(access.source(key)))
            return sources[-1]

        cpu, started = time.process_time(), time.perf_counter()
        try:
            outcome = sync_connection(
                engine,
                connection_id=connection_id,
                source_for_key=source_for_key,
                box=database.box,
                now=NOW,
                trigger=SyncTrigger.MANUAL,
            )
        finally:
            access.close()
        cpu, wall = time.process_time() - cpu, time.perf_counter() - started
    read = sum(s.read_cpu for s in sources)
    events = outcome.events.seen
    return {
        "status": outcome.status.value,
        "events": events,
        "cpu_us": cpu / events * 1e6,
        "read_us": read / events * 1e6,
        "write_us": (cpu - read) / events * 1e6,
        "wall_s": wall,
    }


CHILDREN: dict[str, Callable[..., dict[str, Any]]] = {
    "make-pages": child_make_pages,
    "floor": child_floor,
    "api": child_api,
    "bulk": child_bulk,
    "sync": child_sync,
}


# --- the parent: runs the children and prints the table -------------------------------------


def line(name: str, figure: str, details: str) -> None:
    print(f"{name:<34}{figure:>20}   [{details}]")


def roots() -> list[tuple[str, Path]]:
    """("before", baseline root) if there is one, then ("after", this worktree)."""
    found = [("after", ROOT)]
    baseline = Path(BASELINE)
    if baseline.resolve() != ROOT and (baseline / "ledger" / "ingest.py").exists():
        found.insert(0, ("before", baseline))
    else:
        print(f"   no baseline root at {BASELINE}: only this worktree's figures")
    return found


def postgres_answers() -> bool:
    from bench.ledger_bench import postgres_unavailable_reason

    reason = postgres_unavailable_reason()
    if reason is not None:
        print(f"   postgres skipped: {reason}")
    return reason is None


def bench_ingest(folder: str) -> None:
    """Rates of API pages and bulk batches against the floor, before and after.

    Wall-clock rates on a shared machine swing with its load; on SQLite, which runs in
    this process, the rate per CPU second of the process is steadier and is printed too
    (the floor's likewise). PostgreSQL's work is in the server: wall-clock only."""
    pages = str(Path(folder) / "pages.pickle")
    made = child(ROOT, "make-pages", pages)
    print(f"   input: {made['events']:,} events in {made['pages']} pages of the simulator")
    backends = ["sqlite", *(["postgres"] if postgres_answers() else [])]
    code = roots()
    floors = [child(ROOT, "floor", pages, "sqlite")]
    copy = child(ROOT, "floor", pages, "postgres")["rate"] if "postgres" in backends else None
    figures: dict[tuple[str, str, str], dict[str, Any]] = {}
    for backend in backends:
        for kind in ("api", "bulk"):
            for label, root in code:
                figures[(kind, backend, label)] = child(root, kind, pages, backend)
    floors.append(child(ROOT, "floor", pages, "sqlite"))
    floor = sum(f["rate"] for f in floors) / len(floors)
    cpu_floor = sum(f["cpu_rate"] for f in floors) / len(floors)
    line(
        "floor sqlite executemany",
        f"{floor:,.0f} rows/s",
        f"{cpu_floor:,.0f} rows per CPU s; runs " + ", ".join(f"{f['rate']:,.0f}" for f in floors),
    )
    if copy is not None:
        line("floor postgres COPY", f"{copy:,.0f} rows/s", "one COPY of every row, one transaction")
    for (kind, backend, label), run in figures.items():
        rate = run["rate"]
        before = figures.get((kind, backend, "before"))
        if backend == "sqlite":
            details = (
                f"{rate / floor:.2f} of the floor; per CPU s {run['cpu_rate']:,.0f}, "
                f"{run['cpu_rate'] / cpu_floor:.2f} of the floor's"
            )
        elif kind == "bulk" and copy is not None:
            details = f"{rate / copy:.2f} of the COPY"
        else:
            details = f"{rate / floor:.2f} of the sqlite floor"
        if label == "after" and before:
            details += f"; {rate / before['rate']:.2f}x before"
            if backend == "sqlite":
                details += f" ({run['cpu_rate'] / before['cpu_rate']:.2f}x per CPU s)"
        line(f"{kind} {backend} {label}", f"{rate:,.0f} events/s", details)


def bench_sync() -> None:
    from bench.ledger_bench import sim_shape, simulator_process

    sizes = [int(s) for s in os.environ.get("BENCH_SYNC_EVENTS", "200000,1000000").split(",")]
    code = roots()
    for wanted in sizes:
        users, days = sim_shape(wanted)
        with simulator_process(users, days) as sim:
            results = {label: child(root, "sync", sim["url"]) for label, root in code}
        for label, run in results.items():
            details = (
                f"read {run['read_us']:.1f} + write {run['write_us']:.1f} us/event; "
                f"{run['events']:,} events, {run['wall_s']:.1f} s, {run['status']}"
            )
            if label == "after" and "before" in results:
                details += f"; {run['cpu_us'] / results['before']['cpu_us']:.2f} of before"
            line(f"first sync {wanted:,} {label}", f"{run['cpu_us']:.1f} CPU us/event", details)


def main() -> None:
    sections = os.environ.get("BENCH_INGEST_SECTIONS", "ingest,sync").split(",")
    with tempfile.TemporaryDirectory(prefix="ingest-bench-") as folder:
        if "ingest" in sections:
            bench_ingest(folder)
    if "sync" in sections:
        bench_sync()


if __name__ == "__main__":
    if len(sys.argv) > 1 and sys.argv[1] in CHILDREN:
        print(json.dumps(CHILDREN[sys.argv[1]](*sys.argv[2:])))
    else:
        main()
