"""Cursor requests a day and staleness of `today` answers under three sync schedules.

Schedules, over one simulated day (midnight to midnight UTC) after a first sync:

- ``24-hour``: today's default before light syncs, one full sync a day (at 03:00) that
  re-reads 48 hours before the newest synced instant, then members, spend, daily usage;
- ``naive 1-hour``: that full sync every hour;
- ``light+deep``: a light sync every hour on the hour (events from the newest synced
  instant less 2 hours), and the deep sync (the full one) at 03:00 instead of that
  hour's light one: ``bot.jobs.sync_plan``'s plan.

Teams of 50 and 500 people (the simulator's usage mix) are synced for real: real syncs
into a SQLite ledger through the real client, requests counted by the simulator per
route. The 5,000-person team is counted from the simulator's events with the same page
arithmetic (a page of 1,000 events, one request per window at least, spend 100 members
a page), which the bench first checks against the measured teams.

Staleness of `today`: every 5 minutes of the day, how old the newest synced hour is
(median and worst). Targets: at most one hour at every moment with light+deep, and
light+deep requests at most 2x the 24-hour schedule's for the 500-person team.
"""

from __future__ import annotations

import bisect
import math
import os
import statistics
import tempfile
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

from sqlalchemy import Engine

from bot.jobs.sync_plan import LastSyncs, SyncCadence, due_kind
from connectors.cursor.access import CursorAccess
from connectors.cursor.client import ClientOptions
from connectors.cursor.endpoints import MAX_EVENTS_PAGE_SIZE, SPEND_PAGE_SIZE
from connectors.cursor.sim_team import DEMO_API_KEY, SimulatorConfig
from connectors.cursor.simulator import CursorSimulator
from connectors.cursor.windows import settled_end, split_window, to_ms
from ledger import migrate
from ledger.accounts import get_or_create_workspace, store_connection
from ledger.db import make_engine, session_scope
from ledger.models import SyncKind, SyncTrigger
from ledger.secrets import SecretBox, generate_secret_key
from ledger.sync import SyncOptions, sync_connection

DAY = datetime(2026, 11, 24, 0, 0, tzinfo=UTC)  # a Tuesday
#: The simulator's history is generated back from here (the same for every run).
ANCHOR = DAY + timedelta(days=1)
SAMPLE_EVERY = timedelta(minutes=5)
OPTIONS = SyncOptions()  # 48 h deep overlap, 2 h light overlap, 7 days of daily usage
CADENCE = SyncCadence(light_every=timedelta(hours=1), deep_hour=3)
SIZES = (50, 500, 5000)
#: Runs synced for real (the rest counted): the naive schedule at 500 takes a minute.
MEASURED = {(50, "24-hour"), (50, "naive 1-hour"), (50, "light+deep")}
MEASURED |= {(500, "24-hour"), (500, "light+deep")}
if os.environ.get("BENCH_FRESH_ALL"):
    MEASURED.add((500, "naive 1-hour"))
STALE_TARGET = timedelta(hours=1)
RATIO_TARGET = 2.0
_ONE_MS = timedelta(milliseconds=1)

Schedule = Callable[[datetime, LastSyncs], SyncKind | None]


def daily(moment: datetime, _last: LastSyncs) -> SyncKind | None:
    return SyncKind.DEEP if moment.hour == CADENCE.deep_hour else None


def naive_hourly(_moment: datetime, _last: LastSyncs) -> SyncKind | None:
    return SyncKind.DEEP


def light_and_deep(moment: datetime, last: LastSyncs) -> SyncKind | None:
    return due_kind(last, moment, CADENCE)


#: Each schedule, and when its sync before the day ran (so that the day starts in its
#: steady state: the 24-hour sync re-reads 48 hours before the previous day's 03:00).
SCHEDULES: dict[str, tuple[Schedule, datetime]] = {
    "24-hour": (daily, DAY - timedelta(hours=21)),
    "naive 1-hour": (naive_hourly, DAY - timedelta(hours=1)),
    "light+deep": (light_and_deep, DAY - timedelta(hours=1)),
}


@dataclass
class DayRun:
    """One schedule's day: requests per route, and when each sync's data reached."""

    routes: Counter[str] = field(default_factory=Counter)
    kinds: Counter[str] = field(default_factory=Counter)
    reached: list[tuple[datetime, datetime]] = field(default_factory=list)  # (sync, as_of)

    @property
    def requests(self) -> int:
        return sum(self.routes.values())


def ticks() -> list[datetime]:
    return [DAY + timedelta(hours=h) for h in range(24)]


def staleness(run: DayRun, first_as_of: datetime) -> tuple[timedelta, timedelta]:
    """(median, worst) age of the newest synced hour, sampled over the day."""
    ages = []
    moment = DAY
    while moment < DAY + timedelta(days=1):
        as_of = first_as_of
        for synced_at, reached in run.reached:
            if synced_at <= moment:
                as_of = reached
        ages.append(moment - (as_of + _ONE_MS))
        moment += SAMPLE_EVERY
    median = statistics.median(age.total_seconds() for age in ages)
    return timedelta(seconds=median), max(ages)


# -- measured: real syncs on the simulator ---------------------------------------------------


def measured_day(users: int, schedule: Schedule, first: datetime) -> DayRun:
    clock = [ANCHOR]
    sim = CursorSimulator(
        SimulatorConfig(users=users, days=4, rate_limiting=False, seed=16), clock=lambda: clock[0]
    )
    clock[0] = first
    with tempfile.TemporaryDirectory() as folder:
        url = f"sqlite:///{Path(folder) / 'ledger.db'}"
        migrate.upgrade(url)
        engine = make_engine(url)
        box = SecretBox([generate_secret_key()])
        connection_id = _connect(engine, box)
        sync = _syncer(engine, box, connection_id, sim)
        sync(first, SyncKind.DEEP)
        last = LastSyncs(first, first)
        run = DayRun()
        for tick in ticks():
            kind = schedule(tick, last)
            if kind is None:
                continue
            clock[0] = tick
            before = Counter(path for _, path, _ in sim.calls)
            sync(tick, kind)
            run.routes += Counter(path for _, path, _ in sim.calls) - before
            run.kinds[kind.value] += 1
            run.reached.append((tick, settled_end(tick)))
            last = LastSyncs(tick, tick if kind is SyncKind.DEEP else last.deep)
        engine.dispose()
    return run


def _connect(engine: Engine, box: SecretBox) -> int:
    with session_scope(engine) as session:
        workspace = get_or_create_workspace(session, team_id="TBENCH", name="Bench team")
        connection = store_connection(
            session,
            workspace=workspace,
            provider="cursor",
            api_key=DEMO_API_KEY,
            box=box,
            key_hint="…0000",
            connected_by="UBENCH",
            now=first_sync_of_all(),
        )
        assert connection.id is not None
        return connection.id


def _syncer(
    engine: Engine, box: SecretBox, connection_id: int, sim: CursorSimulator
) -> Callable[[datetime, SyncKind], None]:
    def sync(now: datetime, kind: SyncKind) -> None:
        access = CursorAccess(
            ClientOptions(base_url="http://cursor.test", rate_limits={}), sim.transport()
        )
        try:
            outcome = sync_connection(
                engine,
                connection_id=connection_id,
                source_for_key=access.source,
                box=box,
                now=now,
                trigger=SyncTrigger.SCHEDULE,
                options=OPTIONS,
                kind=kind,
            )
        finally:
            access.close()
        assert outcome.ok, outcome.error

    return sync


# -- counted: the same page arithmetic on the simulator's events -----------------------------


def counted_day(
    schedule: Schedule, first: datetime, sim: CursorSimulator, options: SyncOptions = OPTIONS
) -> DayRun:
    stamps = sim.team.store.ts
    spend_pages = math.ceil(_spend_rows(sim) / SPEND_PAGE_SIZE)
    synced_to = settled_end(first)
    last = LastSyncs(first, first)
    run = DayRun()
    for tick in ticks():
        kind = schedule(tick, last)
        if kind is None:
            continue
        overlap = options.overlap if kind is SyncKind.DEEP else options.light_overlap
        end = settled_end(tick)
        pages = 0
        for lo, hi in split_window(to_ms(synced_to - overlap), to_ms(end)):
            found = bisect.bisect_right(stamps, hi) - bisect.bisect_left(stamps, lo)
            pages += max(1, math.ceil(found / MAX_EVENTS_PAGE_SIZE))
        run.routes["/teams/filtered-usage-events"] += pages
        if kind is SyncKind.DEEP:
            run.routes["/teams/members"] += 1
            run.routes["/teams/spend"] += spend_pages
            run.routes["/teams/daily-usage-data"] += 1
        run.kinds[kind.value] += 1
        run.reached.append((tick, end))
        synced_to = end
        last = LastSyncs(tick, tick if kind is SyncKind.DEEP else last.deep)
    return run


def _spend_rows(sim: CursorSimulator) -> int:
    access = CursorAccess(
        ClientOptions(base_url="http://cursor.test", rate_limits={}), sim.transport()
    )
    try:
        return len(access.source(DEMO_API_KEY).spend().members)
    finally:
        access.close()


def counting_sim(users: int) -> CursorSimulator:
    return CursorSimulator(
        SimulatorConfig(users=users, days=4, rate_limiting=False, seed=16), clock=lambda: ANCHOR
    )


def first_sync_of_all() -> datetime:
    return min(first for _, first in SCHEDULES.values())


# -- report ----------------------------------------------------------------------------------


def _hours(delta: timedelta) -> str:
    return f"{delta.total_seconds() / 3600:5.2f} h"


def main() -> None:
    print(__doc__.splitlines()[0])
    results: dict[tuple[int, str], DayRun] = {}
    for users in SIZES:
        sim = counting_sim(users)
        for name, (schedule, first) in SCHEDULES.items():
            counted = counted_day(schedule, first, sim)
            how = "counted"
            if (users, name) in MEASURED:
                started = time.perf_counter()
                measured = measured_day(users, schedule, first)
                took = time.perf_counter() - started
                same = "matches" if measured.routes == counted.routes else "DIFFERS from"
                how = f"measured in {took:4.1f} s, {same} the count"
                if measured.routes != counted.routes:
                    print(f"   measured {dict(measured.routes)} counted {dict(counted.routes)}")
                counted = measured
            results[users, name] = counted
            median, worst = staleness(counted, settled_end(first))
            print(
                f"  {users:>5} people  {name:<13} {counted.requests:>6} requests/day "
                f"({dict(counted.kinds)})  today stale: median {_hours(median)}, "
                f"worst {_hours(worst)}  [{how}]"
            )
        base = results[users, "24-hour"].requests
        _overlaps(sim, base, users)
        print(
            f"  {users:>5} people  light+deep / 24-hour = "
            f"{results[users, 'light+deep'].requests / base:.2f}x, naive 1-hour / 24-hour = "
            f"{results[users, 'naive 1-hour'].requests / base:.2f}x"
        )
    _verdict(results)


def _overlaps(sim: CursorSimulator, base: int, users: int) -> None:
    """What STACKSPEND_SYNC_LIGHT_OVERLAP_HOURS costs: light+deep counted at 0, 1, 2 hours."""
    schedule, first = SCHEDULES["light+deep"]
    parts = []
    for hours in (0, 1, 2):
        options = replace(OPTIONS, light_overlap=timedelta(hours=hours))
        requests = counted_day(schedule, first, sim, options).requests
        parts.append(f"{hours} h: {requests} ({requests / base:.2f}x)")
    print(f"  {users:>5} people  light+deep by light overlap: " + ", ".join(parts))


def _verdict(results: dict[tuple[int, str], DayRun]) -> None:
    ratio = results[500, "light+deep"].requests / results[500, "24-hour"].requests
    first = settled_end(SCHEDULES["light+deep"][1])
    worst = max(staleness(results[n, "light+deep"], first)[1] for n in SIZES)
    print(
        f"  targets: 500 people light+deep {ratio:.2f}x the 24-hour schedule "
        f"(<= {RATIO_TARGET:.0f}x: {'PASS' if ratio <= RATIO_TARGET else 'FAIL'}); "
        f"`today` worst {_hours(worst).strip()} stale (<= 1 h: "
        f"{'PASS' if worst <= STALE_TARGET else 'FAIL'})"
    )


if __name__ == "__main__":
    main()
