"""Spend limits: what `/spend limits`, the confirm dialog and `/spend limits history` read.

A ledger with a spend snapshot of 1,000 people for two billing cycles (a quarter of them
with a limit of their own) and 10,000 audited changes. Timed, p50 and p95 of 50 runs each:
``limits_now`` (everyone with a limit, the `/spend limits` reply's facts), ``person_limit``
(the dialog's facts for one person) and ``history`` (the latest 20 changes). Each is shown
as a ratio (of p50s) to a baseline read in the same run: a ``SELECT count(*)`` of the snapshot's
current cycle (the least any of them can do). Target: every p95 under 50 ms, well inside
Slack's three seconds. SQLite, then PostgreSQL when it answers.
"""

from __future__ import annotations

import random
import statistics
import time
from collections.abc import Callable
from datetime import timedelta
from decimal import Decimal

from sqlalchemy import Engine, Table, func, select

from bench.ledger_bench import NOW, add_connection, databases, line
from ledger.db import make_engine, session_scope
from ledger.limit_models import LimitOutcome, SpendLimitChange
from ledger.models import SpendSnapshot
from ledger.secrets import SecretBox, generate_secret_key
from ledger.spend_limits import history, limits_now, person_limit

SPEND: Table = SpendSnapshot.__table__  # type: ignore[attr-defined]
CHANGES: Table = SpendLimitChange.__table__  # type: ignore[attr-defined]
USERS = 1000
CHANGE_ROWS = 10_000
RUNS = 50
TARGET_MS = 50.0


def fill(engine: Engine, connection_id: int) -> None:
    rng = random.Random(3)
    rows = []
    for cycle in (NOW.replace(day=1) - timedelta(days=31), NOW.replace(day=1)):
        for user in range(USERS):
            own = rng.choice((None, None, None, 150, 300, 1000))
            rows.append(
                {
                    "connection_id": connection_id,
                    "cycle_start": cycle,
                    "taken_at": NOW,
                    "email": f"user{user:04d}@acme.test",
                    "name": f"User {user}",
                    "overall_cents": Decimal(rng.randint(0, 90_000)),
                    "on_demand_cents": Decimal(rng.randint(0, 30_000)),
                    "included_cents": Decimal(0),
                    "premium_requests": 0,
                    "limit_dollars": Decimal(own or 500),
                    "monthly_limit_dollars": None if own is None else Decimal(own),
                    "limit_override_dollars": Decimal(0),
                }
            )
    changes = [
        {
            "workspace_id": 1,
            "provider": "cursor",
            "requested_by": "UBENCH",
            "email": f"user{index % USERS:04d}@acme.test",
            "new_dollars": 100 + index % 7,
            "requested_at": NOW - timedelta(minutes=index),
            "outcome": LimitOutcome.SUCCESS.value,
            "message": "Spend limit set",
        }
        for index in range(CHANGE_ROWS)
    ]
    with engine.begin() as connection:
        connection.execute(SPEND.insert(), rows)
        connection.execute(CHANGES.insert(), changes)


def timed(work: Callable[[], object]) -> tuple[float, float]:
    """(p50, p95) in milliseconds over ``RUNS`` runs, after one warm-up."""
    work()
    samples = []
    for _ in range(RUNS):
        started = time.perf_counter()
        work()
        samples.append((time.perf_counter() - started) * 1000)
    samples.sort()
    return statistics.median(samples), samples[int(len(samples) * 0.95) - 1]


def bench(label: str, url: str) -> None:
    engine = make_engine(url)
    try:
        connection_id = add_connection(engine, SecretBox([generate_secret_key()]))
        fill(engine, connection_id)

        def baseline() -> object:
            with session_scope(engine) as session:
                return session.execute(
                    select(func.count()).where(SPEND.c.cycle_start == NOW.replace(day=1))
                ).scalar_one()

        def reading(read: Callable[..., object], *args: object) -> Callable[[], object]:
            def work() -> object:
                with session_scope(engine) as session:
                    return read(session, *args)

            return work

        base50, base95 = timed(baseline)
        line(
            f"{label} baseline count",
            f"{base95:.2f} ms p95",
            "the least a read does",
            f"p50 {base50:.2f} ms",
        )
        for name, work in (
            ("/spend limits", reading(limits_now, connection_id)),
            ("dialog facts", reading(person_limit, connection_id, "user0500@acme.test")),
            ("limits history", reading(history, 1)),
        ):
            p50, p95 = timed(work)
            verdict = "ok" if p95 < TARGET_MS else "OVER"
            line(
                f"{label} {name}",
                f"{p95:.2f} ms p95",
                f"target < {TARGET_MS:.0f} ms: {verdict}",
                f"p50 {p50:.2f} ms, {p50 / base50:.0f}x the baseline's p50",
            )
    finally:
        engine.dispose()


def main() -> None:
    print(f"spend limits: {USERS} people x 2 cycles, {CHANGE_ROWS:,} audited changes")
    for label, url in databases():
        bench(label, url)


if __name__ == "__main__":
    main()
