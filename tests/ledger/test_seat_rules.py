"""The pure seat rules: changes noticed between snapshots, tenures, the activity window,
the cost spread over cycles, and adoption outliers."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from itertools import pairwise

from sqlalchemy import Engine
from sqlmodel import col, select

from connectors.records import MemberSnapshot
from ledger.activity_reads import PersonUsage
from ledger.activity_window import activity_start
from ledger.adoption import AdoptionRow, _heavy_use_low_cost, _high_spend_low_acceptance, _sum
from ledger.db import session_scope
from ledger.digest_data import cycle_containing, next_cycle_start
from ledger.models import DailyActivityRow, Member
from ledger.periods import Cycle
from ledger.seat_changes import seat_changes
from ledger.seat_models import SeatChangeKind as K
from ledger.seat_tenure import Tenure, is_paid_role, seat_days, tenures
from ledger.seats import seat_cost
from tests.ledger.support import NOW, make_team

D = date(2026, 11, 10)


def _listed(email: str, removed: bool = False) -> MemberSnapshot:
    return MemberSnapshot(None, email, email, "member", removed)


def _known(email: str, removed: bool = False) -> Member:
    return Member(connection_id=1, email=email, is_removed=removed)


def test_the_first_snapshot_is_the_baseline_and_records_nothing() -> None:
    assert seat_changes({}, [_listed("a@x.test"), _listed("b@x.test", removed=True)]) == []


def test_new_returning_removed_and_vanished_members_are_noticed() -> None:
    known = {
        "stay@x.test": _known("stay@x.test"),
        "back@x.test": _known("back@x.test", removed=True),
        "marked@x.test": _known("marked@x.test"),
        "gone@x.test": _known("gone@x.test"),
        "long-gone@x.test": _known("long-gone@x.test", removed=True),
    }
    snapshot = [
        _listed("stay@x.test"),
        _listed("back@x.test"),
        _listed("marked@x.test", removed=True),
        _listed("new@x.test"),
        _listed("new@x.test"),  # listed twice: counted once
        _listed("new-but-removed@x.test", removed=True),
    ]
    assert sorted(seat_changes(known, snapshot)) == [
        ("back@x.test", K.JOINED),
        ("gone@x.test", K.LEFT),
        ("marked@x.test", K.LEFT),
        ("new@x.test", K.JOINED),
    ]


def test_tenures_follow_the_changes_in_order() -> None:
    d = [D + timedelta(days=i) for i in range(6)]
    assert tenures(is_removed=False, changes=[], last_active=None) == (Tenure(None, None),)
    assert tenures(is_removed=False, changes=[(d[0], K.JOINED)], last_active=None) == (
        Tenure(d[0], None),
    )
    left_then_back = [(d[0], K.LEFT), (d[2], K.JOINED), (d[4], K.LEFT)]
    assert tenures(is_removed=True, changes=left_then_back, last_active=None) == (
        Tenure(None, d[0]),
        Tenure(d[2], d[4]),
    )
    # removed before tracking began: held up to the last active day, or never
    assert tenures(is_removed=True, changes=[], last_active=d[1]) == (Tenure(None, d[1]),)
    assert tenures(is_removed=True, changes=[], last_active=None) == ()


def test_seat_days_count_the_days_held_inclusive() -> None:
    held = (Tenure(D, D + timedelta(days=2)), Tenure(D + timedelta(days=10), None))
    assert seat_days(held, D - timedelta(days=5), D + timedelta(days=11)) == 3 + 2
    assert seat_days(held, D + timedelta(days=3), D + timedelta(days=9)) == 0
    assert not is_paid_role("free-owner") and is_paid_role("owner") and is_paid_role("member")


def test_a_whole_cycle_costs_one_price_and_a_split_period_is_spread_per_cycle() -> None:
    cycle = Cycle(start=date(2026, 11, 15), previous_start=date(2026, 10, 15))
    one = [(Tenure(None, None),)]
    assert seat_cost(one, cycle, date(2026, 10, 15), date(2026, 11, 14), 4000) == 4000
    assert seat_cost(one * 3, cycle, date(2026, 11, 15), date(2026, 12, 14), 4000) == 12000
    # 6 days of a 31-day cycle and 6 of a 30-day one
    split = seat_cost(one, cycle, date(2026, 11, 9), date(2026, 11, 20), 3100)
    assert split == round(Decimal(3100 * 6) / 31 + Decimal(3100 * 6) / 30)
    # a seat that left on Nov 16 is paid to that day
    left = [(Tenure(None, date(2026, 11, 16)),)]
    assert seat_cost(left, cycle, date(2026, 11, 15), date(2026, 11, 30), 3000) == 200


def test_cycles_that_start_on_the_31st_keep_starting_on_the_month_s_last_day() -> None:
    """Jan 31, Feb 28, Mar 31, Apr 30: stepping from a clamped start (Feb 28) must not drift
    to the 28th; each whole cycle still costs one price."""
    cycle = Cycle(start=date(2026, 1, 31), previous_start=date(2025, 12, 31))
    starts = [
        date(2025, 10, 31), date(2025, 11, 30), date(2025, 12, 31), date(2026, 1, 31),
        date(2026, 2, 28), date(2026, 3, 31), date(2026, 4, 30), date(2026, 5, 31),
    ]  # fmt: skip
    for first, following in pairwise(starts):
        for day in (first, following - timedelta(days=1)):
            found = cycle_containing(cycle, day)
            assert (found.start, next_cycle_start(found)) == (first, following), day
    clamped = Cycle(start=date(2026, 2, 28), previous_start=date(2026, 1, 31))  # as Cursor says
    assert next_cycle_start(clamped) == date(2026, 3, 31)
    one = [(Tenure(None, None),)]
    assert seat_cost(one, cycle, date(2026, 3, 31), date(2026, 5, 30), 3000) == 6000
    assert seat_cost(one, clamped, date(2026, 2, 28), date(2026, 3, 30), 3000) == 3000


def test_the_activity_window_backfills_the_first_run_and_closes_gaps() -> None:
    end = datetime(2026, 11, 25, 13, 59, tzinfo=UTC)
    week = end - timedelta(days=7)
    assert activity_start(end, synced_at=None, history_start=None, days=7, max_days=90) == week
    history = end - timedelta(days=40)
    assert activity_start(end, synced_at=None, history_start=history, days=7, max_days=90) == (
        history
    )
    old = end - timedelta(days=400)
    assert activity_start(end, synced_at=None, history_start=old, days=7, max_days=90) == (
        end - timedelta(days=90)
    )
    hour_ago = end - timedelta(hours=1)
    assert activity_start(end, synced_at=hour_ago, history_start=old, days=7, max_days=90) == week
    gap = end - timedelta(days=12)
    assert activity_start(end, synced_at=gap, history_start=old, days=7, max_days=90) == (
        gap - timedelta(days=2)
    )


def _row(email: str, *, spend: int, accepted: int, requests: int, days: int = 5) -> AdoptionRow:
    usage = PersonUsage(email, days, accepted * 2, accepted, requests, 0, 0, 0, 0, 0)
    return AdoptionRow(usage, Decimal(spend))


def test_outliers_are_named_both_ways_and_need_enough_people() -> None:
    rows = [
        _row("typical1@x.test", spend=1000, accepted=500, requests=100),
        _row("typical2@x.test", spend=1200, accepted=600, requests=110),
        _row("typical3@x.test", spend=900, accepted=450, requests=90),
        _row("burner@x.test", spend=9000, accepted=200, requests=150),
        _row("thrifty@x.test", spend=300, accepted=800, requests=600),
    ]
    team = _sum(rows)
    assert [r.email for r in _high_spend_low_acceptance(rows, team)] == ["burner@x.test"]
    assert [r.email for r in _heavy_use_low_cost(rows, team)] == ["thrifty@x.test"]
    few = rows[3:]
    assert _high_spend_low_acceptance(few, _sum(few)) == []
    assert _heavy_use_low_cost(few, _sum(few)) == []
    assert (
        _row("idle@x.test", spend=0, accepted=0, requests=0, days=0).spend_per_active_day_cents
        is None
    )


def test_the_first_sync_reads_daily_activity_back_to_where_history_starts(
    sqlite_engine: Engine,
) -> None:
    team = make_team(sqlite_engine, days=40)
    outcome = team.sync()
    assert outcome.history_start is not None
    with session_scope(sqlite_engine) as session:
        days = session.exec(
            select(col(DailyActivityRow.day)).where(
                DailyActivityRow.connection_id == team.connection_id
            )
        ).all()
    assert min(days) <= outcome.history_start.date() + timedelta(days=1)
    assert min(days) < NOW.date() - timedelta(days=30)
    windows = [r for r in team.sim.requests if r.path == "/teams/daily-usage-data"]
    assert len(windows) == 2  # 40 days in windows of at most 30
