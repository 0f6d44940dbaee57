"""Run the benchmarks: ``python -m bench`` runs them all, ``python -m bench NAME...`` some.

Each benchmark is a module of this package with a ``main()`` that prints its figures.
Add a new one by appending its module name to ``BENCHMARKS``.
"""

from __future__ import annotations

import importlib
import os
import platform
import sys
import time

BENCHMARKS: list[str] = [
    "connector_bench",
    "ledger_bench",
    "digest_bench",
    "slack_bench",
    "delivery_bench",
    "budget_bench",
    "bounds_bench",
    "startup_bench",
    "fleet_bench",
    "csv_bench",
    "report_bench",
    "ingest_bench",
    "import_bench",
    "period_bench",
    "limits_bench",
    "seat_bench",
    "personal_bench",
    "freshness_bench",
    "group_bench",
]


def reference_loop_rate(iterations: int = 2_000_000) -> float:
    """Millions of iterations a second of a fixed pure-Python loop (best of 3).

    Printed before the figures so that runs on different machines can be compared: every
    figure here is bound by the interpreter's speed as much as by the code measured.
    """
    best = float("inf")
    for _ in range(3):
        started = time.perf_counter()
        total = 0
        for i in range(iterations):
            total += i
        best = min(best, time.perf_counter() - started)
    return iterations / best / 1e6


def machine_line() -> str:
    return (
        f"machine: {os.cpu_count()} CPUs, {platform.python_implementation()} "
        f"{platform.python_version()}, reference loop {reference_loop_rate():.1f} M iterations/s"
    )


def main(argv: list[str]) -> int:
    unknown = [name for name in argv if name not in BENCHMARKS]
    if unknown:
        print(f"unknown benchmark(s): {', '.join(unknown)}; known: {', '.join(BENCHMARKS)}")
        return 2
    print(machine_line() + "\n")
    for name in argv or BENCHMARKS:
        started = time.perf_counter()
        print(f"== {name}")
        importlib.import_module(f"bench.{name}").main()
        print(f"   ({time.perf_counter() - started:.1f} s)\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
