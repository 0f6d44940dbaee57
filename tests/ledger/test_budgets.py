"""Budgets and alerts: each threshold fires once per period, forecasts name the right day,
anomalies and health problems are raised once, snoozes hold until they end."""

from __future__ import annotations

import itertools
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import Engine, func, select
from sqlmodel import Session, col

from digests.alert_words import detail, title
from digests.daily import compose
from digests.errors import error_text
from ledger.accounts import get_or_create_workspace, store_connection
from ledger.alerts import evaluate as evaluating
from ledger.alerts.evaluate import AlertSettings, evaluate
from ledger.alerts.lifecycle import act, due_notifications, mark_notified, open_alerts
from ledger.budget_rules import (
    MIN_FORECAST_DAYS,
    crossed,
    forecast_crossing,
    is_anomaly,
    period_bounds,
)
from ledger.budget_status import budget_status
from ledger.budgets import (
    MAX_BUDGETS_PER_WORKSPACE,
    add_budget,
    list_budgets,
    remove_budget,
)
from ledger.db import make_engine, session_scope
from ledger.digest_data import digest_inputs
from ledger.errors import LedgerError
from ledger.models import Alert, AlertMessage, Budget, Connection, Workspace
from ledger.periods import Cycle
from ledger.queries import scope_for
from ledger.rollups import ROLLUPS
from ledger.secrets import SecretBox, generate_secret_key
from tests.ledger.support import NOW, Clock, Team, make_team

D = Decimal
NOV = 11
TODAY = NOW.date()  # Wednesday 2026-11-25; November 1st is a Sunday
YESTERDAY = TODAY - timedelta(days=1)
QUIET = AlertSettings(anomaly_floor_cents=D(10**9))  # no anomalies: thresholds only


def nov(day: int) -> date:
    return date(2026, NOV, day)


# --- pure rules ----------------------------------------------------------------------------


def test_period_bounds_for_each_kind_of_budget() -> None:
    cycle = Cycle(start=nov(1), previous_start=date(2026, 10, 1))
    assert period_bounds("cycle", TODAY, cycle) == (nov(1), nov(30))
    assert period_bounds("month", TODAY, cycle) == (nov(1), nov(30))
    assert period_bounds("week", TODAY, cycle) == (nov(23), nov(29))
    assert period_bounds("week", nov(29), cycle) == (nov(23), nov(29))  # a Sunday
    assert period_bounds("day", TODAY, cycle) == (TODAY, TODAY)
    assert period_bounds("month", date(2028, 2, 10), cycle) == (date(2028, 2, 1), date(2028, 2, 29))
    assert period_bounds("month", date(2026, 12, 31), cycle) == (
        date(2026, 12, 1),
        date(2026, 12, 31),
    )


def test_a_cycle_that_starts_mid_month_is_carried_to_the_one_containing_today() -> None:
    cycle = Cycle(start=nov(15), previous_start=date(2026, 10, 15))
    assert period_bounds("cycle", nov(20), cycle) == (nov(15), date(2026, 12, 14))
    assert period_bounds("cycle", date(2026, 12, 20), cycle) == (
        date(2026, 12, 15),
        date(2027, 1, 14),
    )
    assert period_bounds("cycle", nov(3), cycle) == (date(2026, 10, 15), nov(14))
    with pytest.raises(ValueError, match="unknown budget period"):
        period_bounds("year", TODAY, cycle)


def test_crossed_thresholds_are_those_reached_exactly_or_more() -> None:
    assert crossed(10_000, D(8000), (100, 50, 80)) == (50, 80)
    assert crossed(10_000, D(5000), (50, 80)) == (50,)
    assert crossed(10_000, D("4999.99999999"), (50, 80)) == ()
    assert crossed(10_000, D(12_000), (50, 100, 120, 150)) == (50, 100, 120)


def flat(days: range, cents: int) -> dict[date, Decimal]:
    return {nov(day): D(cents) for day in days}


def test_forecast_of_a_flat_series_names_the_day_it_is_crossed() -> None:
    daily = {**flat(range(1, 11), 100), nov(11): D(50)}  # today is Nov 11, half a day spent
    # 1,000 to Nov 10; Nov 11 counts at the rate (100 > 50): 1,100; then 100 a day.
    assert forecast_crossing(daily, nov(1), nov(30), nov(11), 2500) == nov(25)
    assert forecast_crossing(daily, nov(1), nov(30), nov(11), 1100) == nov(11)
    assert forecast_crossing(daily, nov(1), nov(30), nov(11), 3000) == nov(30)
    assert forecast_crossing(daily, nov(1), nov(30), nov(11), 3001) is None  # after the period


def test_forecast_counts_today_at_what_it_spent_when_that_is_more_than_the_rate() -> None:
    daily = {**flat(range(1, 11), 100), nov(11): D(700)}
    # 1,700 so far; then 100 a day (counting today at the rate would have said Nov 18).
    assert forecast_crossing(daily, nov(1), nov(30), nov(11), 1750) == nov(12)
    assert forecast_crossing(daily, nov(1), nov(30), nov(11), 1900) == nov(13)


def test_forecast_of_weekday_only_usage_skips_the_weekends() -> None:
    weekdays = {nov(d): D(100) for d in range(1, 11) if nov(d).weekday() < 5}
    daily = {**{nov(d): D(0) for d in range(1, 11)}, **weekdays}
    # 700 to Nov 10 (7 weekdays); 100 a weekday from Wed Nov 11, nothing on weekends.
    assert forecast_crossing(daily, nov(1), nov(30), nov(11), 2000) == nov(27)
    # A flat average (70 a day) would say Nov 29; and no weekend day is ever the one.
    assert forecast_crossing(daily, nov(1), nov(30), nov(11), 1050) == nov(16)  # not Sat 14
    projected = {
        forecast_crossing(daily, nov(1), nov(30), nov(11), amount)
        for amount in range(801, 2801, 50)
    }
    assert all(day is None or day.weekday() < 5 for day in projected)


def test_without_a_weekend_yet_weekends_are_assumed_like_weekdays() -> None:
    daily = flat(range(2, 5), 100)  # Mon Nov 2 .. Wed Nov 4, today Thursday
    assert forecast_crossing(daily, nov(2), nov(8), nov(5), 700) == nov(8)  # the Sunday


def test_a_spike_on_day_two_does_not_dominate_the_forecast() -> None:
    daily = {**flat(range(1, 5), 100), nov(2): D(5000)}  # Sun 1 .. Wed 4; today Thu 5
    # Spent 5,300; the rate stays 100 a day (the spike is capped), so 6,000 on Nov 11.
    assert forecast_crossing(daily, nov(1), nov(30), nov(5), 6000) == nov(11)
    # Averaging the spike in (1,325 a day) would have said today.
    assert forecast_crossing(daily, nov(1), nov(30), nov(5), 5400) == nov(5)


def test_the_first_days_of_a_period_are_not_forecast() -> None:
    daily = {**flat(range(1, 3), 100), nov(2): D(5000)}
    for today in range(1, 1 + MIN_FORECAST_DAYS):
        assert forecast_crossing(daily, nov(1), nov(30), nov(today), 6000) is None
    assert forecast_crossing(daily, nov(1), nov(30), nov(1 + MIN_FORECAST_DAYS), 6000) is not None


def test_a_budget_already_spent_is_not_forecast() -> None:
    daily = flat(range(1, 11), 100)
    assert forecast_crossing(daily, nov(1), nov(30), nov(11), 1000) is None
    assert forecast_crossing(daily, nov(1), nov(30), nov(11), 900) is None
    assert forecast_crossing({}, nov(1), nov(30), nov(11), 900) is None  # no spend at all


def test_anomaly_is_k_times_the_trailing_mean_and_at_least_the_floor() -> None:
    k, floor = D(3), D(2000)
    assert is_anomaly(D(2001), [D(500)] * 7, k, floor)
    assert not is_anomaly(D(1500), [D(500)] * 7, k, floor)  # 3x exactly is not above
    assert not is_anomaly(D(1999), [D(100)] * 7, k, floor)  # below the floor
    assert not is_anomaly(D(2500), [D(1000)] * 7, k, floor)
    assert not is_anomaly(D(2500), [D(0)] * 6 + [D(7000)], k, floor)  # missing days are 0
    assert is_anomaly(D(2000), [D(0)] * 7, k, floor)  # nothing before: the floor decides
    assert not is_anomaly(D(1999), [D(0)] * 7, k, floor)
    assert is_anomaly(D(2000), [], k, floor)


# --- a constructed ledger ------------------------------------------------------------------

BOX = SecretBox([generate_secret_key()])


@dataclass
class Ledger:
    engine: Engine
    workspace_id: int
    connection_id: int
    models: itertools.count[int] = field(default_factory=itertools.count)

    def spend(self, day: date, cents: int | Decimal, email: str = "alice@acme.test") -> None:
        row = {
            "connection_id": self.connection_id,
            "day": day,
            "user_email": email,
            "model": f"m{next(self.models)}",
            "kind_class": "on_demand",
            "events": 1,
            "request_units": D(1),
            "input_tokens": 0,
            "output_tokens": 0,
            "cache_read_tokens": 0,
            "cache_write_tokens": 0,
            "charged_cents": D(cents),
        }
        with session_scope(self.engine) as session:
            session.execute(ROLLUPS.insert(), [row])

    def budget(self, **fields: Any) -> int:
        with session_scope(self.engine) as session:
            fields.setdefault("created_by", "UADMIN")
            fields.setdefault("now", NOW)
            budget = add_budget(session, self.workspace(session), **fields)
            assert budget.id is not None
            return budget.id

    def workspace(self, session: Session) -> Workspace:
        workspace = session.get(Workspace, self.workspace_id)
        assert workspace is not None
        return workspace

    def evaluate(self, now: datetime = NOW, config: AlertSettings = QUIET) -> list[Alert]:
        with session_scope(self.engine) as session:
            return evaluate(session, now=now, settings=config, workspace_id=self.workspace_id)

    def connection(self, **changes: Any) -> None:
        with session_scope(self.engine) as session:
            connection = session.get(Connection, self.connection_id)
            assert connection is not None
            for name, value in changes.items():
                setattr(connection, name, value)

    def alerts(self) -> list[Alert]:
        with session_scope(self.engine) as session:
            query = select(Alert).where(col(Alert.workspace_id) == self.workspace_id)
            return list(session.scalars(query.order_by(col(Alert.id))).all())


def make_ledger(engine: Engine, team_id: str = "T1", timezone: str = "UTC") -> Ledger:
    with session_scope(engine) as session:
        workspace = get_or_create_workspace(session, team_id=team_id, name=f"Team {team_id}")
        workspace.timezone = timezone
        connection = store_connection(
            session,
            workspace=workspace,
            provider="cursor",
            api_key="key_" + "0" * 40,
            box=BOX,
            key_hint="…0000",
            connected_by="UADMIN",
            now=NOW - timedelta(days=30),
        )
        connection.last_success_at = NOW - timedelta(minutes=30)
        assert workspace.id is not None and connection.id is not None
        return Ledger(engine, workspace.id, connection.id)


@pytest.fixture
def ledger(engine: Engine) -> Ledger:
    return make_ledger(engine)


def thresholds_of(alerts: list[Alert]) -> list[tuple[date | None, int | None]]:
    return [(a.period_start, a.threshold) for a in alerts if a.kind == "threshold"]


# --- budgets -------------------------------------------------------------------------------


def test_budget_defaults_and_who_is_told(ledger: Ledger) -> None:
    team = ledger.budget(amount_cents=500_000, notify_user_ids=("U1", "U2", "U1"))
    alice = ledger.budget(
        subject_email=" Alice@Acme.test ", subject_user_id="UALICE", amount_cents=20_000
    )
    with session_scope(ledger.engine) as session:
        budgets = {b.id: b for b in list_budgets(session, ledger.workspace(session))}
    assert budgets[team].period == "cycle" and budgets[team].thresholds == [50, 80, 100]
    assert budgets[team].notify_user_ids == ["U1", "U2"]
    assert budgets[team].subject_email is None and not budgets[team].dm_subject
    assert budgets[alice].subject_email == "alice@acme.test"
    assert budgets[alice].dm_subject and budgets[alice].subject_user_id == "UALICE"


def test_setting_a_budget_again_replaces_it_under_the_same_id(ledger: Ledger) -> None:
    first = ledger.budget(amount_cents=100_000, period="month", thresholds=(50,))
    again = ledger.budget(
        amount_cents=200_000,
        period="month",
        thresholds=(90, 75),
        notify_user_ids=("U9",),
        notify_channel_id="CFIN",
    )
    other = ledger.budget(amount_cents=30_000, period="week")
    assert again == first and other != first
    with session_scope(ledger.engine) as session:
        budget = session.get(Budget, first)
        assert budget is not None
        assert (budget.amount_cents, budget.thresholds, budget.notify_user_ids) == (
            200_000,
            [75, 90],
            ["U9"],
        )
        assert budget.notify_channel_id == "CFIN"
        assert len(list_budgets(session, ledger.workspace(session))) == 2


@pytest.mark.parametrize(
    ("fields", "advice"),
    [
        ({"amount_cents": 0}, "more than $0"),
        ({"amount_cents": 10**12}, "at most"),
        ({"amount_cents": 100, "period": "year"}, "cycle"),
        ({"amount_cents": 100, "thresholds": ()}, "at 50,80,100"),
        ({"amount_cents": 100, "thresholds": (0, 50)}, "at 50,80,100"),
        ({"amount_cents": 100, "thresholds": (50, 1001)}, "at 50,80,100"),
        ({"amount_cents": 100, "provider": "copilot"}, "budget set cursor"),
        ({"amount_cents": 100, "subject_user_id": "UBOB"}, "settings link"),
        ({"amount_cents": 100, "subject_email": "bob"}, "is not an email"),
        ({"amount_cents": 100, "notify_user_ids": [f"U{i}" for i in range(21)]}, "channel"),
    ],
)
def test_a_bad_budget_is_refused_saying_what_to_type(
    ledger: Ledger, fields: dict[str, Any], advice: str
) -> None:
    with pytest.raises(LedgerError) as refused:
        ledger.budget(**fields)
    assert advice in error_text(refused.value)


def test_a_workspace_has_at_most_a_hundred_budgets(ledger: Ledger) -> None:
    with session_scope(ledger.engine) as session:
        workspace = ledger.workspace(session)
        for index in range(MAX_BUDGETS_PER_WORKSPACE):
            add_budget(
                session,
                workspace,
                subject_email=f"u{index}@acme.test",
                amount_cents=1000,
                created_by="UADMIN",
                now=NOW,
            )
    with pytest.raises(LedgerError) as refused:
        ledger.budget(amount_cents=1000)
    assert "remove one first" in error_text(refused.value)
    ledger.budget(subject_email="u7@acme.test", amount_cents=5000)  # replacing is fine


def test_a_budget_of_another_workspace_cannot_be_removed(engine: Engine) -> None:
    ours, theirs = make_ledger(engine, "T1"), make_ledger(engine, "T2")
    their_budget = theirs.budget(amount_cents=1000)
    with session_scope(engine) as session, pytest.raises(LedgerError) as refused:
        remove_budget(session, ours.workspace(session), their_budget)
    assert "budget list" in error_text(refused.value)
    with session_scope(engine) as session:
        assert session.get(Budget, their_budget) is not None
        removed = remove_budget(session, theirs.workspace(session), their_budget)
        assert removed.id == their_budget
    with session_scope(engine) as session:
        assert session.get(Budget, their_budget) is None


def test_removing_a_budget_removes_its_alerts_and_their_messages(ledger: Ledger) -> None:
    budget = ledger.budget(amount_cents=1000, period="day")
    ledger.spend(TODAY, 1500)
    [*alerts] = ledger.evaluate()
    assert len(alerts) == 3 and alerts[0].id is not None
    with session_scope(ledger.engine) as session:
        session.add(
            AlertMessage(
                alert_id=alerts[0].id, channel_id="D1", ts="1.0", recipient="U1", sent_at=NOW
            )
        )
    with session_scope(ledger.engine) as session:
        remove_budget(session, ledger.workspace(session), budget)
    assert ledger.alerts() == []
    with session_scope(ledger.engine) as session:
        assert session.scalar(select(func.count()).select_from(AlertMessage)) == 0


# --- thresholds and forecasts --------------------------------------------------------------


def test_two_thresholds_crossed_at_once_raise_two_alerts_once_per_period(ledger: Ledger) -> None:
    budget = ledger.budget(amount_cents=10_000, period="day", notify_user_ids=("U1",))
    ledger.spend(TODAY, 8500)

    raised = ledger.evaluate()

    assert thresholds_of(raised) == [(TODAY, 50), (TODAY, 80)]
    assert [a.dedupe_key for a in raised] == [
        f"threshold:{budget}:{TODAY.isoformat()}:50",
        f"threshold:{budget}:{TODAY.isoformat()}:80",
    ]
    assert raised[0].amount_cents == D(8500) and raised[0].limit_cents == D(10_000)
    assert raised[0].budget_id == budget and raised[0].subject == "team"
    assert "$85.00 of $100.00" in detail(raised[0], "UTC")
    assert ledger.evaluate() == []
    assert ledger.evaluate(NOW + timedelta(hours=5)) == []

    tomorrow = TODAY + timedelta(days=1)
    ledger.spend(tomorrow, 9000)
    assert thresholds_of(ledger.evaluate(NOW + timedelta(days=1))) == [
        (tomorrow, 50),
        (tomorrow, 80),
    ]
    ledger.spend(tomorrow, 1000)
    assert thresholds_of(ledger.evaluate(NOW + timedelta(days=1, hours=1))) == [(tomorrow, 100)]
    assert len(ledger.alerts()) == 5


def test_a_personal_budget_counts_only_that_person(ledger: Ledger) -> None:
    ledger.budget(subject_email="alice@acme.test", amount_cents=10_000, period="week")
    ledger.spend(nov(23), 3000)
    ledger.spend(nov(24), 2500, email="bob@acme.test")
    ledger.spend(nov(22), 9000)  # the week before
    assert thresholds_of(ledger.evaluate()) == []
    ledger.spend(TODAY, 2000)
    [alert] = ledger.evaluate()
    assert (alert.subject, alert.threshold, alert.period_start) == ("alice@acme.test", 50, nov(23))
    assert title(alert, "UTC") == "alice@acme.test reached 50% of their Cursor budget for the week"


def test_changing_a_budget_amount_arms_its_thresholds_again(ledger: Ledger) -> None:
    budget = ledger.budget(amount_cents=10_000, period="day", thresholds=(50,))
    ledger.spend(TODAY, 6000)
    [first] = ledger.evaluate()
    assert ledger.budget(amount_cents=20_000, period="day", thresholds=(50,)) == budget
    assert ledger.evaluate() == []  # 30% now
    ledger.spend(TODAY, 5000)
    [second] = ledger.evaluate()
    assert second.dedupe_key == first.dedupe_key and second.limit_cents == D(20_000)
    old = next(a for a in ledger.alerts() if a.id == first.id)
    assert old.status == "resolved" and old.dedupe_key.endswith(f":superseded:{first.id}")
    assert ledger.budget(amount_cents=20_000, period="day", thresholds=(50, 60)) == budget
    assert [a.threshold for a in ledger.evaluate()] == []  # 55%: same amount, nothing new


def test_a_forecast_names_the_projected_day_once_per_period(ledger: Ledger) -> None:
    budget = ledger.budget(subject_email="alice@acme.test", amount_cents=6000, period="month")
    for day in range(1, 25):
        ledger.spend(nov(day), 200)
    # 4,800 to Nov 24; 200 a day from today: 5,000 on Nov 25 ... 6,000 on Nov 30.
    raised = ledger.evaluate()
    [forecast] = [a for a in raised if a.kind == "forecast"]
    assert forecast.dedupe_key == f"forecast:{budget}:2026-11-01"
    assert forecast.projected_day == nov(30) and forecast.amount_cents == D(4800)
    assert "Mon Nov 30" in title(forecast, "UTC")
    assert [a for a in ledger.evaluate(NOW + timedelta(hours=3)) if a.kind == "forecast"] == []


def test_today_is_the_local_day_of_the_workspace(engine: Engine) -> None:
    ledger = make_ledger(engine, timezone="Pacific/Auckland")  # NOW is Nov 26, 03:30 there
    ledger.budget(amount_cents=1000, period="day", thresholds=(100,))
    ledger.spend(nov(25), 5000)
    assert ledger.evaluate() == []
    ledger.spend(nov(26), 1000)
    [alert] = ledger.evaluate()
    assert alert.period_start == nov(26)


def test_budget_status_shows_spend_percent_and_projection(ledger: Ledger) -> None:
    team = ledger.budget(amount_cents=10_000, period="cycle")
    day = ledger.budget(amount_cents=1000, period="day")
    for d in range(1, 25):
        ledger.spend(nov(d), 200)
    ledger.spend(TODAY, 150)
    with session_scope(ledger.engine) as session:
        statuses = budget_status(session, ledger.workspace(session), now=NOW)
    by_id = {s.budget.id: s for s in statuses}
    cycle = by_id[team]
    assert (cycle.period_start, cycle.period_end, cycle.spent_cents) == (nov(1), nov(30), D(4950))
    assert cycle.percent == D("49.50") and cycle.projected_day is None  # 6,000 by Nov 30
    assert (by_id[day].spent_cents, by_id[day].percent) == (D(150), D("15.00"))


def test_the_digest_and_the_budget_forecast_agree_on_the_same_data_and_day(
    ledger: Ledger,
) -> None:
    for day in range(1, 25):  # $7 a weekday, $1 a weekend day, nothing today yet
        ledger.spend(nov(day), 100 if nov(day).weekday() >= 5 else 700)
    budget = ledger.budget(amount_cents=15_000, period="cycle")
    with session_scope(ledger.engine) as session:
        workspace = ledger.workspace(session)
        [status] = budget_status(session, workspace, now=NOW)
        inputs = digest_inputs(session, scope_for(session, workspace), today=TODAY, now=NOW)
    digest_forecast = compose(inputs).forecast
    # Nov 1..24: 17 weekdays and 7 weekend days spent $126; Nov 25..30 adds four weekdays
    # and two weekend days: $30 more. $150 is passed on Monday Nov 30.
    assert digest_forecast.cents == status.projected_cents == D(15_600)
    assert (digest_forecast.weekday_rate_cents, digest_forecast.weekend_rate_cents) == (
        D(700),
        D(100),
    )
    assert status.projected_day == nov(30)
    [alert] = [a for a in ledger.evaluate() if a.kind == "forecast"]
    assert alert.budget_id == budget and alert.projected_day == nov(30)
    assert (alert.rate_weekday_cents, alert.rate_weekend_cents) == (D(700), D(100))


# --- anomalies and health ------------------------------------------------------------------


def test_an_unusual_day_for_a_person_raises_one_alert(ledger: Ledger) -> None:
    for day in range(17, 24):
        ledger.spend(nov(day), 500)
        ledger.spend(nov(day), 10_000, email="bob@acme.test")
        ledger.spend(nov(day), 100, email="carol@acme.test")
    ledger.spend(YESTERDAY, 3000)  # 6x alice's average, above the $20 floor
    ledger.spend(YESTERDAY, 10_000, email="bob@acme.test")
    ledger.spend(YESTERDAY, 1500, email="carol@acme.test")  # 15x, but under the floor

    [alert] = ledger.evaluate(config=AlertSettings())

    assert alert.kind == "anomaly_user" and alert.subject == "alice@acme.test"
    assert alert.dedupe_key == f"anomaly:{ledger.connection_id}:alice@acme.test:2026-11-24"
    assert alert.amount_cents == D(3000) and alert.period_start == YESTERDAY
    assert "6.0x the average of $5.00" in detail(alert, "UTC")
    assert ledger.evaluate(NOW + timedelta(hours=2), config=AlertSettings()) == []


def test_an_unusual_day_for_the_team_raises_one_alert(ledger: Ledger) -> None:
    for day in range(17, 24):
        for email in ("a@acme.test", "b@acme.test", "c@acme.test"):
            ledger.spend(nov(day), 1000, email=email)
    for email in ("a@acme.test", "b@acme.test", "c@acme.test"):
        ledger.spend(YESTERDAY, 1900, email=email)  # each under the floor; together 5,700

    [alert] = ledger.evaluate(config=AlertSettings(anomaly_factor=D("1.5")))

    assert alert.kind == "anomaly_team" and alert.subject == "team"
    assert alert.dedupe_key == f"anomaly-team:{ledger.connection_id}:2026-11-24"
    assert ledger.evaluate(config=AlertSettings(anomaly_factor=D("1.5"))) == []


def test_a_revoked_key_raises_one_alert_resolved_on_reconnect(ledger: Ledger) -> None:
    ledger.connection(status="revoked", failing_since=NOW - timedelta(hours=1))
    [alert] = ledger.evaluate()
    assert alert.kind == "health"
    assert alert.dedupe_key == f"health:{ledger.connection_id}:revoked:2026-11-25"
    assert alert.subject == "…0000" and alert.cause == "revoked"
    assert "/spend cursor connect" in detail(alert, "UTC")
    assert ledger.evaluate(NOW + timedelta(hours=3)) == []
    ledger.connection(status="active", failing_since=None, last_success_at=NOW)
    assert ledger.evaluate(NOW + timedelta(hours=4)) == []
    assert [a.status for a in ledger.alerts()] == ["resolved"]


def test_a_connection_failing_longer_than_allowed_raises_one_alert(ledger: Ledger) -> None:
    config = AlertSettings(failing_hours=6)
    ledger.connection(
        status="failing", failing_since=NOW - timedelta(hours=5), last_error="HTTP 503"
    )
    assert ledger.evaluate(config=config) == []
    [alert] = ledger.evaluate(NOW + timedelta(hours=2), config=config)  # failing for 7 hours
    assert alert.dedupe_key == f"health:{ledger.connection_id}:failing:2026-11-25"
    assert "HTTP 503" in detail(alert, "UTC") and "7 hours" in title(alert, "UTC")
    assert ledger.evaluate(NOW + timedelta(hours=3), config=config) == []


def test_no_successful_sync_for_retention_minus_a_day_raises_one_alert(ledger: Ledger) -> None:
    config = AlertSettings(retention_days=7)
    ledger.connection(last_success_at=NOW - timedelta(days=5, hours=23))
    assert ledger.evaluate(config=config) == []
    [alert] = ledger.evaluate(NOW + timedelta(hours=2), config=config)  # 6 days and 1 hour
    assert alert.dedupe_key == f"health:{ledger.connection_id}:stale:2026-11-19"
    assert "history at risk" in title(alert, "UTC")
    assert ledger.evaluate(NOW + timedelta(hours=5), config=config) == []
    ledger.connection(last_success_at=NOW + timedelta(hours=6))
    ledger.evaluate(NOW + timedelta(hours=6), config=config)
    assert [a.status for a in ledger.alerts()] == ["resolved"]


def test_a_key_raised_meanwhile_by_another_evaluator_is_not_raised_twice(
    ledger: Ledger, monkeypatch: pytest.MonkeyPatch
) -> None:
    ledger.budget(amount_cents=1000, period="day")
    ledger.spend(TODAY, 2000)
    assert len(ledger.evaluate()) == 3
    # The other evaluator read before this one inserted: it sees no existing keys.
    monkeypatch.setattr(evaluating._Evaluation, "_load_existing", lambda self, first: None)
    assert ledger.evaluate() == []
    assert len(ledger.alerts()) == 3


# --- acting and telling --------------------------------------------------------------------


def test_an_alert_is_due_once_then_after_each_snooze_and_never_once_acknowledged(
    ledger: Ledger,
) -> None:
    ledger.budget(amount_cents=1000, period="day", thresholds=(100,))
    ledger.spend(TODAY, 2000)
    [alert] = ledger.evaluate()
    assert alert.id is not None

    def due(at: datetime) -> list[int | None]:
        with session_scope(ledger.engine) as session:
            return [a.id for a in due_notifications(session, now=at)]

    def notified(at: datetime) -> None:
        with session_scope(ledger.engine) as session:
            mark_notified(session, [alert.id], at)  # type: ignore[list-item]

    def acted(action: str, at: datetime) -> Alert:
        with session_scope(ledger.engine) as session:
            return act(session, alert.id, action=action, user_id="U1", now=at)  # type: ignore[arg-type]

    assert due(NOW) == [alert.id]
    notified(NOW)
    assert due(NOW) == []
    snoozed = acted("snooze_1d", NOW + timedelta(hours=1))
    assert snoozed.status == "snoozed" and snoozed.acted_by == "U1"
    assert snoozed.snoozed_until == NOW + timedelta(days=1, hours=1)
    assert due(NOW + timedelta(hours=24)) == []
    assert due(NOW + timedelta(days=1, hours=1)) == [alert.id]  # the snooze ended: a reminder
    assert due(NOW + timedelta(days=1, hours=2)) == [alert.id]  # until it is sent
    notified(NOW + timedelta(days=1, hours=2))
    assert due(NOW + timedelta(days=1, hours=3)) == []
    with session_scope(ledger.engine) as session:
        [shown] = open_alerts(session, ledger.workspace_id)
        assert shown.status == "open" and shown.notify_count == 2
    acted("snooze_7d", NOW + timedelta(days=2))
    assert due(NOW + timedelta(days=8)) == []
    acked = acted("acknowledge", NOW + timedelta(days=3))
    assert acked.status == "acknowledged" and acked.snoozed_until is None
    assert due(NOW + timedelta(days=30)) == []
    with session_scope(ledger.engine) as session:
        assert open_alerts(session, ledger.workspace_id) == []


def test_acting_on_an_unknown_or_foreign_alert_is_refused(engine: Engine) -> None:
    ours, theirs = make_ledger(engine, "T1"), make_ledger(engine, "T2")
    theirs.budget(amount_cents=1000, period="day")
    theirs.spend(TODAY, 1000)
    their_alert = theirs.evaluate()[0].id
    assert their_alert is not None
    with session_scope(engine) as session:
        with pytest.raises(LedgerError) as refused:
            act(session, 999, action="acknowledge", user_id="U1", now=NOW)
        assert "No alert with ID 999" in error_text(refused.value)
        with pytest.raises(LedgerError) as refused:
            act(
                session,
                their_alert,
                action="acknowledge",
                user_id="U1",
                now=NOW,
                workspace_id=ours.workspace_id,
            )
        assert "No alert" in error_text(refused.value)
        with pytest.raises(LedgerError) as refused:
            act(session, their_alert, action="dismiss", user_id="U1", now=NOW)
        assert "snooze_1d" in error_text(refused.value)


# --- the property --------------------------------------------------------------------------

#: Steps of a run; some twice, to be drawn more often.
ACTIONS = (
    *("advance", "advance", "sync", "sync", "evaluate", "evaluate", "evaluate twice"),
    *("restart", "act", "act", "notify", "notify"),
)
STEPS = st.lists(
    st.tuples(st.sampled_from(ACTIONS), st.integers(min_value=0, max_value=10_000)),
    min_size=3,
    max_size=16,
)
BUDGETS = st.fixed_dictionaries(
    {
        "day": st.integers(min_value=300, max_value=3000),
        "week": st.integers(min_value=2000, max_value=12_000),
        "cycle": st.integers(min_value=5000, max_value=40_000),
        "personal": st.integers(min_value=300, max_value=6000),
        "thresholds": st.sampled_from([(50, 80, 100), (25, 50), (10, 100, 150), (100,)]),
    }
)
_examples = itertools.count()


def _period_start(period: str, today: date) -> date:
    """Independently of budget_rules: the simulator's cycle starts on the 1st."""
    if period == "day":
        return today
    if period == "week":
        return today - timedelta(days=today.weekday())
    return today.replace(day=1)


def _spent(
    session: Session, connection_id: int, start: date, today: date, email: str | None
) -> Decimal:
    query = select(func.sum(ROLLUPS.c.charged_cents)).where(
        ROLLUPS.c.connection_id == connection_id,
        ROLLUPS.c.day >= start,
        ROLLUPS.c.day <= today,
    )
    if email is not None:
        query = query.where(ROLLUPS.c.user_email == email)
    return Decimal(session.execute(query).scalar() or 0)


@dataclass
class _Told:
    """What the Slack side would know of one alert."""

    acknowledged: bool = False
    snoozed_until: datetime | None = None
    last_notified: datetime | None = None

    def due(self, now: datetime) -> bool:
        if self.acknowledged:
            return False
        if self.snoozed_until is not None and self.snoozed_until > now:
            return False
        if self.last_notified is None:
            return True
        return self.snoozed_until is not None and self.last_notified < self.snoozed_until


@dataclass
class _Run:
    team: Team
    url: str
    workspace_id: int
    budgets: dict[int, tuple[str, str | None, int, tuple[int, ...]]]
    config: AlertSettings = field(default_factory=AlertSettings)
    expected: set[tuple[int, date, int]] = field(default_factory=set)
    told: dict[int, _Told] = field(default_factory=dict)

    @property
    def now(self) -> datetime:
        return self.team.clock.now

    def evaluate(self) -> None:
        with session_scope(self.team.engine) as session:
            evaluate(session, now=self.now, settings=self.config, workspace_id=self.workspace_id)
        today = self.now.date()
        with session_scope(self.team.engine) as session:
            for budget_id, (period, email, amount, pcts) in self.budgets.items():
                start = _period_start(period, today)
                spent = _spent(session, self.team.connection_id, start, today, email)
                for pct in pcts:
                    if spent * 100 >= amount * pct:
                        self.expected.add((budget_id, start, pct))

    def alerts(self) -> list[Alert]:
        with session_scope(self.team.engine) as session:
            query = select(Alert).where(col(Alert.workspace_id) == self.workspace_id)
            return list(session.scalars(query.order_by(col(Alert.id))).all())

    def act(self, pick: int) -> None:
        alerts = [a for a in self.alerts() if a.status != "resolved"]
        if not alerts:
            return
        alert = alerts[pick % len(alerts)]
        assert alert.id is not None
        action = "acknowledge" if pick % 3 == 0 else "snooze_1d"
        with session_scope(self.team.engine) as session:
            act(session, alert.id, action=action, user_id="U1", now=self.now)
        told = self.told.setdefault(alert.id, _Told())
        if action == "acknowledge":
            told.acknowledged, told.snoozed_until = True, None
        else:
            told.acknowledged, told.snoozed_until = False, self.now + timedelta(days=1)

    def notify(self) -> None:
        with session_scope(self.team.engine) as session:
            due = due_notifications(session, now=self.now, workspace_id=self.workspace_id)
            due_ids = {a.id for a in due}
            statuses = {a.id: a.status for a in self.alerts() if a.id is not None}
            live = {i for i, status in statuses.items() if status != "resolved"}
            for alert_id in live:
                told = self.told.setdefault(alert_id, _Told())
                snoozing = told.snoozed_until is not None and told.snoozed_until > self.now
                if snoozing:
                    assert alert_id not in due_ids, "a snoozed alert is quiet until it ends"
                assert (alert_id in due_ids) == told.due(self.now), (alert_id, told, self.now)
            assert due_ids <= live
            mark_notified(session, [i for i in due_ids if i is not None], self.now)
        for due_id in due_ids:
            assert due_id is not None
            self.told[due_id].last_notified = self.now

    def restart(self) -> None:
        self.team.engine.dispose()
        self.team.engine = make_engine(self.url)
        self.config = AlertSettings()


@pytest.mark.slow
@settings(
    max_examples=25,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(steps=STEPS, amounts=BUDGETS)
def test_each_threshold_fires_once_per_period_and_snoozes_hold(
    database_url: str, steps: list[tuple[str, int]], amounts: dict[str, Any]
) -> None:
    engine = make_engine(database_url)
    team = make_team(
        engine,
        team_id=f"TP{next(_examples)}",
        clock=Clock(NOW),
        users=4,
        days=8,
        future_days=12,
    )
    assert team.sync().ok
    with session_scope(engine) as session:
        workspace = session.scalars(
            select(Workspace).join(Connection).where(col(Connection.id) == team.connection_id)
        ).one()
        top = (
            session.execute(
                select(ROLLUPS.c.user_email)
                .where(ROLLUPS.c.connection_id == team.connection_id)
                .group_by(ROLLUPS.c.user_email)
                .order_by(func.sum(ROLLUPS.c.charged_cents).desc())
            )
            .scalars()
            .first()
        )
        assert top is not None
        pcts = amounts["thresholds"]
        plan = [
            ("day", None, amounts["day"]),
            ("week", None, amounts["week"]),
            ("cycle", None, amounts["cycle"]),
            ("day", top, amounts["personal"]),
        ]
        budgets = {}
        for period, email, amount in plan:
            budget = add_budget(
                session,
                workspace,
                subject_email=email,
                amount_cents=amount,
                period=period,
                thresholds=pcts,
                created_by="UADMIN",
                now=NOW,
            )
            assert budget.id is not None
            budgets[budget.id] = (period, email, amount, tuple(pcts))
        assert workspace.id is not None
        run = _Run(team=team, url=database_url, workspace_id=workspace.id, budgets=budgets)
    try:
        for action, value in steps:
            if action == "advance":
                team.clock.advance(hours=1 + value % 40)
            elif action == "sync":
                assert team.sync().ok
            elif action == "evaluate":
                run.evaluate()
            elif action == "evaluate twice":
                run.evaluate()
                run.evaluate()
            elif action == "restart":
                run.restart()
            elif action == "act":
                run.act(value)
            else:
                run.notify()
        run.evaluate()
        run.notify()
        raised = [
            (a.budget_id, a.period_start, a.threshold)
            for a in run.alerts()
            if a.kind == "threshold"
        ]
        assert len(raised) == len(set(raised)), "one alert per budget, period and threshold"
        assert set(raised) == run.expected
        # A snooze still running stays quiet; once it ends, the alert is due exactly once.
        team.clock.advance(days=1, hours=1)
        run.notify()
        run.notify()
    finally:
        run.team.engine.dispose()
