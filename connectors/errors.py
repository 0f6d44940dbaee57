"""Errors a connector raises, whatever the provider.

    ConnectorError
    ├── AuthError             key invalid or revoked (HTTP 401): stop, ask for a new key
    ├── PlanError             key valid, plan lacks API access (HTTP 403)
    ├── BadRequestError       the provider refused the request (HTTP 400), with its message
    ├── RateLimitedError      still rate limited after the allowed retries (HTTP 429)
    ├── UnavailableError      5xx, timeouts or connection errors after the allowed retries
    │   └── DeadlineExceededError  an answer not finished within the request's deadline
    ├── OutcomeUnknownError   a write that may or may not have landed (not repeated)
    ├── MalformedResponseError  a 2xx whose body is not what the API documents
    ├── ResponseTooLargeError   an answer longer than the size cap (not read past it)
    └── PagingError             a pager that does not end: more pages than its own count
                                says, a count that keeps growing, or past the page cap

Messages never contain the provider key; they say what to do next.
"""

from __future__ import annotations


class ConnectorError(Exception):
    """Base class: anything that stops a call to a provider."""


class AuthError(ConnectorError):
    """The key is invalid or has been revoked."""


class PlanError(ConnectorError):
    """The key is valid but the team's plan has no Admin API access."""


class BadRequestError(ConnectorError):
    """The provider rejected the request; ``provider_message`` is its own words."""

    def __init__(self, message: str, *, provider_message: str = "") -> None:
        super().__init__(message)
        self.provider_message = provider_message


class RateLimitedError(ConnectorError):
    """The provider kept answering 429 after every retry."""


class UnavailableError(ConnectorError):
    """The provider could not be reached or kept failing (5xx, timeouts)."""


class OutcomeUnknownError(ConnectorError):
    """A write the provider may or may not have acted on (5xx, a timeout or a dropped
    connection after the request was sent); it is not repeated, since repeating could undo
    a change someone made in between."""


class MalformedResponseError(ConnectorError):
    """A successful response whose body could not be read."""


class DeadlineExceededError(UnavailableError):
    """The provider did not finish answering within the deadline (whole request, not per read)."""


class ResponseTooLargeError(ConnectorError):
    """The provider's answer was longer than the cap; reading stopped at the cap."""


class PagingError(ConnectorError):
    """The provider kept reporting more pages than a pager may read."""
