"""Ids that tie log lines together: team, user, connection, job and request.

One context variable holds them, so they follow the work and not the thread:

- the HTTP edge opens a request (:func:`request_scope`) and the Bolt middleware adds the
  team and user (:func:`bind_request`);
- listener and answer threads start from a copy of the submitting thread's context
  (:class:`ContextExecutor`, :func:`carry`);
- a scheduled job wraps its run in :func:`job_scope` (job id, and the connection it syncs).

:class:`ContextFilter` copies the ids that are set onto every record (the JSON log format
prints them as fields). Only ids: never a name, an email, a message or a payload.
"""

from __future__ import annotations

import contextvars
import logging
import uuid
from collections.abc import Callable, Iterator, Mapping
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import contextmanager
from typing import Final, ParamSpec, TypeVar

#: The ids a log record may carry, in the order they are printed.
FIELDS: Final = ("team_id", "user_id", "connection_id", "job_id", "request_id")

_IDS: contextvars.ContextVar[Mapping[str, str] | None] = contextvars.ContextVar(
    "stackspend_log_ids", default=None
)
#: The request id the HTTP edge gave the request being handled, while it is handled.
_EDGE_REQUEST: contextvars.ContextVar[str | None] = contextvars.ContextVar(
    "stackspend_edge_request", default=None
)

P = ParamSpec("P")
T = TypeVar("T")


def current() -> Mapping[str, str]:
    """The ids set for the work in hand."""
    return _IDS.get() or {}


def new_request_id() -> str:
    return uuid.uuid4().hex[:16]


def _clean(ids: Mapping[str, object | None]) -> dict[str, str]:
    return {name: str(value) for name, value in ids.items() if name in FIELDS and value}


@contextmanager
def scope(**ids: object | None) -> Iterator[None]:
    """Add ``ids`` for the duration of the block (the outer ones come back after it)."""
    token = _IDS.set({**current(), **_clean(ids)})
    try:
        yield
    finally:
        _IDS.reset(token)


@contextmanager
def request_scope(request_id: str | None = None) -> Iterator[str]:
    """One HTTP request: only its own request id, whatever the thread handled before."""
    request_id = request_id or new_request_id()
    edge = _EDGE_REQUEST.set(request_id)
    ids = _IDS.set({"request_id": request_id})
    try:
        yield request_id
    finally:
        _IDS.reset(ids)
        _EDGE_REQUEST.reset(edge)


@contextmanager
def detached() -> Iterator[None]:
    """No ids for the duration of the block, whatever the thread carried before."""
    token = _IDS.set(None)
    try:
        yield
    finally:
        _IDS.reset(token)


def bind_request(*, team_id: str | None, user_id: str | None) -> None:
    """A Slack request's ids, for the rest of its handling in this thread (Bolt middleware).

    Replaces whatever the thread carried: under HTTP the edge's request id is kept, in
    Socket Mode (no edge) each request gets a new one."""
    request_id = _EDGE_REQUEST.get() or new_request_id()
    _IDS.set(_clean({"team_id": team_id, "user_id": user_id, "request_id": request_id}))


@contextmanager
def job_scope(job_id: str, *, connection_id: int | None = None) -> Iterator[None]:
    """A scheduled job's run: its id (and the connection it works on), nothing inherited."""
    token = _IDS.set(_clean({"job_id": job_id, "connection_id": connection_id}))
    try:
        yield
    finally:
        _IDS.reset(token)


def carry(work: Callable[[], T]) -> Callable[[], T]:
    """``work``, to run in another thread with the ids set here and now."""
    context = contextvars.copy_context()
    return lambda: context.run(work)


class ContextExecutor(ThreadPoolExecutor):
    """A thread pool whose tasks run with the submitting thread's ids (Bolt's listeners)."""

    def submit(self, fn: Callable[P, T], /, *args: P.args, **kwargs: P.kwargs) -> Future[T]:
        context = contextvars.copy_context()

        def run() -> T:
            return context.run(fn, *args, **kwargs)

        return super().submit(run)


class ContextFilter(logging.Filter):
    """Puts the ids that are set on each record, as attributes named after :data:`FIELDS`."""

    def filter(self, record: logging.LogRecord) -> bool:
        for name, value in current().items():
            setattr(record, name, value)
        return True
