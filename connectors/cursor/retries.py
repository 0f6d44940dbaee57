"""Retry machinery of the Cursor client: what may be retried, how long to wait, when to stop.

A call retries an attempt that may succeed if tried again (429, 5xx, transport errors, a
missed deadline). It waits what ``Retry-After`` asks for, else exponential backoff with
jitter, and stops after the most attempts or when the next wait would overrun the call's
time budget.
"""

from __future__ import annotations

import email.utils
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Final

from tenacity import RetryCallState, wait_exponential_jitter
from tenacity.stop import stop_base

RETRYABLE_STATUSES: Final = frozenset({429, 500, 502, 503, 504})


def seconds_text(seconds: float) -> str:
    return f"{seconds:,.1f}".removesuffix(".0") + " s"


class Retryable(Exception):
    """An attempt that may succeed if tried again (429, 5xx, transport errors, deadline)."""

    def __init__(
        self,
        reason: str,
        *,
        status: int | None,
        retry_after: float | None,
        deadline: float | None = None,
        unsent: bool = False,
    ) -> None:
        super().__init__(reason)
        self.status = status
        self.retry_after = retry_after
        #: The deadline (seconds) this attempt did not finish within, if that is what failed.
        self.deadline = deadline
        #: The request certainly never reached the server (no connection was made).
        self.unsent = unsent

    @property
    def may_have_landed(self) -> bool:
        """Whether the server may have acted on the request: anything but a refusal before
        acting (429, documented as a rate-limit refusal) or a connection never made."""
        return not (self.unsent or self.status == 429)


def too_slow(limit: float) -> Retryable:
    """The attempt ran out of its ``limit`` seconds (the deadline, or what the budget left)."""
    return Retryable(
        f"did not finish answering within {seconds_text(limit)}",
        status=None,
        retry_after=None,
        deadline=limit,
    )


@dataclass
class CallBudget:
    """Time one call has spent: its attempts (measured) and its retry waits (as scheduled).

    Waits are counted as scheduled rather than measured so that the budget holds the same
    whether ``sleep`` really sleeps or not.
    """

    seconds: float
    attempts: int = 0
    attempts_seconds: float = 0.0
    waited_seconds: float = 0.0

    @property
    def left(self) -> float:
        return self.seconds - self.attempts_seconds - self.waited_seconds


class StopOverBudget(stop_base):
    """Stop retrying when the wait before the next attempt would use up the call's budget."""

    def __init__(self, budget: CallBudget) -> None:
        self._budget = budget

    def __call__(self, retry_state: RetryCallState) -> bool:
        return retry_state.upcoming_sleep >= self._budget.left


def parse_retry_after(value: str | None, *, now: datetime | None = None) -> float | None:
    """Seconds to wait from a ``Retry-After`` header (seconds or an HTTP date)."""
    if not value:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max(0.0, (when - (now or datetime.now(UTC))).total_seconds())


class WaitRetryAfterOrBackoff:
    """Wait what ``Retry-After`` asks for; without it, exponential backoff with jitter."""

    def __init__(
        self,
        *,
        retry_after_max_seconds: float,
        backoff_initial_seconds: float,
        backoff_max_seconds: float,
    ) -> None:
        self._cap = retry_after_max_seconds
        self._backoff = wait_exponential_jitter(
            multiplier=backoff_initial_seconds,
            max=backoff_max_seconds,
            jitter=backoff_initial_seconds,
        )

    def __call__(self, retry_state: RetryCallState) -> float:
        outcome = retry_state.outcome
        error = outcome.exception() if outcome is not None else None
        if isinstance(error, Retryable) and error.retry_after is not None:
            return min(error.retry_after, self._cap)
        return float(self._backoff(retry_state))
