"""Named locks that hold across threads and, on PostgreSQL, across processes and replicas.

``held_lock(engine, name)`` takes a lock in this process (a ``threading.Lock`` per name)
and, on PostgreSQL, a transaction-scoped advisory lock keyed on the name, held until the
block ends. SQLite serves one process, so the thread lock is the whole story there.
"""

from __future__ import annotations

import hashlib
import threading
from collections.abc import Iterator
from contextlib import contextmanager

from sqlalchemy import Engine, text

_LOCKS: dict[str, threading.Lock] = {}
_LOCKS_GUARD = threading.Lock()


def lock_key(name: str) -> int:
    """A signed 64-bit key for ``pg_advisory_xact_lock``, the same in every process."""
    digest = hashlib.blake2b(name.encode("utf-8"), digest_size=8).digest()
    return int.from_bytes(digest, "big", signed=True)


def _thread_lock(name: str) -> threading.Lock:
    with _LOCKS_GUARD:
        return _LOCKS.setdefault(name, threading.Lock())


@contextmanager
def held_lock(engine: Engine, name: str) -> Iterator[None]:
    """Run the block while no other thread, process or replica holds ``name``."""
    with _thread_lock(name):
        if engine.dialect.name != "postgresql":
            yield
            return
        with engine.begin() as connection:
            connection.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": lock_key(name)})
            yield
