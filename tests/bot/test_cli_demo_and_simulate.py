"""`stackspend demo` end to end, and `stackspend simulate cursor` as a real process."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from connectors.cursor.client import ClientOptions, CursorAdminClient
from connectors.cursor.sim_team import DEMO_API_KEY
from tests.bot.cli_support import run
from tests.bot.test_serve_http import PATIENCE_SECONDS, free_port


def test_demo_syncs_a_simulated_team_and_leaves_a_ledger_to_explore(tmp_path: Path) -> None:
    directory = tmp_path / "demo"
    code, out, err = run({}, "demo", "--dir", str(directory), "--users", "3", "--days", "3")
    assert code == 0, err
    assert out.startswith("Simulated Cursor team at http://127.0.0.1:")
    assert ": 3 members." in out.splitlines()[0]
    assert "By user" in out and "By model" in out
    assert f"The digest's chart is {directory / 'digest-chart.png'}." in out
    assert (directory / "digest-chart.png").read_bytes().startswith(b"\x89PNG")
    assert "STACKSPEND_DATABASE_URL=sqlite:///" in (directory / "demo.env").read_text()
    assert (directory / "demo.db").stat().st_size > 0


def _interruptible() -> None:
    signal.signal(signal.SIGINT, signal.SIG_DFL)


@pytest.mark.slow
def test_simulate_cursor_serves_the_simulated_team_until_interrupted() -> None:
    port = free_port()
    simulate = [sys.executable, "-m", "bot.cli", "simulate", "cursor", "--port", str(port)]
    process = subprocess.Popen(
        [*simulate, "--users", "3", "--days", "2", "--no-rate-limits"],
        env={**os.environ},
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        # As from a terminal: a job started in the background (`make test &`) inherits
        # SIGINT ignored, and Python then never turns Ctrl-C into KeyboardInterrupt.
        preexec_fn=_interruptible,
    )
    try:
        assert process.stdout is not None
        banner = process.stdout.readline()  # printed just before it starts serving
        assert banner.startswith(f"Cursor Admin API simulator on http://127.0.0.1:{port} ")
        assert f"API key: {DEMO_API_KEY}" in banner
        options = ClientOptions(base_url=f"http://127.0.0.1:{port}", rate_limits={})
        with CursorAdminClient(DEMO_API_KEY, options) as client:
            assert len(client.get_members().teamMembers) == 3
        process.send_signal(signal.SIGINT)
        process.wait(timeout=PATIENCE_SECONDS)
    finally:
        if process.poll() is None:
            process.kill()
        process.communicate(timeout=PATIENCE_SECONDS)
    assert process.returncode == 0
