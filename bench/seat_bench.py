"""Seats and adoption reports at 1,000 users x 365 days, against the spend report by user
for the same period measured in the same run (the baseline).

The ledger is ``ledger_bench``'s year of rollups for 1,000 members, plus a year of daily
usage data (``daily_activity``: each member active on 55-85% of days; 5% idle for the last
30 days), the members and a few dozen joins and departures in the last two cycles, and a
seat price. Each report is timed as the bot makes it (``bot.usecases.seats``), p50 and
p95 over ``BENCH_QUERY_RUNS`` runs; "x spend report" is the seats or adoption p95 over the
spend report's (`/spend cursor PERIOD`, by user) p95 of the same period. Target p95 < 500 ms.
"""

from __future__ import annotations

import os
import random
import time
from collections.abc import Callable, Iterator
from datetime import UTC, date, datetime, timedelta
from typing import Any

from sqlalchemy import Engine, Table

from bench import ledger_bench as lb
from bot.usecases.seat_reports import adoption_for, seats_for
from ledger.db import make_engine, session_scope
from ledger.models import DailyActivityRow, Member, Workspace
from ledger.seat_models import SeatChange, SeatChangeKind
from ledger.seat_settings import set_seat_price
from ledger.secrets import SecretBox, generate_secret_key

TARGET_MS = 500.0
PERIODS = ("cycle", "last-cycle", "30d", "90d")
ACTIVITY: Table = DailyActivityRow.__table__  # type: ignore[attr-defined]
MEMBERS: Table = Member.__table__  # type: ignore[attr-defined]
CHANGES: Table = SeatChange.__table__  # type: ignore[attr-defined]


def activity_rows(
    connection_id: int, users: int, days: int, last: date
) -> Iterator[list[dict[str, Any]]]:
    rng = random.Random(5)
    idle = set(rng.sample(range(users), users // 20))
    share = [rng.uniform(0.55, 0.85) for _ in range(users)]
    chunk: list[dict[str, Any]] = []
    for offset in range(days):
        day = last - timedelta(days=days - 1 - offset)
        for index in range(users):
            if rng.random() >= share[index] or (index in idle and (last - day).days < 30):
                continue
            n = rng.randint(1, 80)
            chunk.append(
                {
                    "connection_id": connection_id,
                    "day": day,
                    "email": f"user{index:04d}@acme.test",
                    "is_active": True,
                    "lines_added": n * 12,
                    "lines_deleted": n * 3,
                    "accepted_lines_added": n * rng.randint(2, 10),
                    "accepted_lines_deleted": n,
                    "applies": n // 2,
                    "accepts": n // 3,
                    "rejects": n // 6,
                    "tabs_shown": n * 4,
                    "tabs_accepted": n * 2,
                    "composer_requests": n // 4,
                    "chat_requests": n // 4,
                    "agent_requests": n // 2,
                    "cmdk_usages": n // 10,
                    "included_requests": n,
                    "usage_based_requests": n // 5,
                    "api_key_requests": 0,
                    "bugbot_usages": 0,
                    "most_used_model": "gpt-5",
                    "client_version": "2.4.1",
                }
            )
        if len(chunk) >= lb.CHUNK_ROWS:
            yield chunk
            chunk = []
    if chunk:
        yield chunk


def add_seats(engine: Engine, connection_id: int) -> int:
    """Members, their joins and departures, daily activity and a seat price; activity rows."""
    start = datetime(2025, 1, 1, tzinfo=UTC)
    members = [
        {"connection_id": connection_id, "email": f"user{i:04d}@acme.test", "name": f"User {i}",
         "role": "member", "is_removed": i % 50 == 7, "first_seen_at": start,
         "last_seen_at": lb.NOW, "provider_user_id": None, "slack_user_id": None}
        for i in range(lb.LEDGER_USERS)
    ]  # fmt: skip
    changes = [
        {"connection_id": connection_id, "email": f"user{i:04d}@acme.test",
         "kind": SeatChangeKind.LEFT.value if i % 50 == 7 else SeatChangeKind.JOINED.value,
         "at": lb.NOW - timedelta(days=1 + i % 50)}
        for i in range(0, lb.LEDGER_USERS, 25)
    ]  # fmt: skip
    rows = 0
    with session_scope(engine) as session:
        session.execute(MEMBERS.insert(), members)
        session.execute(CHANGES.insert(), changes)
        workspace = session.get(Workspace, 1)
        assert workspace is not None
        set_seat_price(session, workspace, 4000, by="bench", now=lb.NOW)
    for chunk in activity_rows(connection_id, lb.LEDGER_USERS, lb.LEDGER_DAYS, lb.NOW.date()):
        with session_scope(engine) as session:
            session.execute(ACTIVITY.insert(), chunk)
        rows += len(chunk)
    return rows


def _seats(engine: Engine, period: str) -> Callable[[], int]:
    def run() -> int:
        report = seats_for(engine, workspace_ref=lb.TEAM_ID, period_text=period, now=lb.NOW)
        return report.seats_paid

    return run


def _adoption(engine: Engine, period: str) -> Callable[[], int]:
    def run() -> int:
        return len(
            adoption_for(engine, workspace_ref=lb.TEAM_ID, period_text=period, now=lb.NOW).rows
        )

    return run


def bench_seats() -> None:
    runs = int(os.environ.get("BENCH_QUERY_RUNS", "30"))
    box = SecretBox([generate_secret_key()])
    for label, url in lb.databases():
        engine = make_engine(url)
        try:
            started = time.perf_counter()
            rollups = lb.build_ledger(engine, box)
            activity = add_seats(engine, 1)
            print(
                f"   {label} ledger: {rollups:,} usage_rollup rows, {activity:,} daily_activity "
                f"rows, built in {time.perf_counter() - started:.1f} s"
            )
            for period in PERIODS:
                _, base, _ = lb.latency(
                    lb.report_as_today(engine, lb.ReportCase("", period, "user")), runs
                )
                for what, work in (("seats", _seats), ("adoption", _adoption)):
                    p50, p95, answer = lb.latency(work(engine, period), runs)
                    verdict = "meets" if p95 < TARGET_MS else "MISSES"
                    lb.line(
                        f"{what} {period} {label}",
                        f"p95 {p95:6.1f} ms",
                        f"target < {TARGET_MS:.0f} ms: {verdict}",
                        f"p50 {p50:.1f} ms; {p95 / base:.1f} x spend report (p95 {base:.1f} ms) "
                        f"over {runs} runs; {answer} seats/rows",
                    )
        finally:
            engine.dispose()


def main() -> None:
    started = time.perf_counter()
    print("-- seats and adoption at 1,000 users x 365 days")
    bench_seats()
    print(f"   (seats: {time.perf_counter() - started:.1f} s)")


if __name__ == "__main__":
    main()
