"""Billing groups: report latency by group, and what groups add to a sync's Cursor requests.

1. reports: ``ledger_bench``'s year of rollups for 1,000 users (``report_bench.build_ledger``)
   with 30 billing groups kept for each of the 13 cycles it spans: 90% of the members in a
   group, 5% of them moved to another group on Nov 12th (the current cycle). Timed as the bot
   runs them (``bot.usecases.reports.report_for``, without the report cache): every group
   this cycle, last cycle, 30 days and 365 days, each next to the same period by user in the
   same run (the report a by-group answer is built on), as a ratio; "first after a sync" is
   the same with the members' day ranges not kept yet (``ledger.group_ranges``); then one
   group by user and by model against this cycle by user. Target p95 < 20 ms (the other
   reports' target; on a loaded machine judge the ratios).
2. sync requests: a simulated team with 30 groups synced twice (first run, then a steady
   run) under Cursor's rate limits on a shortened minute (``BENCH_MINUTE_SECONDS``): the
   requests to ``/teams/groups`` per run and the 429s Cursor served (target 0); then the same
   with a group list that leaves members out (each group's detail read: the fallback).
"""

from __future__ import annotations

import os
import random
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from functools import partial

from sqlalchemy import Engine, select
from sqlmodel import col

from bench import ledger_bench as lb
from bench.report_bench import TARGET_MS, build_ledger
from connectors.cursor.access import CursorAccess
from connectors.cursor.client import ClientOptions
from connectors.cursor.endpoints import DEFAULT_RATE_LIMITS, GROUPS
from connectors.cursor.sim_team import SimulatorConfig
from connectors.cursor.simulator import CursorSimulator
from connectors.group_records import UNASSIGNED_ID
from ledger import group_ranges
from ledger.db import make_engine, session_scope
from ledger.group_models import BillingGroupCycle, BillingGroupStay, GroupSyncState
from ledger.models import Connection, SyncTrigger
from ledger.secrets import SecretBox, generate_secret_key
from ledger.sync import sync_connection

GROUP_COUNT = 30
MOVED_SHARE = 0.05
MOVE_AT = datetime(2026, 11, 12, 15, 0, tzinfo=UTC)
PERIODS = ("cycle", "last-cycle", "30d", "365d")
GROUP_CASES = (
    ("cycle, group 7 by user", "cycle", "user"),
    ("cycle, group 7 by model", "cycle", "model"),
)


class Clock:
    def __init__(self) -> None:
        self.now = datetime(2026, 11, 25, 14, 30, tzinfo=UTC)

    def __call__(self) -> datetime:
        return self.now


def cycle_starts(last: datetime, count: int) -> list[datetime]:
    starts, year, month = [], last.year, last.month
    for _ in range(count):
        starts.append(datetime(year, month, 1, tzinfo=UTC))
        year, month = (year, month - 1) if month > 1 else (year - 1, 12)
    return sorted(starts)


def add_groups(engine: Engine) -> int:
    """30 groups in every cycle of the year; returns the stays kept."""
    rng = random.Random(5)
    with session_scope(engine) as session:
        connection_id = session.execute(select(col(Connection.id))).scalar_one()
    members = [f"user{index:04d}@acme.test" for index in range(lb.LEDGER_USERS)]
    home = {email: rng.randrange(GROUP_COUNT) for email in members if rng.random() < 0.9}
    moved = {email for email in home if rng.random() < MOVED_SHARE}
    since = datetime(2025, 1, 1, tzinfo=UTC)
    cycles, stays = [], []
    for start in cycle_starts(lb.NOW, 13):
        end = datetime(start.year + start.month // 12, start.month % 12 + 1, 1, tzinfo=UTC)
        for index in [*range(GROUP_COUNT), -1]:
            group_id = UNASSIGNED_ID if index < 0 else f"group_{index:02d}"
            cycles.append(
                {
                    "connection_id": connection_id,
                    "cycle_start": start,
                    "cycle_end": end,
                    "group_id": group_id,
                    "name": "Unassigned" if index < 0 else f"Team {index:02d}",
                    "spend_cents": 0,
                    "read_at": lb.NOW,
                }
            )
        for email, index in home.items():
            row = {"connection_id": connection_id, "cycle_start": start, "email": email}
            if email in moved and start <= MOVE_AT < end:
                stays.append({**row, "group_id": f"group_{index:02d}", "joined_at": since,
                              "left_at": MOVE_AT})  # fmt: skip
                stays.append({**row, "group_id": f"group_{(index + 1) % GROUP_COUNT:02d}",
                              "joined_at": MOVE_AT, "left_at": None})  # fmt: skip
            else:
                joined = MOVE_AT if email in moved else since
                group = (index + 1) % GROUP_COUNT if start > MOVE_AT and email in moved else index
                stays.append({**row, "group_id": f"group_{group:02d}", "joined_at": joined,
                              "left_at": None})  # fmt: skip
    with session_scope(engine) as session:
        session.execute(BillingGroupCycle.__table__.insert(), cycles)  # type: ignore[attr-defined]
        session.execute(BillingGroupStay.__table__.insert(), stays)  # type: ignore[attr-defined]
        session.add(
            GroupSyncState(
                connection_id=connection_id, available=True, checked_at=lb.NOW, synced_at=lb.NOW
            )
        )
    if engine.dialect.name == "postgresql":
        with engine.begin() as connection:
            connection.exec_driver_sql("ANALYZE billing_group_cycle, billing_group_stay")
    return len(stays)


def group_report(engine: Engine, period: str, by: str) -> int:
    from bot.usecases.reports import report_for

    report = report_for(
        engine, workspace_ref=lb.TEAM_ID, period_text=period, by=by, now=lb.NOW, group="Team 07"
    )
    return len(report.rows)


def cold(work: Callable[[], int]) -> Callable[[], int]:
    """``work`` as the first report after a sync: the members' day ranges not kept yet."""

    def run() -> int:
        group_ranges._CACHES.clear()
        return work()

    return run


def bench_reports() -> None:
    runs = int(os.environ.get("BENCH_QUERY_RUNS", "40"))
    box = SecretBox([generate_secret_key()])
    for label, url in lb.databases():
        engine = make_engine(url)
        try:
            started = time.perf_counter()
            rows = build_ledger(engine, box)
            stays = add_groups(engine)
            print(
                f"   {label} ledger: {rows:,} usage_rollup rows, {stays:,} group stays "
                f"({GROUP_COUNT} groups x 13 cycles), "
                f"built in {time.perf_counter() - started:.1f} s"
            )
            baseline = 0.0
            for period in PERIODS:
                by_user = lb.report_as_today(engine, lb.ReportCase("", period, "user"))
                by_group = lb.report_as_today(engine, lb.ReportCase("", period, "group"))
                _, user_p95, _ = lb.latency(by_user, runs)
                baseline = baseline or user_p95
                p50, p95, answer = lb.latency(by_group, runs)
                _, cold_p95, _ = lb.latency(cold(by_group), runs)
                _report_line(
                    f"{period} by group {label}",
                    (p50, p95, user_p95),
                    f"by user {user_p95:.1f} ms; first after a sync p95 {cold_p95:.1f} ms "
                    f"({cold_p95 / user_p95:.2f} x); {runs} runs; {answer} rows",
                )
            for name, period, by in GROUP_CASES:
                work = partial(group_report, engine, period, by)
                p50, p95, answer = lb.latency(work, runs)
                _report_line(
                    f"{name} {label}",
                    (p50, p95, baseline),
                    f"against cycle by user {baseline:.1f} ms; {runs} runs; {answer} rows",
                )
        finally:
            engine.dispose()


def _report_line(name: str, figures: tuple[float, float, float], details: str) -> None:
    p50, p95, reference = figures
    verdict = "meets" if p95 < TARGET_MS else "MISSES"
    lb.line(
        name,
        f"p95 {p95:6.1f} ms",
        f"target < {TARGET_MS:.0f} ms: {verdict}; {p95 / reference:.2f} x",
        f"p50 {p50:.1f} ms; {details}",
    )


def bench_sync_requests() -> None:
    minute = float(os.environ.get("BENCH_MINUTE_SECONDS", "1.0"))
    for list_members in (True, False):
        with lb.sqlite_database() as url:
            engine = make_engine(url)
            box = SecretBox([generate_secret_key()])
            connection_id = lb.add_connection(engine, box, timezone="UTC")
            clock = Clock()
            sim = CursorSimulator(
                SimulatorConfig(
                    users=120,
                    days=40,
                    groups=GROUP_COUNT,
                    seed=3,
                    minute_seconds=minute,
                    group_list_members=list_members,
                ),
                clock=clock,
            )
            access = CursorAccess(
                ClientOptions(
                    base_url="http://cursor.test",
                    rate_limits=dict(DEFAULT_RATE_LIMITS),
                    window_seconds=minute,
                ),
                sim.transport(),
            )
            try:
                for run in ("first run", "steady run"):
                    before = len(sim.calls)
                    started = time.perf_counter()
                    outcome = sync_connection(
                        engine, connection_id=connection_id, source_for_key=access.source,
                        box=box, now=clock.now, trigger=SyncTrigger.MANUAL,
                    )  # fmt: skip
                    wall = time.perf_counter() - started
                    assert outcome.ok, outcome.error
                    shape = "list with members" if list_members else "list without members"
                    _sync_line(run, sim.calls[before:], f"{shape}; {wall:.1f} s", minute)
                    clock.now += timedelta(hours=1)
            finally:
                access.close()
                engine.dispose()


def _sync_line(run: str, calls: list[tuple[str, str, int]], details: str, minute: float) -> None:
    groups = [c for c in calls if c[1].startswith(GROUPS)]
    limited = sum(1 for c in calls if c[2] == 429)
    lb.line(
        f"sync {run}",
        f"{len(groups)} group requests",
        f"429s {limited}, target 0",
        f"{details} with a {minute:g} s minute; {len(calls)} Cursor requests in all; "
        f"{GROUP_COUNT} groups",
    )


def main() -> None:
    for name, section in (
        ("report latency by group", bench_reports),
        ("sync requests for groups", bench_sync_requests),
    ):
        started = time.perf_counter()
        print(f"-- {name}")
        section()
        print(f"   ({name}: {time.perf_counter() - started:.1f} s)")


if __name__ == "__main__":
    main()
