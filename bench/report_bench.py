"""Report latency from the coarse rollups, against today's reads of usage_rollup, in one run;
and what keeping the coarse rollups costs ingest.

1. reports: ``ledger_bench``'s year of rollups for 1,000 users (rows made day by day as a
   sync creates them; the coarse rows added chunk by chunk through the hook
   ``RollupDeltas.apply`` calls), then ``bot.usecases.reports.report_for`` timed as the bot
   runs it, without its cache: "before" reads ``usage_rollup`` alone with main's code
   (``bench.report_reference``), "after" the coarse rollups; "day rows only" is the
   alternative the month rows beat (coarse (day, user) rows, no month rows). "floor": the
   same call for a day without rows (what a report costs besides reading rollups), for
   ratios on a noisy machine. Besides the three reports of the issue, three more periods by
   user show the planner's best and worst cases: a whole past month (one month row per user
   and kind), a cycle started on the 15th (11 days of day rows), and a past cycle from the
   15th to the 14th (30 days of day rows). Target p95 < 20 ms.
2. ingest cost: ``ledger_bench``'s API pages ingested into fresh databases with and without
   the hook (alternating runs, median), and the same for the statements alone.
"""

from __future__ import annotations

import gc
import os
import statistics
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import date
from typing import Any

from sqlalchemy import Engine

from bench import ledger_bench as lb
from bench.report_reference import main_totals_and_breakdown
from ledger import coarse_rollups, queries
from ledger import report_plan as plan
from ledger.db import make_engine
from ledger.report_plan import Piece
from ledger.secrets import SecretBox, generate_secret_key

TARGET_MS = 20.0
CASES = (
    lb.ReportCase("floor: a day without rows", "2025-01-01", "user"),
    *lb.REPORT_CASES,
    lb.ReportCase("a past month by user", "2026-10-01..2026-10-31", "user"),
    lb.ReportCase("cycle 15th-today by user", "2026-11-15..2026-11-25", "user"),
    lb.ReportCase("cycle 15th-14th by user", "2026-10-15..2026-11-14", "user"),
)


def build_ledger(engine: Engine, box: SecretBox) -> int:
    """``ledger_bench.build_ledger``, vacuumed on PostgreSQL (the index-only scans want the
    visibility map a vacuum leaves; autovacuum would do it)."""
    rows = lb.build_ledger(engine, box)
    if engine.dialect.name == "postgresql":
        with engine.connect() as connection:
            connection.execution_options(isolation_level="AUTOCOMMIT").exec_driver_sql(
                "VACUUM ANALYZE usage_rollup_coarse"
            )
    return rows


@contextmanager
def reading(how: str) -> Iterator[None]:
    """Reports read as ``how`` says: 'after' (the ledger's code), 'before' (main's reads
    of usage_rollup), 'day rows only' (coarse (day, user) rows, no month rows)."""
    saved_totals, saved_pieces = queries.totals_and_breakdown, plan.user_pieces

    def days_only(start: date, end: date, today: date) -> list[Piece]:  # noqa: ARG001
        return [Piece(coarse_rollups.USER_DAY, start, end)]

    if how == "before":
        queries.totals_and_breakdown = main_totals_and_breakdown
    elif how == "day rows only":
        plan.user_pieces = days_only
    try:
        yield
    finally:
        queries.totals_and_breakdown, plan.user_pieces = saved_totals, saved_pieces


def bench_reports() -> None:
    runs = int(os.environ.get("BENCH_QUERY_RUNS", "60"))
    box = SecretBox([generate_secret_key()])
    for label, url in lb.databases():
        engine = make_engine(url)
        try:
            started = time.perf_counter()
            rows = build_ledger(engine, box)
            with engine.connect() as connection:
                coarse = connection.exec_driver_sql(
                    "SELECT grain, COUNT(*) FROM usage_rollup_coarse GROUP BY grain"
                ).all()
            print(
                f"   {label} ledger: {rows:,} usage_rollup rows, coarse rows "
                f"{dict(coarse)}, built in {time.perf_counter() - started:.1f} s"
            )
            for case in CASES:
                figures = []
                for how in ("before", "day rows only", "after"):
                    if how == "day rows only" and case.by != "user":
                        continue
                    with reading(how):
                        p50, p95, answer = lb.latency(lb.report_as_today(engine, case), runs)
                    figures.append(f"{how} p50 {p50:.1f} / p95 {p95:.1f}")
                verdict = "meets" if p95 < TARGET_MS else "MISSES"
                lb.line(
                    f"{case.label} {label}",
                    f"p95 {p95:6.1f} ms",
                    f"target < {TARGET_MS:.0f} ms: {verdict}",
                    f"{'; '.join(figures)} ms over {runs} runs; {answer} rows",
                )
        finally:
            engine.dispose()


@contextmanager
def hook(on: bool) -> Iterator[None]:
    saved = coarse_rollups.add_deltas
    if not on:
        coarse_rollups.add_deltas = lambda *_: None
    try:
        yield
    finally:
        coarse_rollups.add_deltas = saved


def ingest_rate(
    url_of: Callable[[], Any], pages: Any, count: int, box: SecretBox, *, only_db: bool
) -> float:
    with url_of() as url:
        engine = make_engine(url)
        try:
            connection_id = lb.add_connection(engine, box)
            if only_db:
                return count / lb.database_only(engine, connection_id, pages)
            analyze_after = lb.ANALYZE_AFTER_PAGES if lb.autovacuum_off(engine) else None
            wall, _, result = lb.ingest_pass(
                engine, connection_id, pages, analyze_after=analyze_after
            )
            assert result.new == count, result
            return count / wall
        finally:
            engine.dispose()


def bench_ingest_cost() -> None:
    runs = max(1, int(os.environ.get("BENCH_INGEST_RUNS", "3")))
    pages = lb.event_pages(users=200, days=20)
    count = sum(len(events) for events in pages)
    print(f"   ingest input: {count:,} events in {len(pages)} pages")
    box = SecretBox([generate_secret_key()])
    backends: list[tuple[str, Callable[[], Any]]] = [("sqlite", lb.sqlite_database)]
    if lb.postgres_unavailable_reason() is None:
        backends.append(("postgres", lb.postgres_database))
    gc.freeze()
    try:
        for label, url_of in backends:
            for only_db in (False, True):
                rates: dict[bool, list[float]] = {True: [], False: []}
                for _ in range(runs if label == "sqlite" else max(1, runs - 1)):
                    for on in (False, True):
                        with hook(on):
                            rates[on].append(
                                ingest_rate(url_of, pages, count, box, only_db=only_db)
                            )
                off, on_ = statistics.median(rates[False]), statistics.median(rates[True])
                what = "statements only" if only_db else "ingest"
                lb.line(
                    f"{what} {label}",
                    f"{on_ / off:.2f} x",
                    "with hook / without",
                    f"{on_:,.0f} vs {off:,.0f} events/s, medians of {len(rates[True])} "
                    "alternating runs",
                )
    finally:
        gc.unfreeze()


def main() -> None:
    for name, section in (("report latency", bench_reports), ("ingest cost", bench_ingest_cost)):
        started = time.perf_counter()
        print(f"-- {name}")
        section()
        print(f"   ({name}: {time.perf_counter() - started:.1f} s)")


if __name__ == "__main__":
    main()
