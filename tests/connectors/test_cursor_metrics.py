"""The Cursor client counts its requests by route and status and the time it waits on limits."""

from __future__ import annotations

import httpx
from prometheus_client import REGISTRY

from connectors.cursor.client import ClientOptions, CursorAdminClient
from connectors.cursor.pacing import RoutePacer
from tests.connectors.test_cursor_client import KEY, Sleeps, error, ok_members, scripted


def sample(name: str, **labels: str) -> float:
    return REGISTRY.get_sample_value(name, labels) or 0.0


def test_requests_are_counted_by_route_template_and_status_429s_included() -> None:
    route = "/teams/members"
    before_429 = sample("stackspend_cursor_requests_total", route=route, status="429")
    before_200 = sample("stackspend_cursor_requests_total", route=route, status="200")
    before_wait = sample(
        "stackspend_cursor_rate_limit_wait_seconds_total", route=route, reason="after_429"
    )
    handler, _ = scripted(error(429, "slow down", {"Retry-After": "7"}), ok_members())
    client = CursorAdminClient(
        KEY,
        ClientOptions(base_url="https://cursor.test"),
        transport=httpx.MockTransport(handler),
        sleep=Sleeps(),
    )
    client.get_members()
    assert sample("stackspend_cursor_requests_total", route=route, status="429") == before_429 + 1
    assert sample("stackspend_cursor_requests_total", route=route, status="200") == before_200 + 1
    waited = sample(
        "stackspend_cursor_rate_limit_wait_seconds_total", route=route, reason="after_429"
    )
    assert waited == before_wait + 7


def test_a_request_without_an_answer_is_counted_as_error() -> None:
    route = "/teams/members"
    before = sample("stackspend_cursor_requests_total", route=route, status="error")
    handler, _ = scripted(httpx.ConnectError("refused"), ok_members())
    client = CursorAdminClient(
        KEY,
        ClientOptions(base_url="https://cursor.test"),
        transport=httpx.MockTransport(handler),
        sleep=Sleeps(),
    )
    client.get_members()
    assert sample("stackspend_cursor_requests_total", route=route, status="error") == before + 1


def test_pacing_waits_are_counted_as_rate_limit_wait_seconds() -> None:
    now = [0.0]

    def advance(seconds: float) -> None:
        now[0] += seconds

    pacer = RoutePacer({"/teams/spend": 1}, window_seconds=60, clock=lambda: now[0], sleep=advance)
    before = sample(
        "stackspend_cursor_rate_limit_wait_seconds_total", route="/teams/spend", reason="pacing"
    )
    with pacer.slot("/teams/spend"):
        pass
    now[0] = 15.0
    with pacer.slot("/teams/spend"):
        pass
    after = sample(
        "stackspend_cursor_rate_limit_wait_seconds_total", route="/teams/spend", reason="pacing"
    )
    assert after == before + 45


def test_routes_outside_the_client_s_templates_are_one_label() -> None:
    from connectors.cursor.metrics import record_request

    before = sample("stackspend_cursor_requests_total", route="other", status="200")
    record_request("/teams/members?secret=1", 200)
    assert sample("stackspend_cursor_requests_total", route="other", status="200") == before + 1
