"""Client-side pacing under per-route request limits.

Cursor counts requests per team and route in windows of one minute. The pacer
keeps, per route, the completion times of the last ``limit`` requests and lets
a new request start only once the oldest of them is a full window old. A request
reaches the server between its start and its completion, so counting it at its
completion means no window on the server's clock can ever see ``limit + 1``.
"""

from __future__ import annotations

import threading
import time
from collections import deque
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager

from connectors.cursor.metrics import record_rate_limit_wait


class RoutePacer:
    """Sliding-window limiter shared by every request a client makes."""

    def __init__(
        self,
        limits: Mapping[str, int],
        *,
        window_seconds: float = 60.0,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        if window_seconds <= 0:
            raise ValueError("window_seconds must be positive")
        self._limits = dict(limits)
        self._window = window_seconds
        self._clock = clock
        self._sleep = sleep
        self._done: dict[str, deque[float]] = {}
        self._lock = threading.Lock()
        self.waited_seconds = 0.0

    def _wait_time(self, route: str) -> float:
        limit = self._limits.get(route)
        if not limit:
            return 0.0
        done = self._done.setdefault(route, deque(maxlen=limit))
        if len(done) < limit:
            return 0.0
        return max(0.0, done[0] + self._window - self._clock())

    @contextmanager
    def slot(self, route: str) -> Iterator[None]:
        """Wait for room under ``route``'s limit, then count the request on exit."""
        while True:
            with self._lock:
                delay = self._wait_time(route)
            if delay <= 0:
                break
            self.waited_seconds += delay
            record_rate_limit_wait(route, "pacing", delay)
            self._sleep(delay)
        try:
            yield
        finally:
            with self._lock:
                if self._limits.get(route):
                    self._done[route].append(self._clock())
