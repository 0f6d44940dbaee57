"""Fixtures shared by the Slack and CLI tests: a fake Slack, a Bolt app wired to a real
ledger, and the environment of a `stackspend` run against a simulated Cursor."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import Engine

from bot.testing.fake_slack import FakeSlack
from connectors.cursor.sim_team import DEMO_API_KEY, SimulatorConfig
from connectors.cursor.simulator import CursorSimulator, running_server
from ledger.secrets import generate_secret_key
from tests.bot.cli_support import run
from tests.bot.harness import Harness, build_harness


@pytest.fixture
def slack() -> Iterator[FakeSlack]:
    with FakeSlack() as fake:
        yield fake


@pytest.fixture
def bot(sqlite_engine: Engine, slack: FakeSlack) -> Iterator[Harness]:
    """A workspace that has not connected Cursor yet (tests connect it when they need to)."""
    harness = build_harness(sqlite_engine, slack)
    yield harness
    harness.close()


@pytest.fixture
def env(tmp_path: Path) -> Iterator[dict[str, str]]:
    """The environment of a `stackspend` run: a SQLite ledger and a simulated Cursor."""
    simulator = CursorSimulator(SimulatorConfig(users=6, days=12, rate_limiting=False))
    with running_server(simulator) as base_url:
        yield {
            "STACKSPEND_DATABASE_URL": f"sqlite:///{tmp_path / 'cli.db'}",
            "STACKSPEND_SECRET_KEY": generate_secret_key(),
            "STACKSPEND_CURSOR_BASE_URL": base_url,
            "STACKSPEND_CURSOR_API_KEY": DEMO_API_KEY,
        }


@pytest.fixture
def synced(env: dict[str, str]) -> dict[str, str]:
    """``env`` once `stackspend` has migrated the ledger, connected T1 and synced it."""
    assert run(env, "db", "upgrade")[0] == 0
    code, out, err = run(env, "connect", "cursor", "--workspace", "T1", "--name", "Acme")
    assert code == 0, err
    assert "key …0000" in out and DEMO_API_KEY not in out
    code, out, err = run(env, "sync")
    assert code == 0, err
    assert out.startswith("T1: synced") and "events seen" in out
    return env
