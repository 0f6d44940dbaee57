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

The retry machinery lives in ``retries.py``, one exchange read within the deadline and the
size cap in ``transport.py``, and the mapping of failures to connector errors in
``refusals.py``.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from types import TracebackType
from typing import Any, TypeVar
from urllib.parse import quote

import httpx
from tenacity import RetryCallState, Retrying, retry_if_exception, stop_after_attempt

from connectors.cursor import endpoints, group_wire, wire
from connectors.cursor.deadline import DeadlineTransport
from connectors.cursor.metrics import record_rate_limit_wait, record_request
from connectors.cursor.pacing import RoutePacer
from connectors.cursor.refusals import AUTH_ADVICE as AUTH_ADVICE
from connectors.cursor.refusals import PLAN_ADVICE as PLAN_ADVICE
from connectors.cursor.refusals import exhausted, parse_answer, refused, uncertain
from connectors.cursor.retries import RETRYABLE_STATUSES as RETRYABLE_STATUSES
from connectors.cursor.retries import (
    CallBudget,
    Retryable,
    StopOverBudget,
    WaitRetryAfterOrBackoff,
)
from connectors.cursor.retries import parse_retry_after as parse_retry_after
from connectors.cursor.transport import MIB as MIB
from connectors.cursor.transport import Answer, exchange
from connectors.cursor.transport import size_text as size_text
from connectors.errors import AuthError, BadRequestError

logger = logging.getLogger(__name__)

ParsedT = TypeVar("ParsedT")


def mask_key(api_key: str) -> str:
    """What may be shown of a key: its last four characters."""
    return f"…{api_key[-4:]}" if len(api_key) > 8 else "…"


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

    def set_user_spend_limit(self, *, email: str, dollars: int | None) -> wire.SpendLimitAnswer:
        """``POST /teams/user-spend-limit`` with the documented body (reference 6.6):
        ``{"userEmail": email, "spendLimitDollars": dollars}``, ``None`` removing the limit.

        Cursor does not document this write as idempotent, so it is sent again only when
        it certainly did not land: a 429 (a refusal before acting) or a connection never
        made. After a 5xx, a timeout or a dropped connection it raises
        ``OutcomeUnknownError`` instead: a second send could overwrite a change another
        admin made in between, and would add a second entry to Cursor's audit log.

        ``outcome: error`` comes back as an answer, whether Cursor sends it with HTTP 200
        or 400 (the status is undocumented); a 403 (not Enterprise) is ``PlanError``.
        """
        if dollars is not None and (type(dollars) is not int or dollars < 0):
            raise ValueError("spendLimitDollars must be a whole number of dollars, 0 or more")
        body = {"userEmail": email, "spendLimitDollars": dollars}
        try:
            return self._call(
                "POST",
                endpoints.USER_SPEND_LIMIT,
                body,
                wire.SpendLimitAnswer.model_validate_json,
                write=True,
            )
        except BadRequestError as exc:
            return wire.SpendLimitAnswer(outcome="error", message=exc.provider_message)

    def get_groups(self, *, billing_cycle: str) -> group_wire.GroupsResponse:
        """``GET /teams/groups?billingCycle=YYYY-MM-DD`` (paced as one route with the detail)."""
        path = f"{endpoints.GROUPS}?billingCycle={billing_cycle}"
        parse = group_wire.GroupsResponse.model_validate_json
        return self._call("GET", endpoints.GROUPS, None, parse, path=path)

    def get_group(self, group_id: str, *, billing_cycle: str) -> group_wire.GroupResponse:
        path = f"{endpoints.GROUPS}/{quote(group_id, safe='')}?billingCycle={billing_cycle}"
        parse = group_wire.GroupResponse.model_validate_json
        return self._call("GET", endpoints.GROUPS, None, parse, path=path)

    # Machinery ---------------------------------------------------------------

    def _call(
        self,
        method: str,
        route: str,
        body: dict[str, Any] | None,
        parse: Callable[[bytes | bytearray], ParsedT],
        *,
        write: bool = False,
        path: str | None = None,
    ) -> ParsedT:
        """One call with its retries; a ``write`` is retried only when it cannot have landed.

        ``route`` names the call (pacing, metrics, errors); ``path`` is what is asked for
        when it differs (a query string, an id)."""
        options = self.options
        budget = CallBudget(options.budget_seconds)

        def repeatable(exc: BaseException) -> bool:
            return isinstance(exc, Retryable) and not (write and exc.may_have_landed)

        retrying = Retrying(
            retry=retry_if_exception(repeatable),
            stop=stop_after_attempt(options.max_attempts) | StopOverBudget(budget),
            wait=WaitRetryAfterOrBackoff(
                retry_after_max_seconds=options.retry_after_max_seconds,
                backoff_initial_seconds=options.backoff_initial_seconds,
                backoff_max_seconds=options.backoff_max_seconds,
            ),
            sleep=self._sleep,
            before_sleep=self._log_retry(method, route, budget),
            reraise=True,
        )
        try:
            answer = retrying(self._attempt, method, route, body, budget, path or route)
        except Retryable as exc:
            if write and exc.may_have_landed:
                raise uncertain(route, exc) from None
            raise exhausted(
                route,
                exc,
                budget.attempts,
                budget_seconds=options.budget_seconds,
                max_attempts=options.max_attempts,
                deadline_seconds=options.deadline_seconds,
            ) from None
        return parse_answer(route, answer, parse)

    def _attempt(
        self,
        method: str,
        route: str,
        body: dict[str, Any] | None,
        budget: CallBudget,
        path: str,
    ) -> Answer:
        started = time.monotonic()
        budget.attempts += 1
        try:
            with self._pacer.slot(route):
                self.stats.requests += 1
                answer = exchange(
                    self._http,
                    method,
                    path,
                    body,
                    limit=max(0.0, min(self.options.deadline_seconds, budget.left)),
                    timeout_seconds=self.options.timeout_seconds,
                    max_response_bytes=self.options.max_response_bytes,
                )
        except Exception:
            record_request(route, None)
            raise
        finally:
            budget.attempts_seconds += time.monotonic() - started
        self.stats.waited_for_pacing_seconds = self._pacer.waited_seconds
        status = answer.status
        record_request(route, status)
        if status in RETRYABLE_STATUSES:
            if status == 429:
                self.stats.rate_limited += 1
            retry_after = parse_retry_after(answer.headers.get("Retry-After"))
            raise Retryable(f"HTTP {status}", status=status, retry_after=retry_after)
        if status >= 400:
            raise refused(route, answer)
        return answer

    def _log_retry(
        self, method: str, route: str, budget: CallBudget
    ) -> Callable[[RetryCallState], None]:
        def log(state: RetryCallState) -> None:
            self.stats.retries += 1
            budget.waited_seconds += state.upcoming_sleep
            outcome = state.outcome
            error = outcome.exception() if outcome is not None else None
            wait = state.next_action.sleep if state.next_action else 0.0
            if isinstance(error, Retryable) and error.status == 429:
                record_rate_limit_wait(route, "after_429", state.upcoming_sleep)
            logger.warning(
                "cursor %s %s: %s; retry %d in %.2fs",
                method,
                route,
                error,
                state.attempt_number,
                wait,
            )

        return log
