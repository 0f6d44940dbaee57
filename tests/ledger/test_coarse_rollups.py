"""Coarse rollups equal a GROUP BY of usage_rollup after ingests, revisions and a timezone
rebuild; reports read from them answer exactly what usage_rollup alone answers."""

from __future__ import annotations

import random
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given
from hypothesis import strategies as st
from sqlalchemy import Engine, text

from connectors.records import KindClass, UsageEvent
from ledger import migrate
from ledger.accounts import find_workspace
from ledger.coarse_rollups import MODEL_DAY, USER_DAY, USER_MONTH
from ledger.db import make_engine, session_scope
from ledger.ingest import ingest_events
from ledger.periods import Period
from ledger.queries import (
    Breakdown,
    Scope,
    fine_totals_and_breakdown,
    scope_for,
    totals_and_breakdown,
)
from ledger.report_plan import block_last, user_pieces
from ledger.rollups import ROLLUP_MEASURES, rebuild_rollups
from tests.ledger.support import make_team

PARIS = ZoneInfo("Europe/Paris")
TOKYO = ZoneInfo("Asia/Tokyo")
START = datetime(2026, 9, 20, tzinfo=UTC)
USERS = [f"u{i}@acme.test" for i in range(6)]
MODELS = ["gpt-5", "auto", "claude-4.5-sonnet"]
KINDS = [
    ("Usage-based", KindClass.ON_DEMAND),
    ("Included", KindClass.INCLUDED),
    ("Errored, No Charge", KindClass.OTHER),
]
MEASURES = ROLLUP_MEASURES


def random_event(rng: random.Random, index: int) -> UsageEvent:
    moment = START + timedelta(seconds=rng.randrange(75 * 86_400))
    kind, kind_class = rng.choice(KINDS)
    return revised(
        rng,
        UsageEvent(
            natural_key=f"{int(moment.timestamp() * 1000):013d}-{index:020d}",
            occurred_at=moment,
            user_email=rng.choice(USERS),
            email_missing=False,
            model="gpt-5",
            kind=kind,
            kind_class=kind_class,
            max_mode=False,
            is_chargeable=True,
            is_headless=False,
            is_token_based=True,
            request_units=Decimal(1),
            input_tokens=0,
            output_tokens=0,
            cache_read_tokens=0,
            cache_write_tokens=0,
            model_cost_cents=Decimal(0),
            token_fee_cents=Decimal(0),
            charged_cents=Decimal(0),
            conversation_id="c",
        ),
    )


def revised(rng: random.Random, event: UsageEvent) -> UsageEvent:
    """The same event (same key and instant) with new values, model and kind class: a
    revision moves its whole delta to another rollup row."""
    kind, kind_class = rng.choice(KINDS)
    cents = Decimal(rng.randrange(10**9)).scaleb(-8)
    return event._replace(
        model=rng.choice(MODELS),
        kind=kind,
        kind_class=kind_class,
        request_units=Decimal(rng.randrange(1, 50)).scaleb(-1),
        input_tokens=rng.randrange(10_000),
        output_tokens=rng.randrange(2_000),
        cache_read_tokens=rng.randrange(50_000),
        cache_write_tokens=rng.randrange(5_000),
        charged_cents=cents,
        model_cost_cents=cents,
    )


def ingest(engine: Engine, connection_id: int, events: list[UsageEvent], tz: ZoneInfo) -> None:
    with session_scope(engine) as session:
        ingest_events(session, connection_id=connection_id, tz=tz, events=events)


def _rows(engine: Engine, sql: str) -> dict[tuple[Any, ...], tuple[Any, ...]]:
    with engine.connect() as connection:
        return {
            tuple(str(v) for v in row[:6]): tuple(Decimal(v) for v in row[6:])
            for row in connection.execute(text(sql))
        }


def coarse_table(engine: Engine) -> dict[tuple[Any, ...], tuple[Any, ...]]:
    return _rows(
        engine,
        f"SELECT connection_id, grain, day, user_email, model, kind_class, "
        f"{', '.join(MEASURES)} FROM usage_rollup_coarse",
    )


def grouped_fine_rollups(engine: Engine) -> dict[tuple[Any, ...], tuple[Any, ...]]:
    """What every coarse grain should hold: usage_rollup grouped in Python."""
    sums: dict[tuple[Any, ...], list[Decimal]] = {}
    with engine.connect() as connection:
        rows = connection.execute(
            text(
                f"SELECT connection_id, day, user_email, model, kind_class, {', '.join(MEASURES)} "
                "FROM usage_rollup"
            )
        ).all()
    for connection_id, day, user, model, kind, *measures in rows:
        first = date.fromisoformat(str(day)).replace(day=1)
        for key in (
            (connection_id, USER_DAY, day, user, "", kind),
            (connection_id, USER_MONTH, first, user, "", kind),
            (connection_id, MODEL_DAY, day, "", model, kind),
        ):
            total = sums.setdefault(tuple(str(v) for v in key), [Decimal(0)] * len(MEASURES))
            for i, value in enumerate(measures):
                total[i] += Decimal(value)
    return {key: tuple(values) for key, values in sums.items()}


def assert_coarse_equals_group_by(engine: Engine) -> None:
    coarse = coarse_table(engine)
    assert coarse, "no coarse rows"
    assert coarse == grouped_fine_rollups(engine)


PERIODS = [
    (date(2026, 9, 20), date(2026, 12, 5)),  # everything, three whole months inside
    (date(2026, 10, 1), date(2026, 10, 31)),  # one calendar month
    (date(2026, 10, 1), date(2026, 10, 27)),  # a cycle on the 27th: month minus 4 days
    (date(2026, 10, 15), date(2026, 11, 14)),  # a cycle starting mid-month
    (date(2026, 10, 29), date(2026, 11, 27)),  # 30 days
    (date(2026, 11, 3), date(2026, 11, 3)),  # one day
]


def assert_reports_unchanged(engine: Engine, scope: Scope, today: date) -> None:
    with session_scope(engine) as session:
        for start, end in PERIODS:
            period = Period(start, end, "p")
            for by in [b for b in Breakdown if b is not Breakdown.GROUP]:  # not from rollups
                new = totals_and_breakdown(session, scope, period, by, today=today)
                old = fine_totals_and_breakdown(session, scope, period, by)
                assert new == old, (start, end, by, today)
                assert new[1], (start, end, by)


@pytest.mark.parametrize("seed", [1, 2])
def test_coarse_rollups_follow_ingests_revisions_and_a_timezone_rebuild(
    engine: Engine, seed: int
) -> None:
    rng = random.Random(seed)
    team = make_team(engine)
    cid = team.connection_id
    events = [random_event(rng, i) for i in range(1_200)]
    for first in range(0, len(events), 150):
        ingest(engine, cid, events[first : first + 150], PARIS)
    assert_coarse_equals_group_by(engine)

    moved = rng.sample(events, 300)  # revisions, and re-reads of unchanged events
    ingest(engine, cid, [revised(rng, e) for e in moved] + rng.sample(events, 100), PARIS)
    assert_coarse_equals_group_by(engine)

    with session_scope(engine) as session:
        scope = scope_for(session, find_workspace(session, "T1"))
    for today in (date(2026, 10, 27), date(2026, 11, 20), date(2026, 12, 31)):
        assert_reports_unchanged(engine, scope, today)

    with session_scope(engine) as session:
        rebuild_rollups(session, connection_id=cid, tz=TOKYO, batch_size=97)
    assert_coarse_equals_group_by(engine)
    assert_reports_unchanged(engine, scope, date(2026, 11, 20))


def test_the_migration_fills_coarse_rollups_from_existing_rollups(database_url: str) -> None:
    engine = make_engine(database_url)
    try:
        rng = random.Random(3)
        team = make_team(engine)
        ingest(engine, team.connection_id, [random_event(rng, i) for i in range(400)], PARIS)
        before = coarse_table(engine)
        migrate.downgrade(database_url, "0009")
        migrate.upgrade(database_url)
        assert coarse_table(engine) == before == grouped_fine_rollups(engine)
    finally:
        engine.dispose()


@given(
    start=st.dates(date(2025, 11, 1), date(2026, 3, 31)),
    length=st.integers(0, 120),
    today_offset=st.integers(-40, 80),
)
def test_user_pieces_count_every_day_of_the_period_once(
    start: date, length: int, today_offset: int
) -> None:
    end = start + timedelta(days=length)
    today = start + timedelta(days=today_offset)
    counted: dict[date, int] = {}
    for piece in user_pieces(start, end, today):
        block = piece.first
        while block <= piece.last:
            day, last = block, block_last(piece.grain, block)
            while day <= last:
                counted[day] = counted.get(day, 0) + piece.sign
                day += timedelta(days=1)
            block = last + timedelta(days=1)
    counted = {day: n for day, n in counted.items() if n}
    assert counted == {start + timedelta(days=i): 1 for i in range(length + 1)}
