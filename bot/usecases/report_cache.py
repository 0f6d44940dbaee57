"""Recent reports, reused while the data behind them has not changed.

A report depends only on its question and on the connection's data. The cache key
includes the data's version (newest synced instant and last successful sync), so a
sync makes every older entry unreachable; entries also expire after a short time.
Mornings bring bursts of the same few questions: they are answered once.
"""

from __future__ import annotations

import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Hashable

from ledger.queries import Report

Key = tuple[Hashable, ...]


class ReportCache:
    def __init__(
        self,
        *,
        size: int = 256,
        ttl_seconds: float = 300.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._size = size
        self._ttl = ttl_seconds
        self._clock = clock
        self._entries: OrderedDict[Key, tuple[float, Report]] = OrderedDict()
        self._lock = threading.Lock()
        self.hits = 0
        self.misses = 0

    def get_or_build(self, key: Key, build: Callable[[], Report]) -> Report:
        now = self._clock()
        with self._lock:
            found = self._entries.get(key)
            if found is not None and now - found[0] < self._ttl:
                self._entries.move_to_end(key)
                self.hits += 1
                return found[1]
        report = build()
        with self._lock:
            self.misses += 1
            self._entries[key] = (now, report)
            self._entries.move_to_end(key)
            while len(self._entries) > self._size:
                self._entries.popitem(last=False)
        return report
