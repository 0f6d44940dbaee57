"""Fixtures shared by the Slack tests: a fake Slack and a Bolt app wired to a real ledger."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from sqlalchemy import Engine

from bot.testing.fake_slack import FakeSlack
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
