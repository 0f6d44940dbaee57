"""Prometheus metrics of the ledger: sync runs, events stored, and claims on shared work.

Labels are bounded: a sync's ``outcome`` is its final ``SyncStatus`` (ok, failed, stopped);
``change`` is new or revised; a claim's ``kind`` names the work (sync, digest, alerts) and
its ``outcome`` is one of :data:`CLAIM_OUTCOMES`. Never a team, user or connection id.

The claim metrics are recorded by whichever module claims work for a replica through the
database, through :func:`record_claim`, :func:`claim_held` and :func:`record_claim_expired`.
"""

from __future__ import annotations

from typing import Final

from prometheus_client import Counter, Gauge, Histogram

from ledger.ingest import IngestResult

#: Seconds: a sync of a quiet team takes a second, a first sync of a large one many minutes.
SYNC_BUCKETS: Final = (0.5, 1, 2.5, 5, 10, 30, 60, 120, 300, 600, 1200, 1800, 3600)

SYNC_RUNS: Final = Counter(
    "stackspend_sync_runs", "Sync runs that ended, by outcome (ok, failed, stopped).", ["outcome"]
)
SYNC_DURATION: Final = Histogram(
    "stackspend_sync_duration_seconds",
    "How long a sync run took, from its lease taken to its end, by outcome.",
    ["outcome"],
    buckets=SYNC_BUCKETS,
)
for _outcome in ("ok", "failed", "stopped"):  # present from the start: absent() stays quiet
    SYNC_RUNS.labels(outcome=_outcome)
EVENTS_STORED: Final = Counter(
    "stackspend_sync_events_stored",
    "Usage events committed by syncs: new ones, and revised versions of stored ones.",
    ["change"],
)

#: What can become of an attempt to claim a unit of work.
CLAIM_OUTCOMES: Final = frozenset({"claimed", "busy", "done", "taken_over"})

CLAIMS: Final = Counter(
    "stackspend_claims",
    "Attempts to claim shared work (sync, digest, alerts) by outcome: claimed, busy "
    "(another replica holds it), done (already finished), taken_over (an expired claim).",
    ["kind", "outcome"],
)
CLAIMS_HELD: Final = Gauge(
    "stackspend_claims_held",
    "Claims this replica holds now, by kind.",
    ["kind"],
    multiprocess_mode="livesum",
)
CLAIMS_EXPIRED: Final = Counter(
    "stackspend_claims_expired",
    "Claims that expired unfinished (their holder stopped renewing them), by kind.",
    ["kind"],
)


def record_sync_run(outcome: str, seconds: float) -> None:
    """A sync run ended with ``outcome`` after ``seconds``."""
    SYNC_RUNS.labels(outcome=outcome).inc()
    SYNC_DURATION.labels(outcome=outcome).observe(seconds)


def record_events_stored(result: IngestResult) -> None:
    """A committed page of events."""
    if result.new:
        EVENTS_STORED.labels(change="new").inc(result.new)
    if result.revised:
        EVENTS_STORED.labels(change="revised").inc(result.revised)


def record_claim(kind: str, outcome: str) -> None:
    """One attempt to claim ``kind`` of work; ``outcome`` is one of :data:`CLAIM_OUTCOMES`."""
    if outcome not in CLAIM_OUTCOMES:
        raise ValueError(f"claim outcome {outcome!r} is not one of {sorted(CLAIM_OUTCOMES)}")
    CLAIMS.labels(kind=kind, outcome=outcome).inc()


def claim_held(kind: str, delta: int) -> None:
    """This replica took (+1) or let go of (-1) a claim of ``kind``."""
    CLAIMS_HELD.labels(kind=kind).inc(delta)


def record_claim_expired(kind: str) -> None:
    """A claim of ``kind`` was found expired (its holder stopped renewing it)."""
    CLAIMS_EXPIRED.labels(kind=kind).inc()
