"""Alerts in words: each kind's title and detail are said from the alert's facts alone,
the same on every surface; facts that older rows lack are left out, never invented."""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

from digests.alert_words import detail, title
from digests.alerts import alert_view, alerts_list, alerts_message

NOW = datetime(2026, 11, 25, 9, 0, tzinfo=UTC)  # Wednesday
D = Decimal


@dataclass(frozen=True)
class Facts:
    kind: str
    subject: str = "team"
    provider: str = "cursor"
    period: str | None = None
    period_start: date | None = None
    period_end: date | None = None
    threshold: int | None = None
    amount_cents: Decimal | None = None
    limit_cents: Decimal | None = None
    projected_day: date | None = None
    rate_weekday_cents: Decimal | None = None
    rate_weekend_cents: Decimal | None = None
    baseline_cents: Decimal | None = None
    baseline_days: int | None = None
    cause: str | None = None
    since: datetime | None = None
    error: str | None = None
    retention_days: int | None = None
    created_at: datetime = NOW
    id: int | None = 1
    status: str = "open"
    snoozed_until: datetime | None = None
    acted_by: str | None = None


WEEK = Facts(
    kind="threshold",
    period="week",
    period_start=date(2026, 11, 23),
    period_end=date(2026, 11, 29),
    threshold=80,
    amount_cents=D(8500),
    limit_cents=D(10_000),
)


def test_a_threshold_says_who_how_much_and_when_the_period_ends() -> None:
    assert title(WEEK, "UTC") == "The team reached 80% of its Cursor budget for the week"
    assert detail(WEEK, "UTC") == (
        "The team spent $85.00 of $100.00 (85%) from Mon Nov 23 to Wed Nov 25; "
        "the week ends Sun Nov 29."
    )
    personal = replace(WEEK, subject="alice@acme.test", period="cycle")
    assert title(personal, "UTC") == (
        "alice@acme.test reached 80% of their Cursor budget for the billing cycle"
    )


def test_today_in_a_threshold_is_the_workspace_s_local_day() -> None:
    late = replace(WEEK, created_at=datetime(2026, 11, 25, 23, 30, tzinfo=UTC))
    assert "to Thu Nov 26" in detail(late, "Pacific/Auckland")


def test_a_forecast_names_the_day_and_the_weekday_and_weekend_pace() -> None:
    forecast = replace(
        WEEK,
        kind="forecast",
        threshold=None,
        amount_cents=D(4800),
        limit_cents=D(6000),
        projected_day=date(2026, 11, 27),
        rate_weekday_cents=D(700),
        rate_weekend_cents=D(100),
    )
    assert title(forecast, "UTC") == (
        "The team is on course to pass its Cursor budget for the week on Fri Nov 27"
    )
    assert detail(forecast, "UTC") == (
        "At the current pace ($7.00 a weekday, $1.00 a weekend day) the team will pass "
        "$60.00 on Fri Nov 27, before the week ends Sun Nov 29; spent so far $48.00 (80%)."
    )
    flat = replace(forecast, rate_weekend_cents=D(700))
    assert "($7.00 a day)" in detail(flat, "UTC")


def test_an_anomaly_compares_the_day_with_the_days_before() -> None:
    anomaly = Facts(
        kind="anomaly_user",
        subject="alice@acme.test",
        period_start=date(2026, 11, 24),
        amount_cents=D(3000),
        baseline_cents=D(500),
        baseline_days=7,
    )
    assert (
        title(anomaly, "UTC") == "Unusual Cursor spend: alice@acme.test spent $30.00 on Tue Nov 24"
    )
    assert detail(anomaly, "UTC") == (
        "alice@acme.test spent $30.00 on Tue Nov 24, "
        "6.0x the average of $5.00 a day over the 7 days before."
    )
    first = replace(anomaly, kind="anomaly_team", subject="team", baseline_cents=D(0))
    assert detail(first, "UTC") == (
        "The team spent $30.00 on Tue Nov 24, with no spend in the 7 days before."
    )


def test_health_alerts_say_the_cause_since_when_and_what_to_type() -> None:
    revoked = Facts(kind="health", subject="…0000", cause="revoked", since=NOW)
    assert title(revoked, "UTC") == "Cursor key revoked: syncing has stopped"
    assert detail(revoked, "UTC") == (
        "Cursor refused the API key …0000 on Wed Nov 25. No usage is synced until an admin "
        "connects again with `/spend cursor connect`."
    )
    failing = replace(
        revoked, cause="failing", since=NOW - timedelta(hours=7, minutes=5), error="HTTP 503"
    )
    assert title(failing, "UTC") == "Cursor sync failing for 7 hours"
    assert detail(failing, "UTC") == (
        "Every Cursor sync since Wed Nov 25 01:55 has failed (HTTP 503). Reports and alerts "
        "miss new usage until it works: `/spend cursor status`."
    )
    stale = replace(
        revoked, cause="stale", since=NOW - timedelta(days=6, hours=1), retention_days=7
    )
    assert title(stale, "UTC") == "Cursor history at risk: no successful sync since Thu Nov 19"
    assert "lost in about 23 hours unless a sync succeeds" in detail(stale, "UTC")
    never = replace(stale, cause="never_synced")
    assert title(never, "UTC") == "Cursor history at risk: no successful sync yet"


def test_facts_an_older_row_lacks_are_left_out() -> None:
    old = replace(WEEK, period_end=None)
    assert detail(old, "UTC").endswith("from Mon Nov 23 to Wed Nov 25.")
    revoked = Facts(kind="health", subject="…0000", cause="revoked")
    assert detail(revoked, "UTC").startswith("Cursor refused the API key …0000. No usage")


def test_every_surface_shows_the_same_words() -> None:
    view = alert_view(WEEK, "UTC")
    assert (view.title, view.detail) == (title(WEEK, "UTC"), detail(WEEK, "UTC"))
    assert view.title in alerts_message([view], "UTC").text
    assert view.title in str(alerts_list([view], "UTC").blocks)
