"""How the Cursor client's failures become connector errors people can act on.

A refusal (HTTP 4xx), retries that ran out, and a body that could not be read each map to
one :mod:`connectors.errors` error whose message says what happened and what to do.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Final, TypeVar

import pydantic

from connectors.cursor import wire
from connectors.cursor.retries import Retryable, seconds_text
from connectors.cursor.transport import Answer
from connectors.errors import (
    AuthError,
    BadRequestError,
    ConnectorError,
    DeadlineExceededError,
    MalformedResponseError,
    OutcomeUnknownError,
    PlanError,
    RateLimitedError,
    UnavailableError,
)

ParsedT = TypeVar("ParsedT")

AUTH_ADVICE: Final = (
    "Cursor rejected the Admin API key: it is invalid or has been revoked. "
    "Create a new key in the Cursor dashboard (Settings > API Keys) and connect again."
)
PLAN_ADVICE: Final = (
    "Cursor accepted the key but this team's plan has no Admin API access "
    "(Cursor offers it to Enterprise teams). Ask a Cursor team admin to check the plan."
)


def exhausted(
    route: str,
    exc: Retryable,
    attempts: int,
    *,
    budget_seconds: float,
    max_attempts: int,
    deadline_seconds: float,
) -> ConnectorError:
    """The error of a call whose retries ran out (attempts or time budget)."""
    tries = "1 attempt" if attempts == 1 else f"{attempts} attempts"
    budget = f"the {seconds_text(budget_seconds)} budget of one call"
    by_budget = attempts < max_attempts
    resume = "the next sync will resume where this one stopped."
    if exc.deadline is not None:
        if by_budget or exc.deadline < deadline_seconds:
            within = budget
        else:
            within = seconds_text(exc.deadline)
        return DeadlineExceededError(
            f"Cursor did not finish answering {route} within {within} ({tries}); {resume}"
        )
    note = f", stopped by {budget}" if by_budget else ""
    if exc.status == 429:
        return RateLimitedError(f"Cursor kept rate-limiting {route} after {tries}{note}; {resume}")
    return UnavailableError(
        f"Cursor {route} failed {attempts} times ({exc}){note}; "
        "check that api.cursor.com is reachable, the next sync will resume."
    )


def uncertain(route: str, exc: Retryable) -> OutcomeUnknownError:
    """The error of a write that may have landed and so is not repeated."""
    return OutcomeUnknownError(
        f"Cursor did not confirm {route} ({exc}): the change may or may not have been made, "
        "so it was not sent again. The next sync's spend snapshot will show which."
    )


def refused(route: str, answer: Answer) -> ConnectorError:
    """The error of an answer Cursor refused with (HTTP 4xx other than 429)."""
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


def parse_answer(
    route: str, answer: Answer, parse: Callable[[bytes | bytearray], ParsedT]
) -> ParsedT:
    """The wire model of an answer, or :class:`MalformedResponseError` naming the problem."""
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
