"""Scheduled work shared by replicas: each unit is claimed by one replica at a time.

Every replica runs the same clock (APScheduler) and so wants to do the same work at the
same moment. A unit of work (a workspace's alert evaluation, say) has one ``work_claim``
row, reused from run to run. To do the unit, a replica claims it:

- no row yet: the claim inserts one (``INSERT … ON CONFLICT DO NOTHING``);
- a row nobody holds (``expires_at`` empty or past): the claim takes it with an update
  conditioned on the row being as it was read, so of two replicas that read the same
  row, one update matches and the other changes nothing;
- a row another replica holds (``expires_at`` in the future): ``BUSY``;
- a row finished within ``fresh_within`` (when asked): ``DONE``, nothing to do.

The claimer finishes the unit (``finish``: the claim is released and the time recorded)
or dies: then its claim expires after ``ttl`` and the next replica to look takes it over
(``TAKEN_OVER``: the unit was left unfinished). Both statements are atomic on SQLite and
PostgreSQL alike, so the same code gives the same guarantees on one process or many.

Units that must never run twice at once but may take long (a connection's sync) use the
sync lease instead (``ledger.lease``), which is renewed while the work runs; digests and
alert messages are claimed per message in ``ledger.deliveries``.
"""

from __future__ import annotations

import enum
import itertools
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import ColumnElement, Engine, Table, func, or_, select, update

from ledger.db import session_scope
from ledger.lease import PROCESS_OWNER
from ledger.metrics import claim_held, record_claim, record_claim_expired
from ledger.models import WorkClaim
from ledger.statements import dialect_insert

CLAIMS: Table = WorkClaim.__table__  # type: ignore[attr-defined]

_serial = itertools.count(1)


class ClaimOutcome(enum.StrEnum):
    CLAIMED = "claimed"  # ours: do the work
    TAKEN_OVER = "taken_over"  # ours: the last claimer stopped without finishing
    BUSY = "busy"  # another replica is doing it now
    DONE = "done"  # finished recently enough: nothing to do

    @property
    def ours(self) -> bool:
        return self in (ClaimOutcome.CLAIMED, ClaimOutcome.TAKEN_OVER)


@dataclass(frozen=True)
class Claim:
    key: str
    owner: str
    outcome: ClaimOutcome


def new_owner() -> str:
    """A claimer's name: this process (host, pid, token) and a serial."""
    return f"{PROCESS_OWNER}/{next(_serial)}"


def kind_of(key: str) -> str:
    """The metric label of a unit: its key up to the first colon (``alerts:12`` → alerts)."""
    return key.partition(":")[0]


def claim(
    engine: Engine,
    key: str,
    *,
    now: datetime,
    ttl: timedelta,
    fresh_within: timedelta | None = None,
    owner: str | None = None,
) -> Claim:
    """Claim the unit ``key`` for ``ttl`` (see the module's docstring for the outcomes)."""
    held = _claim(engine, key, now=now, ttl=ttl, fresh_within=fresh_within, owner=owner)
    _record(held)
    return held


def _record(held: Claim) -> None:
    record_claim(kind_of(held.key), held.outcome.value)
    if held.outcome is ClaimOutcome.TAKEN_OVER:
        record_claim_expired(kind_of(held.key))


def _claim(
    engine: Engine,
    key: str,
    *,
    now: datetime,
    ttl: timedelta,
    fresh_within: timedelta | None,
    owner: str | None,
) -> Claim:
    owner = owner or new_owner()
    mine = {"owner": owner, "claimed_at": now, "expires_at": now + ttl}
    with session_scope(engine) as session:
        inserted = session.execute(
            dialect_insert(session)(CLAIMS)
            .values(key=key, **mine)
            .on_conflict_do_nothing(index_elements=["key"])
            .returning(CLAIMS.c.key)
        ).scalar()
        if inserted is not None:
            return Claim(key, owner, ClaimOutcome.CLAIMED)
        row = session.execute(select(CLAIMS).where(CLAIMS.c.key == key)).one()
        if row.expires_at is not None and row.expires_at > now:
            return Claim(key, owner, ClaimOutcome.BUSY)
        if (
            fresh_within is not None
            and row.finished_at is not None
            and row.finished_at > now - fresh_within
            and row.expires_at is None
        ):
            return Claim(key, owner, ClaimOutcome.DONE)
        taken = session.execute(
            update(CLAIMS)
            .where(
                CLAIMS.c.key == key,
                CLAIMS.c.owner == row.owner,
                CLAIMS.c.claimed_at == row.claimed_at,
            )
            .values(**mine)
        )
        if taken.rowcount != 1:  # type: ignore[attr-defined]
            return Claim(key, owner, ClaimOutcome.BUSY)  # another replica took it just now
    abandoned = row.expires_at is not None  # claimed, never finished, expired
    return Claim(key, owner, ClaimOutcome.TAKEN_OVER if abandoned else ClaimOutcome.CLAIMED)


def claim_many(
    engine: Engine,
    keys: Sequence[str],
    *,
    now: datetime,
    ttl: timedelta,
    fresh_within: timedelta | None = None,
) -> list[Claim]:
    """Claim many units in three statements: the units nobody has claimed before (one
    insert), those whose claimer died (one update of the expired ones), those free and not
    finished within ``fresh_within`` (one update). Each statement takes a row only if it
    still matches when written (PostgreSQL re-checks a row's condition once it holds the
    row's lock), so of two replicas claiming the same keys, each unit goes to one.

    Returns the claims that are ours (``CLAIMED`` or ``TAKEN_OVER``), in ``keys`` order;
    the others were busy or done (counted as such in the claims metric)."""
    owner = new_owner()
    mine = {"owner": owner, "claimed_at": now, "expires_at": now + ttl}
    outcomes: dict[str, ClaimOutcome] = {}
    with session_scope(engine) as session:
        inserted = session.execute(
            dialect_insert(session)(CLAIMS)
            .values([{"key": key, **mine} for key in keys])
            .on_conflict_do_nothing(index_elements=["key"])
            .returning(CLAIMS.c.key)
        ).scalars()
        outcomes.update(dict.fromkeys(inserted, ClaimOutcome.CLAIMED))
        rest = [key for key in keys if key not in outcomes]
        if rest:
            expired = session.execute(
                update(CLAIMS)
                .where(CLAIMS.c.key.in_(rest), CLAIMS.c.expires_at <= now)
                .values(**mine)
                .returning(CLAIMS.c.key)
            ).scalars()
            outcomes.update(dict.fromkeys(expired, ClaimOutcome.TAKEN_OVER))
            rest = [key for key in rest if key not in outcomes]
        if rest:
            stale: list[ColumnElement[bool]] = [CLAIMS.c.finished_at.is_(None)]
            if fresh_within is not None:
                stale.append(CLAIMS.c.finished_at <= now - fresh_within)
            free = session.execute(
                update(CLAIMS)
                .where(CLAIMS.c.key.in_(rest), CLAIMS.c.expires_at.is_(None), or_(*stale))
                .values(**mine)
                .returning(CLAIMS.c.key)
            ).scalars()
            outcomes.update(dict.fromkeys(free, ClaimOutcome.CLAIMED))
    claims = [Claim(key, owner, outcomes.get(key, ClaimOutcome.BUSY)) for key in keys]
    for held in claims:
        _record(held)
    return [held for held in claims if held.outcome.ours]


def finish_many(engine: Engine, held: Sequence[Claim], *, now: datetime) -> None:
    """``finish`` for many claims of one ``claim_many``."""
    if held:
        with session_scope(engine) as session:
            session.execute(
                update(CLAIMS)
                .where(CLAIMS.c.key.in_([c.key for c in held]), CLAIMS.c.owner == held[0].owner)
                .values(expires_at=None, finished_at=now)
            )


def release_many(engine: Engine, held: Sequence[Claim]) -> None:
    """``release`` for many claims of one ``claim_many``."""
    if held:
        with session_scope(engine) as session:
            session.execute(
                update(CLAIMS)
                .where(CLAIMS.c.key.in_([c.key for c in held]), CLAIMS.c.owner == held[0].owner)
                .values(expires_at=None)
            )


def finish(engine: Engine, held: Claim, *, now: datetime) -> bool:
    """Release ``held`` and record the unit as done at ``now``; False if it was taken over."""
    with session_scope(engine) as session:
        done = session.execute(
            update(CLAIMS)
            .where(CLAIMS.c.key == held.key, CLAIMS.c.owner == held.owner)
            .values(expires_at=None, finished_at=now)
        )
        return bool(done.rowcount == 1)  # type: ignore[attr-defined]


def release(engine: Engine, held: Claim) -> None:
    """Give ``held`` back unfinished (the work failed): the next claimer may do it at once."""
    with session_scope(engine) as session:
        session.execute(
            update(CLAIMS)
            .where(CLAIMS.c.key == held.key, CLAIMS.c.owner == held.owner)
            .values(expires_at=None)
        )


@contextmanager
def claimed(
    engine: Engine,
    key: str,
    *,
    clock: Callable[[], datetime],
    ttl: timedelta,
    fresh_within: timedelta | None = None,
    wait: timedelta = timedelta(0),
    poll_seconds: float = 0.25,
) -> Iterator[Claim]:
    """Claim ``key`` (waiting up to ``wait`` while another replica holds it), yield the
    claim, and finish it when the block ends, or release it if the block raised.

    ``clock`` is read at each attempt and at the finish. The caller looks at
    ``claim.outcome.ours`` and does the work only then."""
    deadline = time.monotonic() + wait.total_seconds()
    held = _claim(engine, key, now=clock(), ttl=ttl, fresh_within=fresh_within, owner=None)
    while held.outcome is ClaimOutcome.BUSY and time.monotonic() < deadline:
        time.sleep(poll_seconds)
        held = _claim(engine, key, now=clock(), ttl=ttl, fresh_within=fresh_within, owner=None)
    _record(held)  # once per unit, however long it waited
    if not held.outcome.ours:
        yield held
        return
    claim_held(kind_of(key), 1)
    try:
        yield held
    except BaseException:
        release(engine, held)
        raise
    else:
        finish(engine, held, now=clock())
    finally:
        claim_held(kind_of(key), -1)


def held_by_this_process(engine: Engine, now: datetime) -> int:
    """How many units this process holds now."""
    with session_scope(engine) as session:
        held = session.execute(
            select(func.count())
            .select_from(CLAIMS)
            .where(
                CLAIMS.c.owner.startswith(PROCESS_OWNER + "/", autoescape=True),
                CLAIMS.c.expires_at > now,
            )
        )
        return int(held.scalar_one())


def release_held_by_this_process(engine: Engine) -> int:
    """Give back every unit this process holds (clean shutdown); returns how many."""
    with session_scope(engine) as session:
        result = session.execute(
            update(CLAIMS)
            .where(
                CLAIMS.c.owner.startswith(PROCESS_OWNER + "/", autoescape=True),
                CLAIMS.c.expires_at.is_not(None),
            )
            .values(expires_at=None)
        )
        return int(result.rowcount)  # type: ignore[attr-defined]
