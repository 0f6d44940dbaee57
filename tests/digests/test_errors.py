"""Ledger errors carry facts; Slack and the terminal each say them with their own hints."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from bot.cli.common import TERMINAL
from digests.errors import error_text
from ledger.errors import (
    Duplicate,
    Input,
    InvalidValue,
    LedgerError,
    LimitReached,
    NotConnected,
    NotFound,
    PeriodError,
    PeriodProblem,
    SyncAlreadyRunning,
    Thing,
    UnlinkedPerson,
)


@pytest.mark.parametrize(
    ("error", "slack", "terminal"),
    [
        (NotFound(Thing.BUDGET, 4), "see `/spend budget list`", "see `stackspend budget list`"),
        (
            NotFound(Thing.ALERT, 9),
            "No alert with ID 9: see `/spend alerts`",
            "`stackspend alerts`",
        ),
        (
            NotConnected("T1", "cursor"),
            "`/spend cursor connect` in Slack",
            "Connect it with `stackspend connect cursor --workspace T1`.",
        ),
        (
            InvalidValue(Input.BUDGET_AMOUNT, 0, limit=1_000_000_000),
            "at most $10,000,000: e.g. `/spend budget set cursor $5000`",
            "e.g. `stackspend budget set --amount 5000`",
        ),
        (
            LimitReached(Thing.BUDGET, 100, 100),
            "(`/spend budget list`, `/spend budget remove ID`)",
            "(`stackspend budget list`, `stackspend budget remove ID`)",
        ),
    ],
)
def test_each_surface_says_the_same_error_with_its_own_hints(
    error: LedgerError, slack: str, terminal: str
) -> None:
    assert slack in error_text(error)
    assert terminal in error_text(error, TERMINAL)
    assert "/spend" not in str(error) and "$" not in str(error)  # the error itself has no words


def test_every_error_of_the_tree_has_a_sentence() -> None:
    errors: list[LedgerError] = [
        *(NotFound(thing, "x") for thing in Thing),
        NotConnected("T1", None),
        *(InvalidValue(field, "x", limit=3) for field in Input),
        InvalidValue(Input.BUDGET_AMOUNT, "x"),
        LimitReached(Thing.DIGEST, 20, 20),
        Duplicate(Thing.DIGEST, 3),
        UnlinkedPerson("UBOB"),
        *(PeriodError(problem, "x", max_days=366) for problem in PeriodProblem),
        SyncAlreadyRunning(1, datetime(2026, 11, 25, tzinfo=UTC), "schedule"),
    ]
    for error in errors:
        text = error_text(error)
        assert text.endswith((".", ")")) and text != "That request could not be served."
