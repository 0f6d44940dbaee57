"""Prometheus metrics of the Cursor client: requests by route and status, rate-limit waits.

Labels are bounded: ``route`` is one of the client's route templates (``endpoints.py``),
``status`` an HTTP status code or ``error`` (no answer: timeout, connection failure), and
``reason`` says why the client waited: ``pacing`` (its own per-route limiter) or
``after_429`` (Cursor answered 429: its Retry-After, or backoff without one).
"""

from __future__ import annotations

from typing import Final

from prometheus_client import Counter

from connectors.cursor import endpoints

#: Every route the client calls; anything else is counted as ``other``.
ROUTES: Final = frozenset(endpoints.DEFAULT_RATE_LIMITS)

REQUESTS: Final = Counter(
    "stackspend_cursor_requests",
    "Requests to Cursor's Admin API, by route template and HTTP status (error: no answer).",
    ["route", "status"],
)
RATE_LIMIT_WAIT: Final = Counter(
    "stackspend_cursor_rate_limit_wait_seconds",
    "Seconds spent waiting on Cursor's rate limit: pacing under it, or Retry-After after a 429.",
    ["route", "reason"],
)


def _route(route: str) -> str:
    return route if route in ROUTES else "other"


def record_request(route: str, status: int | None) -> None:
    """One attempt at ``route``: its HTTP status, or None when no answer came."""
    REQUESTS.labels(route=_route(route), status=str(status) if status else "error").inc()


def record_rate_limit_wait(route: str, reason: str, seconds: float) -> None:
    """``seconds`` waited before a request to ``route`` (``pacing`` or ``after_429``)."""
    if seconds > 0:
        RATE_LIMIT_WAIT.labels(route=_route(route), reason=reason).inc(seconds)
