"""`stackspend limit set|remove|list|history`: the stored key, one request, the audit, and
the next sync's snapshot."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import create_engine, update

from connectors.cursor.endpoints import USER_SPEND_LIMIT
from connectors.cursor.sim_team import DEMO_API_KEY, SimulatorConfig
from connectors.cursor.simulator import CursorSimulator, running_server
from ledger.limit_models import SpendLimitChange
from ledger.secrets import generate_secret_key
from tests.bot.cli_support import run


@pytest.fixture
def cli(tmp_path: Path) -> Iterator[tuple[dict[str, str], CursorSimulator]]:
    """A migrated ledger with T1 connected (key from a file, as the CLI takes it) and synced."""
    sim = CursorSimulator(SimulatorConfig(users=6, days=12, rate_limiting=False))
    key_file = tmp_path / "key"
    key_file.write_text(DEMO_API_KEY)
    with running_server(sim) as base_url:
        env = {
            "STACKSPEND_DATABASE_URL": f"sqlite:///{tmp_path / 'cli.db'}",
            "STACKSPEND_SECRET_KEY": generate_secret_key(),
            "STACKSPEND_CURSOR_BASE_URL": base_url,
        }
        assert run(env, "db", "upgrade")[0] == 0
        code, _, err = run(env, "connect", "cursor", "-w", "T1", "--api-key-file", str(key_file))
        assert code == 0, err
        assert run(env, "sync")[0] == 0
        yield env, sim


def person(sim: CursorSimulator) -> str:
    return next(m.email for m in sim.team.members if not m.is_removed)


def test_limit_set_sends_one_request_with_the_stored_key_and_shows_after_the_next_sync(
    cli: tuple[dict[str, str], CursorSimulator],
) -> None:
    env, sim = cli
    email = person(sim)
    code, out, err = run(env, "limit", "set", "-w", "T1", email, "$250")
    assert code == 0, err
    assert f"Spend limit set to $250 for user {email}" in out
    assert "after the next `stackspend sync`" in out
    (request,) = [r for r in sim.requests if r.path == USER_SPEND_LIMIT]
    assert request.key == DEMO_API_KEY
    assert request.body == {"userEmail": email, "spendLimitDollars": 250}
    assert DEMO_API_KEY not in out + err

    assert run(env, "sync")[0] == 0
    code, out, _ = run(env, "limit", "list", "-w", "T1", "--format", "json")
    assert code == 0
    listed = {p["email"]: p for p in json.loads(out)["people"]}
    assert listed[email]["own_limit_dollars"] == 250
    assert listed[email]["effective_limit_dollars"] == 250
    code, out, _ = run(env, "limit", "list", "-w", "T1")
    assert f"• {email}: $250 of their own (Cursor enforces $250)" in out

    code, out, _ = run(env, "limit", "history", "-w", "T1", "--format", "json")
    (change,) = json.loads(out)
    assert change["requested_by"] == "cli"
    assert (change["email"], change["new_dollars"], change["outcome"]) == (email, 250, "success")


def test_limit_remove_sends_null(cli: tuple[dict[str, str], CursorSimulator]) -> None:
    env, sim = cli
    email = person(sim)
    code, out, err = run(env, "limit", "remove", "-w", "T1", email, "--format", "json")
    assert code == 0, err
    assert json.loads(out)["outcome"] == "success"
    bodies = [r.body for r in sim.requests if r.path == USER_SPEND_LIMIT]
    assert bodies == [{"userEmail": email, "spendLimitDollars": None}]
    code, out, _ = run(env, "limit", "history", "-w", "T1")
    assert f"cli · {email} · " in out and "→ no limit · success" in out


@pytest.mark.parametrize(
    ("args", "says"),
    [
        (("set", "-w", "T1", "a@acme.test", "199.99"), "whole dollars only"),
        (("set", "-w", "T1", "a@acme.test", "lots"), "not a number of whole dollars"),
        (("set", "-w", "T1", "not-an-email", "5"), "not an email address"),
        (("set", "-w", "NOPE", "a@acme.test", "5"), "NOPE"),
    ],
)
def test_bad_input_is_refused_before_anything_is_sent(
    cli: tuple[dict[str, str], CursorSimulator], args: tuple[str, ...], says: str
) -> None:
    env, sim = cli
    code, _, err = run(env, "limit", *args)
    assert code != 0
    assert says in err
    assert [r for r in sim.requests if r.path == USER_SPEND_LIMIT] == []


def test_cursors_refusal_is_printed_as_it_is_and_exits_non_zero(
    cli: tuple[dict[str, str], CursorSimulator],
) -> None:
    env, _ = cli
    code, _, err = run(env, "limit", "set", "-w", "T1", "ghost@nowhere.test", "5")
    assert code == 1
    assert "Cursor refused it: User is not a member of this team" in err


def test_a_team_without_enterprise_is_told_why(
    cli: tuple[dict[str, str], CursorSimulator],
) -> None:
    env, sim = cli
    sim.add_key(DEMO_API_KEY, "no-enterprise")
    code, _, err = run(env, "limit", "set", "-w", "T1", person(sim), "5")
    assert code == 1
    assert "Enterprise teams only (HTTP 403)" in err


def test_list_before_any_sync_says_so(tmp_path: Path) -> None:
    env = {
        "STACKSPEND_DATABASE_URL": f"sqlite:///{tmp_path / 'cli.db'}",
        "STACKSPEND_SECRET_KEY": generate_secret_key(),
    }
    assert run(env, "db", "upgrade")[0] == 0
    code, _, err = run(env, "limit", "list", "-w", "T1")
    assert code == 1 and "T1" in err


def test_cursors_words_cannot_drive_the_terminal(
    cli: tuple[dict[str, str], CursorSimulator],
) -> None:
    """Cursor's message and the emails of its snapshot are its text, not ours: control
    characters are shown, never sent to the terminal."""
    env, sim = cli
    email = person(sim)
    assert run(env, "limit", "set", "-w", "T1", email, "$250")[0] == 0
    engine = create_engine(env["STACKSPEND_DATABASE_URL"])
    with engine.begin() as connection:
        connection.execute(
            update(SpendLimitChange).values(message="ok\x1b[2J\x1b]0;pwned\x07\u202e")
        )
    engine.dispose()
    code, out, _ = run(env, "limit", "history", "-w", "T1")
    assert code == 0
    assert "ok\ufffd[2J" in out
    assert not any(ch in out for ch in "\x1b\x07\u202e")
