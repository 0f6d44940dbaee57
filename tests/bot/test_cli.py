"""The `stackspend` CLI: the whole path from connect to report, and clean failures."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text

from connectors.cursor.sim_team import DEMO_API_KEY, SimulatorConfig
from connectors.cursor.simulator import CursorSimulator, running_server
from ledger.secrets import generate_secret_key
from tests.bot.cli_support import run

REPORT_FIELDS = {
    "provider",
    "workspace",
    "timezone",
    "start",
    "end",
    "as_of",
    "history_start",
    "total_cents",
    "on_demand_cents",
    "included_cents",
    "events",
    "input_tokens",
    "output_tokens",
    "cache_read_tokens",
    "cache_write_tokens",
    "rows",
}


def row_counts(env: dict[str, str]) -> dict[str, int]:
    engine = create_engine(env["STACKSPEND_DATABASE_URL"])
    with engine.connect() as connection:
        tables = [
            "workspace",
            "connection",
            "usage_event",
            "usage_rollup",
            "sync_run",
            "spend_snapshot",
        ]
        counts = {
            t: connection.execute(text(f"SELECT count(*) FROM {t}")).scalar_one() for t in tables
        }
    engine.dispose()
    return counts


def test_report_json_is_the_documented_contract(synced: dict[str, str]) -> None:
    code, out, _ = run(
        synced,
        "report",
        "cursor",
        "-w",
        "T1",
        "--period",
        "7d",
        "--by",
        "model",
        "--format",
        "json",
    )
    assert code == 0
    payload = json.loads(out)
    assert payload.keys() >= REPORT_FIELDS
    assert payload["provider"] == "cursor" and payload["workspace"] == "T1"
    assert isinstance(payload["total_cents"], float) and payload["total_cents"] > 0
    assert payload["rows"] and set(payload["rows"][0]) == {
        "key",
        "cents",
        "events",
        "input_tokens",
        "output_tokens",
    }
    cents = [row["cents"] for row in payload["rows"]]
    assert cents == sorted(cents, reverse=True)
    assert abs(sum(cents) - payload["total_cents"]) < 0.01


def test_report_text_is_readable(synced: dict[str, str]) -> None:
    code, out, _ = run(synced, "report", "cursor", "-w", "Acme", "--period", "cycle")
    assert code == 0
    assert out.startswith("Cursor spend: this billing cycle")
    assert "By user:" in out and "Data as of" in out and "$" in out


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--period", "fortnight"], "Unknown period 'fortnight'"),
        (["--period", "2026-11-05..2026-11-01"], "ends before it starts"),
        (["--by", "colour"], "Unknown breakdown 'colour'"),
    ],
)
def test_bad_report_input_exits_non_zero_with_one_clear_line_and_writes_nothing(
    synced: dict[str, str], args: list[str], message: str
) -> None:
    before = row_counts(synced)
    code, out, err = run(synced, "report", "cursor", "-w", "T1", *args)
    assert code == 1 and out == ""
    assert err.count("\n") == 1 and message in err
    assert row_counts(synced) == before


def test_unknown_workspace_names_the_known_ones(synced: dict[str, str]) -> None:
    code, _, err = run(synced, "report", "cursor", "-w", "T404")
    assert code == 1 and "No workspace 'T404'. Known workspaces: T1" in err


def test_workspace_without_a_connection_says_how_to_connect(env: dict[str, str]) -> None:
    run(env, "db", "upgrade")
    engine = create_engine(env["STACKSPEND_DATABASE_URL"])
    with engine.begin() as connection:
        connection.execute(
            text(
                "INSERT INTO workspace (slack_team_id, name, timezone, visibility, created_at)"
                " VALUES ('T2', 'Bare', 'UTC', 'own', '2026-01-01 00:00:00')"
            )
        )
    engine.dispose()
    code, _, err = run(env, "report", "cursor", "-w", "T2")
    assert code == 1 and "has no cursor connection yet" in err and "connect" in err
    code, _, err = run(env, "sync", "--workspace", "T2")
    assert code == 1 and "no connection to sync" in err


def test_an_unmigrated_database_is_refused_with_the_fix(env: dict[str, str]) -> None:
    code, _, err = run(env, "report", "cursor", "-w", "T1")
    assert code == 1 and "stackspend db upgrade" in err


def test_connect_refuses_a_bad_key_and_stores_nothing(env: dict[str, str]) -> None:
    run(env, "db", "upgrade")
    code, _, err = run(
        {**env, "STACKSPEND_CURSOR_API_KEY": "crsr_" + "f" * 64}, "connect", "cursor", "-w", "T1"
    )
    assert code == 1 and "invalid or has been revoked" in err
    assert "f" * 64 not in err
    assert row_counts(env)["connection"] == 0


def test_connect_without_a_key_explains_where_keys_come_from(env: dict[str, str]) -> None:
    run(env, "db", "upgrade")
    code, _, err = run({**env, "STACKSPEND_CURSOR_API_KEY": ""}, "connect", "cursor", "-w", "T1")
    assert code == 1 and "STACKSPEND_CURSOR_API_KEY" in err and "--api-key-file" in err


def test_connect_reads_the_key_from_a_file(env: dict[str, str], tmp_path: Path) -> None:
    run(env, "db", "upgrade")
    key_file = tmp_path / "cursor.key"
    key_file.write_text(DEMO_API_KEY + "\n")
    code, out, _ = run(
        {**env, "STACKSPEND_CURSOR_API_KEY": ""},
        "connect",
        "cursor",
        "-w",
        "T1",
        "--api-key-file",
        str(key_file),
    )
    assert code == 0 and "connected Cursor to T1" in out


def test_connect_reads_the_key_from_the_dot_env_file_like_every_setting(
    env: dict[str, str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    run(env, "db", "upgrade")
    monkeypatch.chdir(tmp_path)
    (tmp_path / ".env").write_text(f"STACKSPEND_CURSOR_API_KEY={DEMO_API_KEY}\n")
    without = {k: v for k, v in env.items() if k != "STACKSPEND_CURSOR_API_KEY"}
    code, out, err = run(without, "connect", "cursor", "-w", "T1")
    assert code == 0 and "connected Cursor to T1" in out, err


def test_a_missing_secret_key_names_the_setting(env: dict[str, str]) -> None:
    run(env, "db", "upgrade")
    code, _, err = run({**env, "STACKSPEND_SECRET_KEY": ""}, "connect", "cursor", "-w", "T1")
    assert code == 1 and "STACKSPEND_SECRET_KEY is not set" in err


def test_a_malformed_setting_is_named(env: dict[str, str]) -> None:
    code, _, err = run({**env, "STACKSPEND_CURSOR_BASE_URL": "cursor.example"}, "db", "upgrade")
    assert code == 1 and "STACKSPEND_CURSOR_BASE_URL" in err


def test_sync_reports_failure_with_the_reason_and_a_non_zero_exit(synced: dict[str, str]) -> None:
    other_key = generate_secret_key()
    code, _, err = run({**synced, "STACKSPEND_SECRET_KEY": other_key}, "sync")
    assert code == 1 and "T1: sync failed" in err and "STACKSPEND_SECRET_KEY" in err


@pytest.fixture
def watched(tmp_path: Path) -> Iterator[tuple[dict[str, str], CursorSimulator]]:
    """A migrated ledger and a simulator whose ``calls`` show whether Cursor was asked."""
    simulator = CursorSimulator(SimulatorConfig(users=3, days=2, rate_limiting=False))
    with running_server(simulator) as base_url:
        env = {
            "STACKSPEND_DATABASE_URL": f"sqlite:///{tmp_path / 'cli.db'}",
            "STACKSPEND_SECRET_KEY": generate_secret_key(),
            "STACKSPEND_CURSOR_BASE_URL": base_url,
            "STACKSPEND_CURSOR_API_KEY": "",
        }
        assert run(env, "db", "upgrade")[0] == 0
        yield env, simulator


def connect_with_key_file(env: dict[str, str], path: Path) -> tuple[int, str, str]:
    return run(env, "connect", "cursor", "-w", "T1", "--api-key-file", str(path))


def test_an_api_key_file_with_the_key_on_one_line_is_accepted_whitespace_around_it_stripped(
    watched: tuple[dict[str, str], CursorSimulator], tmp_path: Path
) -> None:
    env, _ = watched
    key_file = tmp_path / "cursor.key"
    key_file.write_text(f"\n  {DEMO_API_KEY}\t\r\n\n")
    code, out, err = connect_with_key_file(env, key_file)
    assert code == 0, err
    assert "connected Cursor to T1" in out


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (f"{DEMO_API_KEY}\n{DEMO_API_KEY}\n", "2 non-empty lines"),
        (f"# my cursor key\n{DEMO_API_KEY}\n", "2 non-empty lines"),
        (f"{DEMO_API_KEY[:10]} {DEMO_API_KEY[10:]}\n", "contains spaces"),
        (f"{DEMO_API_KEY[:10]}\t{DEMO_API_KEY[10:]}", "contains spaces"),
        ("", "is empty"),
        ("\n   \n\t\n", "is empty"),
    ],
    ids=["two keys", "comment line", "space inside", "tab inside", "empty", "blank lines"],
)
def test_an_api_key_file_that_is_not_one_key_on_one_line_is_refused_before_cursor_is_asked(
    watched: tuple[dict[str, str], CursorSimulator], tmp_path: Path, content: str, message: str
) -> None:
    env, simulator = watched
    key_file = tmp_path / "cursor.key"
    key_file.write_text(content)
    code, out, err = connect_with_key_file(env, key_file)
    assert code == 1 and out == ""
    assert err.count("\n") == 1 and err.startswith("error: ") and message in err
    assert "--api-key-file" in err
    assert DEMO_API_KEY[10:] not in err
    assert simulator.calls == []
    assert row_counts(env)["connection"] == 0
