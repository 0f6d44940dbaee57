"""Each `stackspend` verb loads only what it needs: no chart or Slack library for a
`--help`, a `sync` or a `report` (a person typing a command waits for nothing else)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from bot.cli.app import VERBS
from ledger import migrate

PROBE = """
import sys
from bot.cli import app
try:
    app(sys.argv[1:])
except SystemExit:
    pass
heavy = ("matplotlib", "slack_bolt", "slack_sdk")
print("LOADED=" + ",".join(name for name in heavy if name in sys.modules))
"""


def loaded_by(args: list[str], env: dict[str, str]) -> list[str]:
    done = subprocess.run(
        [sys.executable, "-c", PROBE, *args], env=env, capture_output=True, text=True, timeout=120
    )
    (line,) = [x for x in done.stdout.splitlines() if x.startswith("LOADED=")]
    return [name for name in line.removeprefix("LOADED=").split(",") if name]


@pytest.mark.parametrize(
    "args",
    [["--help"], ["sync"], ["report", "cursor", "--workspace", "T1"], ["report", "--help"]],
    ids=["help", "sync", "report", "report-help"],
)
@pytest.mark.slow
def test_help_sync_and_report_import_neither_matplotlib_nor_slack_bolt(
    args: list[str], tmp_path: Path
) -> None:
    url = f"sqlite:///{tmp_path / 'ledger.db'}"
    migrate.upgrade(url)
    env = {**os.environ, "STACKSPEND_DATABASE_URL": url}
    assert loaded_by(args, env) == []


def test_every_verb_loads_and_is_listed_by_help() -> None:
    from typer.testing import CliRunner

    from bot.cli import app

    listing = CliRunner().invoke(app, ["--help"])
    assert listing.exit_code == 0
    for name in VERBS:
        assert name in listing.output
        shown = CliRunner().invoke(app, [name, "--help"])
        assert shown.exit_code == 0, (name, shown.output)
        assert "Usage: stackspend" in shown.output or "Usage:" in shown.output
