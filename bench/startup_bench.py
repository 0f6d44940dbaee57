"""Start-up of the `stackspend` command: wall time of `--help` and of a `report` (best of 5).

Each figure is a fresh process, as a person typing the command sees it. The report runs on a
small ledger built here (a simulated team of 20 people over 14 days).
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from bench.ledger_bench import line

RUNS = 5


def best_of(command: list[str], env: dict[str, str]) -> float:
    best = float("inf")
    for _ in range(RUNS):
        started = time.perf_counter()
        subprocess.run(command, env=env, capture_output=True, check=False)
        best = min(best, time.perf_counter() - started)
    return best


def demo_ledger(folder: Path) -> dict[str, str]:
    """Environment of a ledger with one synced workspace `T1`."""
    from connectors.cursor.sim_team import DEMO_API_KEY, SimulatorConfig
    from connectors.cursor.simulator import CursorSimulator, running_server
    from ledger.secrets import generate_secret_key

    env = {
        **os.environ,
        "STACKSPEND_DATABASE_URL": f"sqlite:///{folder / 'ledger.db'}",
        "STACKSPEND_SECRET_KEY": generate_secret_key(),
        "STACKSPEND_CURSOR_API_KEY": DEMO_API_KEY,
    }
    sim = CursorSimulator(SimulatorConfig(users=20, days=14, rate_limiting=False))
    cli = [sys.executable, "-m", "bot.cli"]
    with running_server(sim) as base_url:
        env["STACKSPEND_CURSOR_BASE_URL"] = base_url
        for args in (["db", "upgrade"], ["connect", "cursor", "--workspace", "T1"], ["sync"]):
            subprocess.run([*cli, *args], env=env, capture_output=True, check=True)
    return env


def main() -> None:
    stackspend = str(Path(sys.executable).with_name("stackspend"))
    with tempfile.TemporaryDirectory() as folder:
        env = demo_ledger(Path(folder))
        help_s = best_of([stackspend, "--help"], env)
        report_s = best_of([stackspend, "report", "cursor", "--workspace", "T1"], env)
    line("stackspend --help", f"{help_s:.2f} s", "target < 0.5 s", "best of 5, fresh process")
    line("stackspend report", f"{report_s:.2f} s", "target < 1 s", "best of 5, 20 users x 14 days")


if __name__ == "__main__":
    main()
