"""`stackspend simulate cursor --export-csv` writes a parseable export and exits."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from connectors.cursor.csv_export import ExportReader
from tests.bot.cli_support import run


def test_export_csv_writes_the_simulated_team_as_an_export_and_exits(tmp_path: Path) -> None:
    path = tmp_path / "usage.csv"

    code, out, err = run(
        {}, "simulate", "cursor", "--export-csv", str(path), "--users", "4", "--days", "3"
    )

    assert code == 0, err
    assert out.startswith("Wrote ") and f"to {path}." in out and "(4 users," in out
    with path.open("rb") as stream:
        reader = ExportReader(stream)
        events = [event for batch in reader.batches() for event in batch]
    assert events and reader.bad_count == 0
    assert f"Wrote {len(events)} usage rows" in out
    assert len({e.user_email for e in events}) <= 4


def test_the_same_seed_writes_the_same_file_and_the_older_variant_drops_agent_columns(
    tmp_path: Path,
) -> None:
    first, second, older = tmp_path / "a.csv", tmp_path / "b.csv", tmp_path / "c.csv"
    base = ("simulate", "cursor", "--users", "3", "--days", "2", "--seed", "5")

    for path, extra in ((first, ()), (second, ()), (older, ("--export-variant", "older"))):
        code, _, err = run({}, *base, *extra, "--export-csv", str(path))
        assert code == 0, err

    assert first.read_bytes() == second.read_bytes()
    assert b"Cloud Agent ID" in first.read_bytes()
    assert b"Cloud Agent ID" not in older.read_bytes().splitlines()[0]


def test_an_unknown_variant_or_an_unwritable_path_is_refused_clearly(tmp_path: Path) -> None:
    code, _, err = run(
        {}, "simulate", "cursor", "--export-csv", str(tmp_path / "x.csv"),
        "--export-variant", "ancient",
    )  # fmt: skip
    assert code == 2 and "newest, older, personal" in err

    code, _, err = run(
        {}, "simulate", "cursor", "--export-csv", str(tmp_path / "missing" / "x.csv")
    )
    assert code == 2 and "cannot write" in err


def test_export_csv_as_a_real_process(tmp_path: Path) -> None:
    path = tmp_path / "usage.csv"
    command = [sys.executable, "-m", "bot.cli", "simulate", "cursor", "--export-csv", str(path)]

    done = subprocess.run(
        [*command, "--users", "2", "--days", "1"], capture_output=True, text=True, timeout=60
    )

    assert done.returncode == 0, done.stderr
    with path.open("rb") as stream:
        assert ExportReader(stream).columns[0] == "Date"
