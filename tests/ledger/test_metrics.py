"""Sync runs, their duration and the events they store are counted; claims have helpers."""

from __future__ import annotations

from dataclasses import replace

import pytest
from prometheus_client import REGISTRY
from sqlalchemy import Engine

from ledger.metrics import claim_held, record_claim, record_claim_expired
from ledger.secrets import SecretBox, generate_secret_key
from tests.ledger.support import make_team


def sample(name: str, **labels: str) -> float:
    return REGISTRY.get_sample_value(name, labels) or 0.0


def test_a_sync_counts_its_run_its_duration_and_the_events_it_stored(
    sqlite_engine: Engine,
) -> None:
    runs = sample("stackspend_sync_runs_total", outcome="ok")
    timed = sample("stackspend_sync_duration_seconds_count", outcome="ok")
    new = sample("stackspend_sync_events_stored_total", change="new")

    outcome = make_team(sqlite_engine, users=3, days=3).sync()

    assert outcome.ok
    assert sample("stackspend_sync_runs_total", outcome="ok") == runs + 1
    assert sample("stackspend_sync_duration_seconds_count", outcome="ok") == timed + 1
    assert sample("stackspend_sync_events_stored_total", change="new") == new + outcome.events.new


def test_a_failed_sync_is_counted_as_failed(sqlite_engine: Engine) -> None:
    team = make_team(sqlite_engine, users=2, days=2)
    failed = sample("stackspend_sync_runs_total", outcome="failed")
    outcome = replace(team, box=SecretBox([generate_secret_key()])).sync()  # wrong secret key
    assert not outcome.ok
    assert sample("stackspend_sync_runs_total", outcome="failed") == failed + 1


def test_claim_helpers_move_the_claim_metrics() -> None:
    claimed = sample("stackspend_claims_total", kind="digest", outcome="claimed")
    held = sample("stackspend_claims_held", kind="digest")
    expired = sample("stackspend_claims_expired_total", kind="digest")

    record_claim("digest", "claimed")
    claim_held("digest", 1)
    record_claim_expired("digest")

    assert sample("stackspend_claims_total", kind="digest", outcome="claimed") == claimed + 1
    assert sample("stackspend_claims_held", kind="digest") == held + 1
    assert sample("stackspend_claims_expired_total", kind="digest") == expired + 1
    claim_held("digest", -1)
    assert sample("stackspend_claims_held", kind="digest") == held


def test_claim_outcomes_are_bounded() -> None:
    with pytest.raises(ValueError, match="claim outcome"):
        record_claim("sync", "T0123 claimed")
