"""HTTP client for the Cursor Admin API: auth, pacing, retries, bounds, error mapping.

One method per endpoint; each returns the tolerant wire model of one response.
Paging, windows and the transform to neutral records live in ``source.py``.

Every call is bounded (every outbound call has a total deadline):

- an attempt (headers and the whole body) must finish within ``deadline_seconds``, however
  slowly the server drips its bytes (``deadline.py`` caps every socket operation at the time
  left, and the body is checked between chunks);
- a call with all its retries and the waits between them must finish within
  ``budget_seconds``: a retry whose wait would overrun it is not made;
- a body is streamed and reading stops past ``max_response_bytes``, before it is all in
  memory (a larger ``Content-Length`` is refused before reading anything).
"""

from __future__ import annotations

import email.utils
import logging
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from types import TracebackType
from typing import Any, Final, TypeVar

import httpx
import pydantic
from tenacity import (
    RetryCallState,
    Retrying,
    retry_if_exception_type,
    stop_after_attempt,
    wait_exponential_jitter,
)
from tenacity.stop import stop_base

from connectors.cursor import endpoints, wire
from connectors.cursor.deadline import DeadlineTransport, request_deadline
from connectors.cursor.pacing import RoutePacer
from connectors.errors import (
    AuthError,
    BadRequestError,
    ConnectorError,
    DeadlineExceededError,
    MalformedResponseError,
    PlanError,
    RateLimitedError,
    ResponseTooLargeError,
    UnavailableError,
)

logger = logging.getLogger(__name__)

ParsedT = TypeVar("ParsedT")

RETRYABLE_STATUSES: Final = frozenset({429, 500, 502, 503, 504})

AUTH_ADVICE: Final = (
    "Cursor rejected the Admin API key: it is invalid or has been revoked. "
    "Create a new key in the Cursor dashboard (Settings > API Keys) and connect again."
)
PLAN_ADVICE: Final = (
    "Cursor accepted the key but this team's plan has no Admin API access "
    "(Cursor offers it to Enterprise teams). Ask a Cursor team admin to check the plan."
)


MIB: Final = 1024 * 1024


def mask_key(api_key: str) -> str:
    """What may be shown of a key: its last four characters."""
    return f"…{api_key[-4:]}" if len(api_key) > 8 else "…"


def size_text(size: int) -> str:
    """A byte count as people read it: ``32 MiB``, ``1.5 MiB``, ``512 KiB``, ``900 bytes``."""
    if size >= MIB:
        return f"{size / MIB:.1f}".removesuffix(".0") + " MiB"
    if size >= 1024:
        return f"{size / 1024:.1f}".removesuffix(".0") + " KiB"
    return f"{size:,} bytes"


def seconds_text(seconds: float) -> str:
    return f"{seconds:,.1f}".removesuffix(".0") + " s"


@dataclass(frozen=True, slots=True)
class ClientOptions:
    base_url: str = endpoints.DEFAULT_BASE_URL
    #: Longest wait for one socket operation (connect, one read, one write).
    timeout_seconds: float = 30.0
    #: One attempt, headers and whole body, ends within this however the bytes arrive.
    deadline_seconds: float = 60.0
    #: One call, with every retry and the waits between them, ends within this.
    budget_seconds: float = 300.0
    #: Longest body read; reading stops past it (Cursor's largest page is about 1 MiB).
    max_response_bytes: int = 32 * MIB
    #: Most pages read of one window (or of one paginated snapshot) in one run.
    max_pages: int = 5000
    rate_limits: Mapping[str, int] = field(
        default_factory=lambda: dict(endpoints.DEFAULT_RATE_LIMITS)
    )
    #: Length of the provider's rate-limit window; shortened only in tests and benchmarks.
    window_seconds: float = 60.0
    max_attempts: int = 6
    backoff_initial_seconds: float = 1.0
    backoff_max_seconds: float = 60.0
    retry_after_max_seconds: float = 120.0


class _Retryable(Exception):
    """An attempt that may succeed if tried again (429, 5xx, transport errors, deadline)."""

    def __init__(
        self,
        reason: str,
        *,
        status: int | None,
        retry_after: float | None,
        deadline: float | None = None,
    ) -> None:
        super().__init__(reason)
        self.status = status
        self.retry_after = retry_after
        #: The deadline (seconds) this attempt did not finish within, if that is what failed.
        self.deadline = deadline


@dataclass(frozen=True, slots=True)
class _Answer:
    """A response read in full (within the caps)."""

    status: int
    headers: httpx.Headers
    content: bytearray


@dataclass
class _CallBudget:
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


class _StopOverBudget(stop_base):
    """Stop retrying when the wait before the next attempt would use up the call's budget."""

    def __init__(self, budget: _CallBudget) -> None:
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


class _WaitRetryAfterOrBackoff:
    """Wait what ``Retry-After`` asks for; without it, exponential backoff with jitter."""

    def __init__(self, options: ClientOptions) -> None:
        self._cap = options.retry_after_max_seconds
        self._backoff = wait_exponential_jitter(
            multiplier=options.backoff_initial_seconds,
            max=options.backoff_max_seconds,
            jitter=options.backoff_initial_seconds,
        )

    def __call__(self, retry_state: RetryCallState) -> float:
        outcome = retry_state.outcome
        error = outcome.exception() if outcome is not None else None
        if isinstance(error, _Retryable) and error.retry_after is not None:
            return min(error.retry_after, self._cap)
        return float(self._backoff(retry_state))


@dataclass
class ClientStats:
    requests: int = 0
    retries: int = 0
    rate_limited: int = 0
    waited_for_pacing_seconds: float = 0.0


class CursorAdminClient:
    """Talks to one Cursor team, identified by its Admin API key."""

    def __init__(
        self,
        api_key: str,
        options: ClientOptions | None = None,
        *,
        transport: httpx.BaseTransport | None = None,
        sleep: Callable[[float], None] = time.sleep,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        key = api_key.strip()
        if not key:
            raise AuthError("No Cursor Admin API key was given.")
        self._key_hint = mask_key(key)
        self.options = options or ClientOptions()
        self._sleep = sleep
        self._pacer = RoutePacer(
            self.options.rate_limits,
            window_seconds=self.options.window_seconds,
            clock=clock,
            sleep=sleep,
        )
        self._http = httpx.Client(
            base_url=self.options.base_url,
            auth=httpx.BasicAuth(key, ""),
            timeout=self.options.timeout_seconds,
            transport=transport or DeadlineTransport(),
            headers={"Accept": "application/json", "User-Agent": "stackspend-bot"},
        )
        self.stats = ClientStats()

    def __repr__(self) -> str:
        return f"CursorAdminClient(base_url={self.options.base_url!r}, key={self._key_hint!r})"

    @property
    def key_hint(self) -> str:
        return self._key_hint

    def close(self) -> None:
        self._http.close()

    def __enter__(self) -> CursorAdminClient:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    # Endpoints ---------------------------------------------------------------

    def get_members(self) -> wire.MembersResponse:
        return self._call("GET", endpoints.MEMBERS, None, wire.MembersResponse.model_validate_json)

    def get_usage_events(
        self, *, start_ms: int, end_ms: int, page: int = 1, page_size: int = 1000
    ) -> wire.UsageEventsPage:
        body = {"startDate": start_ms, "endDate": end_ms, "page": page, "pageSize": page_size}
        return self._call("POST", endpoints.USAGE_EVENTS, body, wire.read_usage_events_page)

    def get_spend(self, *, page: int = 1, page_size: int = 100) -> wire.SpendResponse:
        body = {"page": page, "pageSize": page_size}
        return self._call("POST", endpoints.SPEND, body, wire.SpendResponse.model_validate_json)

    def get_daily_usage(self, *, start_ms: int, end_ms: int) -> wire.DailyUsageResponse:
        body = {"startDate": start_ms, "endDate": end_ms}
        return self._call(
            "POST", endpoints.DAILY_USAGE, body, wire.DailyUsageResponse.model_validate_json
        )

    # Machinery ---------------------------------------------------------------

    def _call(
        self,
        method: str,
        route: str,
        body: dict[str, Any] | None,
        parse: Callable[[bytes | bytearray], ParsedT],
    ) -> ParsedT:
        budget = _CallBudget(self.options.budget_seconds)
        retrying = Retrying(
            retry=retry_if_exception_type(_Retryable),
            stop=stop_after_attempt(self.options.max_attempts) | _StopOverBudget(budget),
            wait=_WaitRetryAfterOrBackoff(self.options),
            sleep=self._sleep,
            before_sleep=self._log_retry(method, route, budget),
            reraise=True,
        )
        try:
            answer = retrying(self._attempt, method, route, body, budget)
        except _Retryable as exc:
            raise self._exhausted(route, exc, budget.attempts) from None
        return self._parse(route, answer, parse)

    def _attempt(
        self, method: str, route: str, body: dict[str, Any] | None, budget: _CallBudget
    ) -> _Answer:
        started = time.monotonic()
        budget.attempts += 1
        try:
            with self._pacer.slot(route):
                self.stats.requests += 1
                answer = self._exchange(method, route, body, budget.left)
        finally:
            budget.attempts_seconds += time.monotonic() - started
        self.stats.waited_for_pacing_seconds = self._pacer.waited_seconds
        status = answer.status
        if status in RETRYABLE_STATUSES:
            if status == 429:
                self.stats.rate_limited += 1
            retry_after = parse_retry_after(answer.headers.get("Retry-After"))
            raise _Retryable(f"HTTP {status}", status=status, retry_after=retry_after)
        if status >= 400:
            raise self._refused(route, answer)
        return answer

    def _exchange(
        self, method: str, route: str, body: dict[str, Any] | None, budget_left: float
    ) -> _Answer:
        """One request, read in full within the deadline and the size cap."""
        limit = max(0.0, min(self.options.deadline_seconds, budget_left))
        deadline = time.monotonic() + limit
        timeout = httpx.Timeout(max(0.001, min(self.options.timeout_seconds, limit)))
        try:
            with (
                request_deadline(deadline),
                self._http.stream(method, route, json=body, timeout=timeout) as response,
            ):
                content = self._read_body(route, response, deadline, limit)
                return _Answer(response.status_code, response.headers, content)
        except httpx.TimeoutException:
            if time.monotonic() >= deadline - 0.01:
                raise self._too_slow(limit) from None
            raise _Retryable("timed out", status=None, retry_after=None) from None
        except httpx.TransportError as exc:
            reason = f"connection failed ({type(exc).__name__})"
            raise _Retryable(reason, status=None, retry_after=None) from None

    def _read_body(
        self, route: str, response: httpx.Response, deadline: float, limit: float
    ) -> bytearray:
        cap = self.options.max_response_bytes
        declared = response.headers.get("Content-Length", "")
        if declared.isdigit() and int(declared) > cap:
            raise ResponseTooLargeError(
                f"Cursor's response to {route} exceeded {size_text(cap)} "
                f"(it announced {size_text(int(declared))}); nothing was read or stored, "
                "the next sync will resume where this one stopped."
            )
        content = bytearray()
        for chunk in response.iter_bytes():
            content += chunk
            if len(content) > cap:
                raise ResponseTooLargeError(
                    f"Cursor's response to {route} exceeded {size_text(cap)}; reading stopped "
                    "there and nothing from it was stored, "
                    "the next sync will resume where this one stopped."
                )
            if time.monotonic() > deadline:
                raise self._too_slow(limit)
        return content

    @staticmethod
    def _too_slow(limit: float) -> _Retryable:
        """The attempt ran out of its ``limit`` seconds (the deadline, or what the budget left)."""
        return _Retryable(
            f"did not finish answering within {seconds_text(limit)}",
            status=None,
            retry_after=None,
            deadline=limit,
        )

    def _log_retry(
        self, method: str, route: str, budget: _CallBudget
    ) -> Callable[[RetryCallState], None]:
        def log(state: RetryCallState) -> None:
            self.stats.retries += 1
            budget.waited_seconds += state.upcoming_sleep
            outcome = state.outcome
            error = outcome.exception() if outcome is not None else None
            wait = state.next_action.sleep if state.next_action else 0.0
            logger.warning(
                "cursor %s %s: %s; retry %d in %.2fs",
                method,
                route,
                error,
                state.attempt_number,
                wait,
            )

        return log

    def _exhausted(self, route: str, exc: _Retryable, attempts: int) -> ConnectorError:
        tries = "1 attempt" if attempts == 1 else f"{attempts} attempts"
        budget = f"the {seconds_text(self.options.budget_seconds)} budget of one call"
        by_budget = attempts < self.options.max_attempts
        resume = "the next sync will resume where this one stopped."
        if exc.deadline is not None:
            if by_budget or exc.deadline < self.options.deadline_seconds:
                within = budget
            else:
                within = seconds_text(exc.deadline)
            return DeadlineExceededError(
                f"Cursor did not finish answering {route} within {within} ({tries}); {resume}"
            )
        note = f", stopped by {budget}" if by_budget else ""
        if exc.status == 429:
            return RateLimitedError(
                f"Cursor kept rate-limiting {route} after {tries}{note}; {resume}"
            )
        return UnavailableError(
            f"Cursor {route} failed {attempts} times ({exc}){note}; "
            "check that api.cursor.com is reachable, the next sync will resume."
        )

    @staticmethod
    def _refused(route: str, answer: _Answer) -> ConnectorError:
        status = answer.status
        if status == 401:
            return AuthError(AUTH_ADVICE)
        if status == 403:
            return PlanError(PLAN_ADVICE)
        try:
            detail = wire.ErrorBody.model_validate_json(answer.content)
            message = detail.message or detail.error
        except pydantic.ValidationError:
            message = bytes(answer.content[:800]).decode("utf-8", "replace")[:200]
        if status == 400:
            return BadRequestError(f"Cursor refused {route}: {message}", provider_message=message)
        if status == 404:
            return ConnectorError(
                f"Cursor has no route {route} (HTTP 404): check STACKSPEND_CURSOR_BASE_URL."
            )
        return ConnectorError(f"Cursor answered HTTP {status} on {route}: {message}")

    @staticmethod
    def _parse(
        route: str, answer: _Answer, parse: Callable[[bytes | bytearray], ParsedT]
    ) -> ParsedT:
        try:
            return parse(answer.content)
        except pydantic.ValidationError as exc:
            first = exc.errors(include_input=False, include_url=False)[0]
            where = ".".join(str(part) for part in first["loc"]) or "body"
            problem = f"{where}: {first['msg']}"
        except ValueError as exc:  # JSON syntax, or a page that is not the documented shape
            problem = str(exc).splitlines()[0][:200]
        raise MalformedResponseError(
            f"Cursor sent a response to {route} that could not be read ({problem}); "
            "nothing from it was stored."
        )
