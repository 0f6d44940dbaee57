"""`stackspend` never prints a traceback for a setting it cannot use: one `error:` line, exit 1.

Run as real subprocesses (the installed ``stackspend`` script), so that what is tested is
what a person at a terminal sees, from import to exit code.
"""

from __future__ import annotations

import os
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest

from bot.settings import SettingsError, load_settings
from ledger.secrets import generate_secret_key

#: Each test starts real `stackspend` processes.
pytestmark = pytest.mark.slow

PASSWORD = "s3cr3t-Pa55word"


def stackspend_command() -> list[str]:
    script = Path(sys.executable).with_name("stackspend")
    return [str(script)] if script.exists() else [sys.executable, "-m", "bot.cli"]


@dataclass(frozen=True)
class Case:
    args: tuple[str, ...]
    env: dict[str, str]


@dataclass(frozen=True)
class Outcome:
    code: int
    out: str
    err: str


REPORT = ("report", "cursor", "-w", "T1")
UPGRADE = ("db", "upgrade")
BUDGETS = ("budget", "list", "-w", "T1")
PG = f"postgresql://stack:{PASSWORD}@127.0.0.1:1/ledger"


def cases(root: Path) -> dict[str, Case]:
    def url(value: str, *args: str) -> Case:
        return Case(args, {"STACKSPEND_DATABASE_URL": value})

    ledger = f"sqlite:///{root / 'ledger.db'}"
    return {
        "unknown kind": url("nonsense://x", *REPORT),
        "not a url": url("not a url", *UPGRADE),
        "port not a number": url(f"postgresql://stack:{PASSWORD}@db:notaport/ledger", *BUDGETS),
        "postgres down, upgrade": url(PG, *UPGRADE),
        "postgres down, report": url(PG, *REPORT),
        "sqlite in a missing directory": url(f"sqlite:///{root / 'no-such-dir' / 'l.db'}", *REPORT),
        "sqlite file is a directory": url(f"sqlite:///{root}", *UPGRADE),
        "loud log level, serve": Case(
            ("serve", "--http", "--port", "0"),
            {
                "STACKSPEND_LOG_LEVEL": "LOUD",
                "STACKSPEND_DATABASE_URL": ledger,
                "SLACK_BOT_TOKEN": "xoxb-test",
                "SLACK_SIGNING_SECRET": "secret",
            },
        ),
    }


@pytest.fixture(scope="module")
def outcomes(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Outcome]:
    """Every case, run at once: each ``stackspend`` spends seconds importing the app."""
    root = tmp_path_factory.mktemp("cli-errors")
    base = {k: v for k, v in os.environ.items() if not k.startswith(("STACKSPEND_", "SLACK_"))}
    base["STACKSPEND_SECRET_KEY"] = generate_secret_key()
    running = {
        name: subprocess.Popen(
            [*stackspend_command(), *case.args],
            cwd=root,  # no .env there
            env={**base, **case.env},
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for name, case in cases(root).items()
    }
    done = {}
    for name, process in running.items():
        try:
            out, err = process.communicate(timeout=120)
        except subprocess.TimeoutExpired:
            process.kill()
            out, err = process.communicate()
        done[name] = Outcome(process.returncode, out, err)
    assert not (root / "ledger.db").exists(), "a command with a bad setting created the ledger"
    return done


def one_error_line(outcome: Outcome, *needles: str) -> str:
    """The single stderr line, after checking it is one ``error:`` line with a non-zero exit."""
    assert outcome.code not in (0, None), outcome
    lines = outcome.err.splitlines()
    assert len(lines) == 1, outcome.err
    assert lines[0].startswith("error: "), outcome.err
    for needle in needles:
        assert needle in lines[0], lines[0]
    return lines[0]


@pytest.mark.parametrize("name", ["unknown kind", "not a url", "port not a number"])
def test_a_database_url_that_cannot_be_used_is_one_line_naming_the_setting(
    outcomes: dict[str, Outcome], name: str
) -> None:
    line = one_error_line(outcomes[name], "STACKSPEND_DATABASE_URL", "sqlite:///")
    assert PASSWORD not in line


@pytest.mark.parametrize("name", ["postgres down, upgrade", "postgres down, report"])
def test_an_unreachable_postgresql_is_one_line_that_never_shows_the_password(
    outcomes: dict[str, Outcome], name: str
) -> None:
    line = one_error_line(outcomes[name], "STACKSPEND_DATABASE_URL", "127.0.0.1", "stack:***@")
    assert PASSWORD not in outcomes[name].err + outcomes[name].out
    assert "running" in line


@pytest.mark.parametrize("name", ["sqlite in a missing directory", "sqlite file is a directory"])
def test_an_sqlite_file_that_cannot_be_opened_is_one_line_saying_what_to_do(
    outcomes: dict[str, Outcome], name: str
) -> None:
    one_error_line(outcomes[name], "STACKSPEND_DATABASE_URL", "directory that exists")


def test_a_bad_log_level_is_refused_at_start_up_naming_the_setting(
    outcomes: dict[str, Outcome],
) -> None:
    outcome = outcomes["loud log level, serve"]
    one_error_line(outcome, "STACKSPEND_LOG_LEVEL", "LOUD", "INFO")
    assert outcome.out == ""


def test_log_levels_are_accepted_in_any_case_and_stored_upper_case() -> None:
    assert load_settings(log_level="debug").log_level == "DEBUG"
    assert load_settings(log_level=" Warning ").log_level == "WARNING"
    with pytest.raises(SettingsError, match="STACKSPEND_LOG_LEVEL"):
        load_settings(log_level="LOUD")
