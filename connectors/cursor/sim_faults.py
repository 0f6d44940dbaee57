"""Fault switches and rate limiting for the Cursor simulator, and the documented error bodies.

:class:`Faults` is read on every request and may be flipped from any thread (a test, or the
``POST /_simulator/faults`` control route of a server in another process).
:class:`RateLimiter` keeps fixed windows of ``minute_seconds`` aligned on the wall clock
(``time.time()``), one counter per key and route.

Faults a client must survive without hanging or running out of memory:

- ``delay_seconds``: wait before answering at all (a server that sends nothing);
- ``drip_seconds``: send every answer one byte at a time, this many seconds apart;
- ``endless_pages``: usage events and spend always report one more page than the one
  asked for (``hasNextPage`` true, a page count growing by one per page), serving the
  last real page again once the real ones run out;
- ``huge_page_mb``: pad every successful answer to this many megabytes (valid JSON,
  streamed in chunks of 1 MiB without a ``Content-Length``).
"""

from __future__ import annotations

import math
import threading
import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from http import HTTPStatus
from typing import Any

from connectors.cursor.endpoints import SPEND, USAGE_EVENTS

MB = 1_000_000
_PAD_CHUNK = 1024 * 1024

_MESSAGES: dict[int, tuple[str, str]] = {
    400: ("Bad Request", "Invalid request"),
    401: ("Unauthorized", "Invalid API key"),
    403: ("Forbidden", "Enterprise access required"),
    404: ("Not Found", "Resource not found"),
    429: ("Too Many Requests", "Rate limit exceeded. Please try again later."),
    500: ("Internal Server Error", "An unexpected error occurred"),
    502: ("Bad Gateway", "The upstream service returned an invalid response"),
    503: ("Service Unavailable", "The service is temporarily unavailable"),
    504: ("Gateway Timeout", "The upstream service did not respond in time"),
}


def reason(status: int) -> str:
    """The HTTP reason phrase of ``status`` ("Error" for codes the stdlib does not know)."""
    try:
        return HTTPStatus(status).phrase
    except ValueError:
        return "Error"


def error_body(status: int, message: str | None = None) -> dict[str, Any]:
    """The documented ``{"error", "message"}`` body for a status."""
    error, text = _MESSAGES.get(status, (reason(status), reason(status)))
    return {"error": error, "message": message or text}


@dataclass(slots=True)
class PendingFault:
    """A queued forced response: ``remaining`` more requests to ``path`` (None: any)."""

    status: int
    remaining: int
    path: str | None
    retry_after: float | None


class Faults:
    """Fault switches, read on every request; safe to flip from any thread."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._failures: list[PendingFault] = []
        self._malformed: list[PendingFault] = []
        self._delay = 0.0
        self._drip = 0.0
        self._endless = False
        self._huge_mb = 0.0
        self._revoke_after: int | None = None
        self._successes = 0

    @property
    def drip_seconds(self) -> float:
        """Seconds between the bytes of every answer (0: answers go out at once)."""
        with self._lock:
            return self._drip

    @drip_seconds.setter
    def drip_seconds(self, seconds: float) -> None:
        with self._lock:
            self._drip = max(0.0, float(seconds))

    @property
    def endless_pages(self) -> bool:
        """Paginated routes always report another page, with a page count that keeps growing."""
        with self._lock:
            return self._endless

    @endless_pages.setter
    def endless_pages(self, on: bool) -> None:
        with self._lock:
            self._endless = bool(on)

    @property
    def huge_page_mb(self) -> float:
        """Successful answers are padded to this many megabytes (0: not padded)."""
        with self._lock:
            return self._huge_mb

    @huge_page_mb.setter
    def huge_page_mb(self, megabytes: float) -> None:
        with self._lock:
            self._huge_mb = max(0.0, float(megabytes))

    @property
    def delay_seconds(self) -> float:
        with self._lock:
            return self._delay

    @delay_seconds.setter
    def delay_seconds(self, seconds: float) -> None:
        with self._lock:
            self._delay = max(0.0, float(seconds))

    @property
    def revoke_after_calls(self) -> int | None:
        with self._lock:
            return self._revoke_after

    @revoke_after_calls.setter
    def revoke_after_calls(self, calls: int | None) -> None:
        """Revoke every key after ``calls`` more successful calls (None: never)."""
        with self._lock:
            self._revoke_after, self._successes = calls, 0

    def fail_next(
        self,
        status: int,
        count: int = 1,
        *,
        path: str | None = None,
        retry_after: float | None = None,
    ) -> None:
        """Answer the next ``count`` requests (to ``path``, or any) with ``status``.

        Forced answers come before auth and rate limiting and use no rate budget. The body is
        the documented one for the status; ``Retry-After`` is sent only when ``retry_after``
        is given.
        """
        if count < 1:
            return
        with self._lock:
            self._failures.append(PendingFault(status, count, path, retry_after))

    def malform_next(self, count: int = 1, *, path: str | None = None) -> None:
        """Truncate the body of the next ``count`` successful responses (to ``path``)."""
        if count < 1:
            return
        with self._lock:
            self._malformed.append(PendingFault(200, count, path, None))

    def reset(self) -> None:
        with self._lock:
            self._failures.clear()
            self._malformed.clear()
            self._delay, self._revoke_after, self._successes = 0.0, None, 0
            self._drip, self._endless, self._huge_mb = 0.0, False, 0.0

    def take_failure(self, path: str) -> PendingFault | None:
        with self._lock:
            return _take(self._failures, path)

    def take_malform(self, path: str) -> bool:
        with self._lock:
            return _take(self._malformed, path) is not None

    def record_success(self) -> None:
        with self._lock:
            self._successes += 1

    @property
    def revoked(self) -> bool:
        with self._lock:
            return self._revoke_after is not None and self._successes >= self._revoke_after


def _take(queue: list[PendingFault], path: str) -> PendingFault | None:
    for pending in queue:
        if pending.path is None or pending.path == path:
            pending.remaining -= 1
            if pending.remaining <= 0:
                queue.remove(pending)
            return pending
    return None


class RateLimiter:
    """Fixed windows of ``minute_seconds``, aligned on the wall clock, per key and route."""

    def __init__(self, wall: Callable[[], float] = time.time) -> None:
        self._wall = wall
        self._lock = threading.Lock()
        self._windows: dict[tuple[str, str], tuple[int, int]] = {}

    def admit(self, key: str, route: str, limit: int, minute_seconds: float) -> float | None:
        """Count one request; None if allowed, else the seconds until the window resets."""
        now = self._wall()
        window = math.floor(now / minute_seconds)
        with self._lock:
            current, used = self._windows.get((key, route), (window, 0))
            if current != window:
                used = 0
            if used >= limit:
                return max(0.001, (window + 1) * minute_seconds - now)
            self._windows[(key, route)] = (window, used + 1)
        return None


def apply_fault_settings(faults: Faults, settings: dict[str, Any]) -> None:
    """Apply a ``/_simulator/faults`` body: reset first, then each switch given.

    ``fail_next`` and ``malform_next`` take one spec object or a list of them. Raises
    ``ValueError`` (or ``KeyError``/``TypeError``) on a malformed body.
    """
    if settings.get("reset"):
        faults.reset()
    if "delay_seconds" in settings:
        faults.delay_seconds = float(settings["delay_seconds"])
    if "drip_seconds" in settings:
        faults.drip_seconds = float(settings["drip_seconds"])
    if "endless_pages" in settings:
        faults.endless_pages = bool(settings["endless_pages"])
    if "huge_page_mb" in settings:
        faults.huge_page_mb = float(settings["huge_page_mb"])
    if "revoke_after_calls" in settings:
        calls = settings["revoke_after_calls"]
        faults.revoke_after_calls = None if calls is None else int(calls)
    for spec in _specs(settings.get("fail_next")):
        faults.fail_next(
            int(spec["status"]),
            int(spec.get("count", 1)),
            path=spec.get("path"),
            retry_after=spec.get("retry_after"),
        )
    for spec in _specs(settings.get("malform_next")):
        faults.malform_next(int(spec.get("count", 1)), path=spec.get("path"))


def _specs(value: Any) -> list[dict[str, Any]]:
    if value is None:
        return []
    specs = value if isinstance(value, list) else [value]
    if not all(isinstance(spec, dict) for spec in specs):
        raise ValueError("fault specs must be objects")
    return specs


# --- bodies of the faults -------------------------------------------------------------


def endless(
    path: str, payload: dict[str, Any], page: int, page_of: Callable[[int], dict[str, Any]]
) -> dict[str, Any]:
    """``payload`` of ``path`` (page ``page``) rewritten to report one more page, always.

    Past the real last page the rows of that last page are served again, so the pages
    never run out; ``page_of(n)`` renders page ``n`` as the route really would.
    """
    if path == USAGE_EVENTS:
        pagination = payload["pagination"]
        real = int(pagination["numPages"])
        if not payload["usageEvents"] and real >= 1:
            payload["usageEvents"] = page_of(real)["usageEvents"]
        payload["pagination"] = {**pagination, "numPages": page + 1, "hasNextPage": True}
    elif path == SPEND:
        real = int(payload["totalPages"])
        if not payload["teamMemberSpend"] and real >= 1:
            payload["teamMemberSpend"] = page_of(real)["teamMemberSpend"]
        payload["totalPages"] = page + 1
    return payload


def padded(body: bytes, megabytes: float) -> Iterator[bytes]:
    """``body`` (a JSON object) with a ``"padding"`` string that makes it ``megabytes`` MB.

    Streamed in chunks of 1 MiB, so the simulator never holds the whole answer.
    """
    stripped = body.rstrip()
    head = b'{"padding":"' if stripped == b"{}" else stripped[:-1] + b',"padding":"'
    yield head
    left = max(0, int(megabytes * MB) - len(head) - 2)
    chunk = b"x" * _PAD_CHUNK
    while left > 0:
        piece = chunk if left >= len(chunk) else chunk[:left]
        left -= len(piece)
        yield piece
    yield b'"}'


def dripped(chunks: Iterable[bytes], seconds: float) -> Iterator[bytes]:
    """``chunks`` one byte at a time, ``seconds`` before each."""
    for chunk in chunks:
        for index in range(len(chunk)):
            time.sleep(seconds)
            yield chunk[index : index + 1]
