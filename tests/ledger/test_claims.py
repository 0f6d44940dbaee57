"""Work claims: one claimer at a time, expiry and take-over, freshness, on SQLite and PostgreSQL."""

from __future__ import annotations

import threading
from collections import Counter
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import Engine, select

from ledger import claims
from ledger.claims import CLAIMS, ClaimOutcome
from ledger.db import session_scope

T0 = datetime(2026, 11, 28, 9, 0, tzinfo=UTC)
TTL = timedelta(minutes=5)


def at_t0() -> datetime:
    return T0


def row(engine: Engine, key: str) -> dict[str, object]:
    with session_scope(engine) as session:
        return dict(session.execute(select(CLAIMS).where(CLAIMS.c.key == key)).mappings().one())


def test_a_unit_is_claimed_once_until_finished_then_again(engine: Engine) -> None:
    first = claims.claim(engine, "alerts:1", now=T0, ttl=TTL)
    assert first.outcome is ClaimOutcome.CLAIMED
    assert claims.claim(engine, "alerts:1", now=T0, ttl=TTL).outcome is ClaimOutcome.BUSY
    assert claims.claim(engine, "alerts:2", now=T0, ttl=TTL).outcome is ClaimOutcome.CLAIMED
    assert claims.finish(engine, first, now=T0 + timedelta(seconds=3))
    stored = row(engine, "alerts:1")
    assert stored["expires_at"] is None and stored["finished_at"] == T0 + timedelta(seconds=3)
    again = claims.claim(engine, "alerts:1", now=T0 + timedelta(seconds=4), ttl=TTL)
    assert again.outcome is ClaimOutcome.CLAIMED and again.owner != first.owner


def test_fresh_work_is_done_and_stale_work_is_claimed(engine: Engine) -> None:
    held = claims.claim(engine, "alerts:1", now=T0, ttl=TTL)
    claims.finish(engine, held, now=T0)
    hour = timedelta(minutes=50)
    soon = claims.claim(
        engine, "alerts:1", now=T0 + timedelta(minutes=49), ttl=TTL, fresh_within=hour
    )
    assert soon.outcome is ClaimOutcome.DONE
    later = claims.claim(
        engine, "alerts:1", now=T0 + timedelta(minutes=51), ttl=TTL, fresh_within=hour
    )
    assert later.outcome is ClaimOutcome.CLAIMED


def test_a_claim_whose_claimer_died_is_taken_over_after_it_expires(engine: Engine) -> None:
    dead = claims.claim(engine, "alerts:1", now=T0, ttl=TTL)
    early = claims.claim(engine, "alerts:1", now=T0 + TTL - timedelta(seconds=1), ttl=TTL)
    assert early.outcome is ClaimOutcome.BUSY
    taker = claims.claim(engine, "alerts:1", now=T0 + TTL, ttl=TTL, fresh_within=timedelta(hours=1))
    assert taker.outcome is ClaimOutcome.TAKEN_OVER
    assert not claims.finish(engine, dead, now=T0 + TTL), "the dead claimer's finish is refused"
    assert claims.finish(engine, taker, now=T0 + TTL)


def test_claimed_releases_on_error_and_finishes_on_success(engine: Engine) -> None:
    with (
        pytest.raises(RuntimeError),
        claims.claimed(engine, "k", clock=at_t0, ttl=TTL) as held,
    ):
        assert held.outcome.ours
        raise RuntimeError("the work failed")
    stored = row(engine, "k")
    assert stored["expires_at"] is None and stored["finished_at"] is None  # free, not done
    with claims.claimed(engine, "k", clock=at_t0, ttl=TTL, fresh_within=TTL) as held:
        assert held.outcome is ClaimOutcome.CLAIMED
    assert row(engine, "k")["finished_at"] == T0
    with claims.claimed(engine, "k", clock=at_t0, ttl=TTL, fresh_within=TTL) as held:
        assert held.outcome is ClaimOutcome.DONE


def test_claimed_waits_for_the_holder_when_asked(engine: Engine) -> None:
    other = claims.claim(engine, "k", now=T0, ttl=TTL)
    threading.Timer(0.3, lambda: claims.finish(engine, other, now=T0)).start()
    with claims.claimed(engine, "k", clock=at_t0, ttl=TTL, wait=timedelta(seconds=10)) as held:
        assert held.outcome is ClaimOutcome.CLAIMED
    busy = claims.claim(engine, "k", now=T0, ttl=TTL)
    with claims.claimed(engine, "k", clock=at_t0, ttl=TTL, wait=timedelta(seconds=0.3)) as held:
        assert held.outcome is ClaimOutcome.BUSY  # gave up waiting; nothing to finish
    assert claims.finish(engine, busy, now=T0)


def test_racing_claimers_get_each_unit_exactly_once(engine: Engine) -> None:
    """Eight threads claim the same 40 units at once, as replicas' hourly passes do."""
    keys = [f"alerts:{n}" for n in range(40)]
    won: Counter[str] = Counter()
    lock = threading.Lock()
    start = threading.Barrier(8)

    def replica() -> None:
        start.wait()
        for key in keys:
            held = claims.claim(engine, key, now=T0, ttl=TTL, fresh_within=timedelta(hours=1))
            if held.outcome.ours:
                with lock:
                    won[key] += 1
                claims.finish(engine, held, now=T0)

    threads = [threading.Thread(target=replica) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert won == Counter(dict.fromkeys(keys, 1))


def test_this_process_gives_its_claims_back(engine: Engine) -> None:
    now = datetime.now(UTC)
    claims.claim(engine, "a", now=now, ttl=TTL)
    claims.claim(engine, "b", now=now, ttl=TTL)
    assert claims.held_by_this_process(engine, now) == 2
    assert claims.release_held_by_this_process(engine) == 2
    assert claims.held_by_this_process(engine, now) == 0
    assert claims.claim(engine, "a", now=now, ttl=TTL).outcome is ClaimOutcome.CLAIMED


def test_many_units_are_claimed_at_once_each_by_one_claimer(engine: Engine) -> None:
    keys = [f"alerts:{n}" for n in range(10)]
    fresh = timedelta(minutes=50)
    done = claims.claim(engine, "alerts:0", now=T0, ttl=TTL)
    claims.finish(engine, done, now=T0)  # evaluated just now: left alone
    claims.claim(engine, "alerts:1", now=T0, ttl=TTL)  # being evaluated elsewhere
    claims.claim(engine, "alerts:2", now=T0 - 2 * TTL, ttl=TTL)  # its claimer died
    first = claims.claim_many(engine, keys, now=T0, ttl=TTL, fresh_within=fresh)
    assert [c.key for c in first] == keys[2:]
    assert first[0].outcome is ClaimOutcome.TAKEN_OVER
    assert {c.outcome for c in first[1:]} == {ClaimOutcome.CLAIMED}
    assert claims.claim_many(engine, keys, now=T0, ttl=TTL, fresh_within=fresh) == []
    claims.release_many(engine, first[:4])
    claims.finish_many(engine, first[4:], now=T0)
    again = claims.claim_many(engine, keys, now=T0, ttl=TTL, fresh_within=fresh)
    assert [c.key for c in again] == keys[2:6]  # given back, not finished


def test_racing_batch_claimers_get_each_unit_exactly_once(engine: Engine) -> None:
    keys = [f"alerts:{n}" for n in range(300)]
    won: Counter[str] = Counter()
    lock = threading.Lock()
    start = threading.Barrier(6)

    def replica() -> None:
        start.wait()
        for first in range(0, len(keys), 50):
            held = claims.claim_many(
                engine, keys[first : first + 50], now=T0, ttl=TTL, fresh_within=timedelta(hours=1)
            )
            with lock:
                won.update(c.key for c in held)
            claims.finish_many(engine, held, now=T0)

    threads = [threading.Thread(target=replica) for _ in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert won == Counter(dict.fromkeys(keys, 1))
