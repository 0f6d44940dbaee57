"""Pacing keeps every route under its per-minute limit without wasting time."""

from __future__ import annotations

import itertools
from datetime import UTC, datetime, timedelta

import pytest

from connectors.cursor.pacing import RoutePacer
from connectors.cursor.windows import DAY_MS, from_ms, settled_end, split_window, to_ms


class FakeTime:
    def __init__(self) -> None:
        self.now = 1000.0

    def clock(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.now += seconds


def run_requests(
    pacer: RoutePacer, fake: FakeTime, route: str, count: int, cost: float
) -> list[float]:
    starts = []
    for _ in range(count):
        with pacer.slot(route):
            starts.append(fake.now)
            fake.now += cost
    return starts


def test_no_window_of_the_limit_length_holds_more_than_the_limit() -> None:
    fake = FakeTime()
    pacer = RoutePacer({"/r": 20}, window_seconds=60, clock=fake.clock, sleep=fake.sleep)
    starts = run_requests(pacer, fake, "/r", 70, cost=0.2)
    for i in range(len(starts) - 20):
        assert starts[i + 20] - (starts[i] + 0.2) >= 60 - 1e-9


def test_pacing_costs_no_more_than_the_limit_requires() -> None:
    fake = FakeTime()
    pacer = RoutePacer({"/r": 20}, window_seconds=60, clock=fake.clock, sleep=fake.sleep)
    starts = run_requests(pacer, fake, "/r", 60, cost=0.0)
    # 60 requests at 20 a minute: two full waits of one window.
    assert starts[-1] - starts[0] == pytest.approx(120.0)
    assert pacer.waited_seconds == pytest.approx(120.0)


def test_routes_have_separate_budgets_and_unlisted_routes_are_free() -> None:
    fake = FakeTime()
    pacer = RoutePacer({"/a": 2, "/b": 2}, window_seconds=60, clock=fake.clock, sleep=fake.sleep)
    run_requests(pacer, fake, "/a", 2, cost=0)
    run_requests(pacer, fake, "/b", 2, cost=0)
    run_requests(pacer, fake, "/other", 50, cost=0)
    assert fake.now == 1000.0


def test_window_must_be_positive() -> None:
    with pytest.raises(ValueError, match="positive"):
        RoutePacer({}, window_seconds=0)


def test_windows_never_exceed_thirty_days_and_cover_the_range_exactly() -> None:
    start, end = 0, 95 * DAY_MS + 12345
    windows = list(split_window(start, end))
    assert windows[0][0] == start and windows[-1][1] == end
    assert all(b - a + 1 <= 30 * DAY_MS for a, b in windows)
    assert all(nxt[0] == prev[1] + 1 for prev, nxt in itertools.pairwise(windows))
    assert list(split_window(10, 9)) == []
    assert list(split_window(5, 5)) == [(5, 5)]


def test_windows_end_on_the_previous_whole_hour() -> None:
    now = datetime(2026, 11, 25, 14, 37, 12, tzinfo=UTC)
    assert settled_end(now) == datetime(2026, 11, 25, 13, 59, 59, 999000, tzinfo=UTC)


def test_epoch_ms_round_trip_is_exact() -> None:
    moment = datetime(2026, 3, 2, 8, 51, 51, 208000, tzinfo=UTC)
    assert to_ms(moment) == 1772441511208
    assert from_ms(1772441511208) == moment
    assert to_ms(moment + timedelta(microseconds=999)) == 1772441511208
    with pytest.raises(ValueError, match="naive"):
        to_ms(datetime(2026, 1, 1))
