"""`GET /metrics` over real HTTP: a sync, `/spend` commands, a digest and an alert move the
counters and histograms. The registry is the process's: compare before and after, never
absolute values."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime

import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families
from sqlalchemy import Engine

from bot.metrics import command_kind
from bot.slack import grammar
from bot.slack.serve import wsgi_app
from bot.testing.fake_slack import FakeSlack
from bot.testing.signed_requests import SIGNING_SECRET, signed_headers, slash_command_body
from tests.bot.harness import ADMIN, Harness, build_harness
from tests.bot.local_http import serving_wsgi

Samples = dict[tuple[str, frozenset[tuple[str, str]]], float]


class QuietJobs:
    running = True

    def reconcile(self) -> None:
        pass

    def next_sync_at(self, connection_id: int) -> datetime | None:
        return None


def scrape(base: str) -> Samples:
    response = httpx.get(f"{base}/metrics")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/plain")
    return {
        (sample.name, frozenset(sample.labels.items())): sample.value
        for family in text_string_to_metric_families(response.text)
        for sample in family.samples
    }


def moved(before: Samples, after: Samples, name: str, **labels: str) -> float:
    key = (name, frozenset(labels.items()))
    return after.get(key, 0.0) - before.get(key, 0.0)


@pytest.fixture
def served(sqlite_engine: Engine) -> Iterator[tuple[Harness, str]]:
    with FakeSlack() as slack:
        harness = build_harness(sqlite_engine, slack)
        slack.add_channel("CDIGEST", "eng-spend")
        harness.services.jobs = QuietJobs()
        try:
            with serving_wsgi(wsgi_app(harness.app, signing_secret=SIGNING_SECRET)) as base:
                yield harness, base
        finally:
            harness.close()


def command(harness: Harness, base: str, text: str, key: str) -> str:
    """POST a signed `/spend text` to the edge; the reply's text once it is out."""
    body = slash_command_body(
        text, user_id=ADMIN, response_url=harness.slack.response_url(key), trigger_id=key
    )
    response = httpx.post(f"{base}/slack/events", content=body, headers=signed_headers(body))
    assert response.status_code == 200
    return harness.reply_text(key)


def test_metrics_move_with_a_sync_a_command_a_digest_and_an_alert(
    served: tuple[Harness, str],
) -> None:
    harness, base = served
    before = scrape(base)

    harness.connect_and_sync()
    assert "Total" in command(harness, base, "cursor 7d by model", "q1")
    assert "Digest 1" in command(harness, base, "digest add <#CDIGEST|eng-spend> 09:00", "d1")
    command(harness, base, "digest send 1", "d2")
    harness.slack.wait_for("chat.postMessage")
    command(harness, base, "budget set cursor $1 month at 50", "b1")
    harness.slack.wait_for("chat.postMessage", count=2)
    body = slash_command_body("frobnicate", user_id=ADMIN)  # answered with the ack itself
    answered = httpx.post(f"{base}/slack/events", content=body, headers=signed_headers(body))
    assert "/spend" in answered.text

    after = scrape(base)
    query = command_kind(grammar.parse("cursor 7d"))
    assert query == "spend_query"
    # Syncs: the run, its duration, the events it stored.
    assert moved(before, after, "stackspend_sync_runs_total", outcome="ok") == 1
    assert moved(before, after, "stackspend_sync_duration_seconds_count", outcome="ok") == 1
    assert moved(before, after, "stackspend_sync_duration_seconds_sum", outcome="ok") > 0
    assert moved(before, after, "stackspend_sync_events_stored_total", change="new") > 0
    # Cursor: the routes the connect check and the sync called, by status.
    for route in ("/teams/members", "/teams/filtered-usage-events", "/teams/spend"):
        assert moved(before, after, "stackspend_cursor_requests_total", route=route, status="200")
    # Commands: one acknowledgement and one full reply each, by kind.
    for kind in ("spend_query", "digest_add", "digest_send", "budget_set", "invalid"):
        assert moved(before, after, "stackspend_command_ack_seconds_count", command=kind) == 1
        assert moved(before, after, "stackspend_command_reply_seconds_count", command=kind) == 1
    assert (
        moved(
            before, after, "stackspend_command_ack_seconds_bucket", command="spend_query", le="3.0"
        )
        == 1
    )
    # The digest went out once; the budget's alert reached its owner.
    assert moved(before, after, "stackspend_digest_deliveries_total", outcome="sent") == 1
    assert moved(before, after, "stackspend_alert_messages_total", outcome="sent") >= 1
    # No team, user or channel id is a label anywhere.
    labels = {value for _, pairs in after for _, value in pairs}
    assert not labels & {"T1", ADMIN, "C1", "CDIGEST"}


def test_metrics_answer_get_only_and_leave_slack_events_to_the_edge(
    served: tuple[Harness, str],
) -> None:
    _, base = served
    assert httpx.post(f"{base}/metrics").status_code == 404
    assert "stackspend_cursor_requests" in httpx.get(f"{base}/metrics").text
