"""Run the benchmarks: ``python -m bench`` runs them all, ``python -m bench NAME...`` some.

Each benchmark is a module of this package with a ``main()`` that prints its figures.
Add a new one by appending its module name to ``BENCHMARKS``.
"""

from __future__ import annotations

import importlib
import sys
import time

BENCHMARKS: list[str] = [
    "connector_bench",
    "ledger_bench",
    "digest_bench",
    "slack_bench",
    "delivery_bench",
    "budget_bench",
]


def main(argv: list[str]) -> int:
    unknown = [name for name in argv if name not in BENCHMARKS]
    if unknown:
        print(f"unknown benchmark(s): {', '.join(unknown)}; known: {', '.join(BENCHMARKS)}")
        return 2
    for name in argv or BENCHMARKS:
        started = time.perf_counter()
        print(f"== {name}")
        importlib.import_module(f"bench.{name}").main()
        print(f"   ({time.perf_counter() - started:.1f} s)\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
