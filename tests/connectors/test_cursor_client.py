"""The client survives every fault the Admin API throws and never leaks the key."""

from __future__ import annotations

import base64
import json
import logging
import traceback
from collections.abc import Callable, Iterator
from pathlib import Path

import httpx
import pytest

from connectors.cursor.client import ClientOptions, CursorAdminClient, parse_retry_after
from connectors.errors import (
    AuthError,
    BadRequestError,
    ConnectorError,
    MalformedResponseError,
    PlanError,
    RateLimitedError,
    UnavailableError,
)

KEY = "crsr_" + "4f" * 32
FIXTURES = Path(__file__).parent.parent / "fixtures" / "cursor"
Handler = Callable[[httpx.Request], httpx.Response]


class Sleeps:
    """Records waits instead of sleeping."""

    def __init__(self) -> None:
        self.calls: list[float] = []

    def __call__(self, seconds: float) -> None:
        self.calls.append(seconds)


def scripted(*responses: httpx.Response | Exception) -> tuple[Handler, list[httpx.Request]]:
    """A handler answering with ``responses`` in turn (the last one repeats)."""
    seen: list[httpx.Request] = []
    queue = list(responses)

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        answer = queue.pop(0) if len(queue) > 1 else queue[0]
        if isinstance(answer, Exception):
            raise answer
        return answer

    return handler, seen


def ok_members() -> httpx.Response:
    return httpx.Response(200, content=(FIXTURES / "members.json").read_bytes())


def make_client(
    handler: Handler, sleeps: Sleeps | None = None, **options: object
) -> CursorAdminClient:
    opts = ClientOptions(base_url="https://cursor.test", **options)  # type: ignore[arg-type]
    return CursorAdminClient(
        KEY, opts, transport=httpx.MockTransport(handler), sleep=sleeps or Sleeps()
    )


def error(status: int, message: str, headers: dict[str, str] | None = None) -> httpx.Response:
    return httpx.Response(status, json={"error": "x", "message": message}, headers=headers)


def test_basic_auth_sends_the_key_as_user_name_with_an_empty_password() -> None:
    handler, seen = scripted(ok_members())
    make_client(handler).get_members()
    expected = base64.b64encode(f"{KEY}:".encode()).decode()
    assert seen[0].headers["Authorization"] == f"Basic {expected}"
    assert seen[0].url.path == "/teams/members"


def test_key_with_stray_whitespace_is_trimmed() -> None:
    handler, seen = scripted(ok_members())
    CursorAdminClient(f"  {KEY}\n", transport=httpx.MockTransport(handler)).get_members()
    assert (
        seen[0].headers["Authorization"] == "Basic " + base64.b64encode(f"{KEY}:".encode()).decode()
    )


def test_request_bodies_are_json_with_epoch_ms_numbers() -> None:
    body = {"totalUsageEventsCount": 0, "usageEvents": []}
    handler, seen = scripted(httpx.Response(200, json=body))
    make_client(handler).get_usage_events(start_ms=1, end_ms=2, page=3, page_size=1000)
    assert json.loads(seen[0].content) == {
        "startDate": 1,
        "endDate": 2,
        "page": 3,
        "pageSize": 1000,
    }
    assert seen[0].method == "POST"


def test_401_means_invalid_or_revoked_and_is_not_retried() -> None:
    handler, seen = scripted(error(401, "Invalid API key"))
    with pytest.raises(AuthError, match="invalid or has been revoked"):
        make_client(handler).get_members()
    assert len(seen) == 1


def test_403_means_the_plan_lacks_admin_api_access() -> None:
    handler, _ = scripted(error(403, "Enterprise access required"))
    with pytest.raises(PlanError, match="Enterprise"):
        make_client(handler).get_members()


def test_400_carries_cursors_message() -> None:
    handler, seen = scripted(error(400, "Date range cannot exceed 30 days"))
    with pytest.raises(BadRequestError) as caught:
        make_client(handler).get_usage_events(start_ms=0, end_ms=1)
    assert caught.value.provider_message == "Date range cannot exceed 30 days"
    assert "30 days" in str(caught.value)
    assert len(seen) == 1


def test_429_waits_for_retry_after_then_succeeds() -> None:
    handler, seen = scripted(error(429, "Rate limit exceeded", {"Retry-After": "7"}), ok_members())
    sleeps = Sleeps()
    client = make_client(handler, sleeps)
    assert len(client.get_members().teamMembers) == 4
    assert sleeps.calls == [7.0]
    assert client.stats.rate_limited == 1 and len(seen) == 2


def test_429_without_retry_after_backs_off_exponentially_with_jitter() -> None:
    handler, _ = scripted(*[error(429, "Rate limit exceeded")] * 4, ok_members())
    sleeps = Sleeps()
    make_client(handler, sleeps, backoff_initial_seconds=1.0).get_members()
    assert len(sleeps.calls) == 4
    for attempt, waited in enumerate(sleeps.calls):
        assert 2**attempt <= waited <= 2**attempt + 1.0


def test_retry_after_is_capped() -> None:
    handler, _ = scripted(error(429, "x", {"Retry-After": "86400"}), ok_members())
    sleeps = Sleeps()
    make_client(handler, sleeps, retry_after_max_seconds=90.0).get_members()
    assert sleeps.calls == [90.0]


def test_persistent_429_gives_up_after_the_allowed_attempts() -> None:
    handler, seen = scripted(error(429, "x", {"Retry-After": "1"}))
    with pytest.raises(RateLimitedError, match="resume"):
        make_client(handler, max_attempts=3).get_members()
    assert len(seen) == 3


@pytest.mark.parametrize("status", [500, 502, 503, 504])
def test_server_errors_are_retried(status: int) -> None:
    handler, seen = scripted(error(status, "boom"), error(status, "boom"), ok_members())
    make_client(handler).get_members()
    assert len(seen) == 3


@pytest.mark.parametrize(
    "failure",
    [httpx.ConnectError("refused"), httpx.ReadTimeout("slow"), httpx.RemoteProtocolError("eof")],
)
def test_transport_failures_are_retried_then_reported(failure: Exception) -> None:
    handler, seen = scripted(failure)
    with pytest.raises(UnavailableError, match="failed 4 times"):
        make_client(handler, max_attempts=4).get_members()
    assert len(seen) == 4


def test_transport_failure_then_success() -> None:
    handler, _ = scripted(httpx.ConnectTimeout("slow"), ok_members())
    assert make_client(handler).get_members().teamMembers


@pytest.mark.parametrize(
    "body",
    [b'{"teamMembers": [', b"<html>Bad gateway</html>", b'{"teamMembers": "nope"}', b""],
)
def test_malformed_body_raises_a_clear_error_without_retrying(body: bytes) -> None:
    handler, seen = scripted(httpx.Response(200, content=body))
    with pytest.raises(MalformedResponseError, match="could not be read"):
        make_client(handler).get_members()
    assert len(seen) == 1


def test_unexpected_status_is_reported_with_the_route() -> None:
    handler, _ = scripted(httpx.Response(418, text="teapot"))
    with pytest.raises(ConnectorError, match="418 on /teams/members"):
        make_client(handler).get_members()


def test_retry_after_as_http_date() -> None:
    from datetime import UTC, datetime

    now = datetime(2026, 11, 25, 12, 0, 0, tzinfo=UTC)
    assert parse_retry_after("Wed, 25 Nov 2026 12:00:30 GMT", now=now) == 30.0
    assert parse_retry_after("soon") is None
    assert parse_retry_after("0.25") == 0.25


def test_repr_masks_the_key() -> None:
    client = make_client(scripted(ok_members())[0])
    assert KEY not in repr(client)
    assert repr(client).endswith("key='…4f4f')")
    assert client.key_hint == "…4f4f"


FAILURES: list[httpx.Response | Exception] = [
    error(401, "Invalid API key"),
    error(403, "Enterprise access required"),
    error(400, "Some users are not in the team"),
    error(429, "Too Many Requests"),
    error(503, "down"),
    httpx.Response(200, content=b"{not json"),
    httpx.ConnectError("refused"),
    httpx.ReadTimeout("slow"),
]


@pytest.fixture
def debug_logs(caplog: pytest.LogCaptureFixture) -> Iterator[pytest.LogCaptureFixture]:
    caplog.set_level(logging.DEBUG)
    yield caplog


@pytest.mark.parametrize(
    "failure", FAILURES, ids=lambda f: type(f).__name__ + str(getattr(f, "status_code", ""))
)
def test_key_never_appears_in_logs_errors_or_tracebacks(
    failure: httpx.Response | Exception, debug_logs: pytest.LogCaptureFixture
) -> None:
    handler, _ = scripted(failure)
    client = make_client(handler, max_attempts=2)
    with pytest.raises(ConnectorError) as caught:
        client.get_members()
    secret_forms = (KEY, base64.b64encode(f"{KEY}:".encode()).decode(), KEY[5:])
    rendered = "".join(traceback.format_exception(caught.value))
    for text in (rendered, debug_logs.text, repr(client), repr(caught.value)):
        for secret in secret_forms:
            assert secret not in text
