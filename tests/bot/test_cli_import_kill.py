"""An import killed (SIGKILL) mid-way, run again, ends with the simulator's exact totals."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.bot.import_cli_support import make_setup


@pytest.mark.slow
def test_an_import_killed_mid_way_then_run_again_ends_with_exact_totals(tmp_path: Path) -> None:
    setup = make_setup(tmp_path, users=70, days=30)
    path = tmp_path / "usage.csv"
    rows = setup.export(path)
    command = [sys.executable, "-m", "bot.cli", "import", "cursor-csv", "-w", "T1", str(path)]
    env = {**os.environ, **setup.env}

    process = subprocess.Popen(command, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    try:
        deadline = time.monotonic() + 30
        while setup.event_count() == 0 and process.poll() is None:
            assert time.monotonic() < deadline, "the import wrote nothing in 30 s"
            time.sleep(0.02)
        process.send_signal(signal.SIGKILL)
        process.wait(timeout=10)
    finally:
        if process.poll() is None:
            process.kill()
        process.communicate()
    assert process.returncode == -signal.SIGKILL, "the import ended before it was killed"
    held = setup.event_count()
    assert 0 < held < rows  # killed mid-way: some transactions committed, not all

    again = subprocess.run([*command, "--json"], env=env, capture_output=True, text=True)

    assert again.returncode == 0, again.stderr
    summary = json.loads(again.stdout)
    assert (summary["imported"], summary["duplicates"]) == (rows - held, held)
    assert setup.event_count() == rows
    assert setup.ledger_by_day() == setup.truth_by_day()
    setup.engine.dispose()
