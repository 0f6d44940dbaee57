"""`stackspend import cursor-csv`: summary, JSON, dry run, strict, bad files, idempotence."""

from __future__ import annotations

import json
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path

import pytest

from tests.bot.cli_support import run
from tests.bot.import_cli_support import Setup, make_setup


@pytest.fixture
def setup(tmp_path: Path) -> Iterator[Setup]:
    built = make_setup(tmp_path)
    yield built
    built.engine.dispose()


def test_import_summarises_in_json_and_reimport_adds_nothing(setup: Setup, tmp_path: Path) -> None:
    path = tmp_path / "usage.csv"
    rows = setup.export(path)

    code, out, err = run(setup.env, "import", "cursor-csv", "-w", "T1", str(path), "--json")

    assert code == 0, err
    summary = json.loads(out)
    assert (summary["rows"], summary["imported"], summary["duplicates"]) == (rows, rows, 0)
    assert (summary["skipped"], summary["bad"], summary["bad_rows"]) == (0, 0, [])
    truth = setup.truth_by_day()
    assert setup.ledger_by_day() == truth
    assert summary["days"] == len(truth)
    assert (summary["first_day"], summary["last_day"]) == (
        str(min(truth)),
        str(max(truth)),
    )
    months = {m: Decimal(d) for m, d in summary["dollars_by_month"].items()}
    assert sum(months.values()) * 100 == sum(truth.values())

    code, out, _ = run(setup.env, "import", "cursor-csv", "-w", "T1", str(path), "--json")
    again = json.loads(out)
    assert code == 0 and (again["imported"], again["duplicates"]) == (0, rows)
    assert setup.ledger_by_day() == truth


def test_text_summary_and_dry_run_write_nothing(setup: Setup, tmp_path: Path) -> None:
    path = tmp_path / "usage.csv"
    rows = setup.export(path, variant="older")

    code, out, err = run(setup.env, "import", "cursor-csv", "-w", "T1", str(path), "--dry-run")

    assert code == 0, err
    assert f"Would import {rows:,} rows into T1 (dry run: nothing written)" in out
    assert "2026-11: $" in out and "Never synced" in out
    assert setup.event_count() == 0


def test_a_file_that_is_not_an_export_exits_2_naming_the_missing_columns(
    setup: Setup, tmp_path: Path
) -> None:
    path = tmp_path / "other.csv"
    path.write_text("Date,Amount\n2026-10-01,3\n")
    code, out, err = run(setup.env, "import", "cursor-csv", "-w", "T1", str(path))
    assert code == 2 and out == ""
    assert "Not a Cursor usage export" in err and "User" in err and "Cost" in err
    assert "Export CSV" in err

    personal = tmp_path / "personal.csv"
    setup.export(personal, variant="personal")
    code, _, err = run(setup.env, "import", "cursor-csv", "-w", "T1", str(personal))
    assert code == 2 and "User" in err and "personal" in err
    assert setup.event_count() == 0


def test_bad_rows_are_reported_by_line_and_strict_refuses_the_file(
    setup: Setup, tmp_path: Path
) -> None:
    path = tmp_path / "usage.csv"
    rows = setup.export(path, newest_first=False)
    lines = path.read_bytes().split(b"\r\n")
    lines[4] = b'"not a date"' + lines[4][lines[4].index(b",") :]
    path.write_bytes(b"\r\n".join(lines))

    code, _, err = run(setup.env, "import", "cursor-csv", "-w", "T1", str(path), "--strict")
    assert code == 1 and "line 5" in err and "Nothing was imported" in err
    assert setup.event_count() == 0

    code, out, err = run(setup.env, "import", "cursor-csv", "-w", "T1", str(path), "--json")
    summary = json.loads(out)
    assert code == 0, err
    assert summary["bad"] == 1 and summary["bad_rows"][0]["line"] == 5
    assert summary["imported"] == rows - 1 == setup.event_count()


def test_a_workspace_without_a_connection_is_told_to_connect(tmp_path: Path) -> None:
    setup = make_setup(tmp_path, connect=False)
    path = tmp_path / "usage.csv"
    setup.export(path)
    code, _, err = run(setup.env, "import", "cursor-csv", "-w", "T1", str(path))
    assert code == 1 and "has no cursor connection yet" in err and "connect" in err
    code, _, err = run(setup.env, "import", "cursor-csv", "-w", "T1", str(tmp_path / "none.csv"))
    assert code == 2 and "cannot read" in err
    setup.engine.dispose()
