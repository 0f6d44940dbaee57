"""HTTP client for the Cursor Admin API: auth, pacing, retries, error mapping.

One method per endpoint; each returns the tolerant wire model of one response.
Paging, windows and the transform to neutral records live in ``source.py``.
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

from connectors.cursor import endpoints, wire
from connectors.cursor.pacing import RoutePacer
from connectors.errors import (
    AuthError,
    BadRequestError,
    ConnectorError,
    MalformedResponseError,
    PlanError,
    RateLimitedError,
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


def mask_key(api_key: str) -> str:
    """What may be shown of a key: its last four characters."""
    return f"…{api_key[-4:]}" if len(api_key) > 8 else "…"


@dataclass(frozen=True, slots=True)
class ClientOptions:
    base_url: str = endpoints.DEFAULT_BASE_URL
    timeout_seconds: float = 30.0
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
    """An attempt that may succeed if tried again (429, 5xx, transport errors)."""

    def __init__(self, reason: str, *, status: int | None, retry_after: float | None) -> None:
        super().__init__(reason)
        self.status = status
        self.retry_after = retry_after


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
            transport=transport,
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
        parse: Callable[[bytes], ParsedT],
    ) -> ParsedT:
        retrying = Retrying(
            retry=retry_if_exception_type(_Retryable),
            stop=stop_after_attempt(self.options.max_attempts),
            wait=_WaitRetryAfterOrBackoff(self.options),
            sleep=self._sleep,
            before_sleep=self._log_retry(method, route),
            reraise=True,
        )
        try:
            response = retrying(self._attempt, method, route, body)
        except _Retryable as exc:
            raise self._exhausted(route, exc) from None
        return self._parse(route, response, parse)

    def _attempt(self, method: str, route: str, body: dict[str, Any] | None) -> httpx.Response:
        with self._pacer.slot(route):
            self.stats.requests += 1
            try:
                response = self._http.request(method, route, json=body)
            except httpx.TimeoutException:
                raise _Retryable("timed out", status=None, retry_after=None) from None
            except httpx.TransportError as exc:
                reason = f"connection failed ({type(exc).__name__})"
                raise _Retryable(reason, status=None, retry_after=None) from None
        self.stats.waited_for_pacing_seconds = self._pacer.waited_seconds
        status = response.status_code
        if status in RETRYABLE_STATUSES:
            if status == 429:
                self.stats.rate_limited += 1
            retry_after = parse_retry_after(response.headers.get("Retry-After"))
            raise _Retryable(f"HTTP {status}", status=status, retry_after=retry_after)
        if status >= 400:
            raise self._refused(route, response)
        return response

    def _log_retry(self, method: str, route: str) -> Callable[[RetryCallState], None]:
        def log(state: RetryCallState) -> None:
            self.stats.retries += 1
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

    def _exhausted(self, route: str, exc: _Retryable) -> ConnectorError:
        attempts = self.options.max_attempts
        if exc.status == 429:
            return RateLimitedError(
                f"Cursor kept rate-limiting {route} after {attempts} attempts; "
                "the next sync will resume where this one stopped."
            )
        return UnavailableError(
            f"Cursor {route} failed {attempts} times ({exc}); "
            "check that api.cursor.com is reachable, the next sync will resume."
        )

    @staticmethod
    def _refused(route: str, response: httpx.Response) -> ConnectorError:
        status = response.status_code
        if status == 401:
            return AuthError(AUTH_ADVICE)
        if status == 403:
            return PlanError(PLAN_ADVICE)
        try:
            detail = wire.ErrorBody.model_validate_json(response.content)
            message = detail.message or detail.error
        except pydantic.ValidationError:
            message = response.text[:200]
        if status == 400:
            return BadRequestError(f"Cursor refused {route}: {message}", provider_message=message)
        if status == 404:
            return ConnectorError(
                f"Cursor has no route {route} (HTTP 404): check STACKSPEND_CURSOR_BASE_URL."
            )
        return ConnectorError(f"Cursor answered HTTP {status} on {route}: {message}")

    @staticmethod
    def _parse(route: str, response: httpx.Response, parse: Callable[[bytes], ParsedT]) -> ParsedT:
        try:
            return parse(response.content)
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
