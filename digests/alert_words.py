"""Alerts in words: the title and detail of each alert kind, said from its facts.

An alert row (``ledger.models.Alert``) keeps facts only; every surface that shows an
alert (DMs, channel copies, App Home, ``/spend alerts``, the CLI) calls ``title`` and
``detail`` here. Facts that older rows lack are left out of the sentence.
"""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Protocol
from zoneinfo import ZoneInfo

from digests.format import dollars
from digests.words import TEAM, pace, period_label, provider_name, short_day
from ledger.budget_rules import percent_of


class AlertFacts(Protocol):
    """What an alert knows (an ``Alert`` row has all of it)."""

    @property
    def kind(self) -> str: ...
    @property
    def subject(self) -> str: ...
    @property
    def provider(self) -> str: ...
    @property
    def period(self) -> str | None: ...
    @property
    def period_start(self) -> date | None: ...
    @property
    def period_end(self) -> date | None: ...
    @property
    def threshold(self) -> int | None: ...
    @property
    def amount_cents(self) -> Decimal | None: ...
    @property
    def limit_cents(self) -> Decimal | None: ...
    @property
    def projected_day(self) -> date | None: ...
    @property
    def rate_weekday_cents(self) -> Decimal | None: ...
    @property
    def rate_weekend_cents(self) -> Decimal | None: ...
    @property
    def baseline_cents(self) -> Decimal | None: ...
    @property
    def baseline_days(self) -> int | None: ...
    @property
    def cause(self) -> str | None: ...
    @property
    def since(self) -> datetime | None: ...
    @property
    def error(self) -> str | None: ...
    @property
    def retention_days(self) -> int | None: ...
    @property
    def created_at(self) -> datetime: ...


def _who(alert: AlertFacts) -> str:
    if alert.subject.startswith("group:"):  # a billing group's budget
        return f'the "{alert.subject[len("group:") :]}" group'
    return TEAM if alert.subject in ("", "team") else alert.subject


def _capital(who: str) -> str:
    """Who, at the start of a sentence: "The team"; an email stays as it is."""
    if who.startswith('the "'):
        return "The" + who[3:]
    return "The team" if who == TEAM else who


def _budget_name(alert: AlertFacts) -> str:
    """ "its Cursor budget for the week", "their Cursor budget for the billing cycle"."""
    whose = "its" if _who(alert) == TEAM or alert.subject.startswith("group:") else "their"
    name = f"{whose} {provider_name(alert.provider)} budget"
    return f"{name} for the {period_label(alert.period)}" if alert.period else name


def _local(moment: datetime, timezone: str) -> datetime:
    return moment.astimezone(ZoneInfo(timezone))


def _hours(span_seconds: float) -> int:
    return max(int(span_seconds // 3600), 0)


def _day(day: date | None) -> str:
    return short_day(day) if day is not None else "?"


def _cents(value: Decimal | None) -> Decimal:
    return value if value is not None else Decimal(0)


def _ends(alert: AlertFacts, joint: str) -> str:
    """``; the week ends Sun Nov 29`` (with ``joint`` in front); "" when not known."""
    if alert.period and alert.period_end:
        return f"{joint}the {period_label(alert.period)} ends {short_day(alert.period_end)}"
    return ""


def _percent(alert: AlertFacts) -> Decimal:
    return percent_of(int(_cents(alert.limit_cents)), _cents(alert.amount_cents))


def title(alert: AlertFacts, timezone: str) -> str:
    """One line that says what happened."""
    who, provider = _who(alert), provider_name(alert.provider)
    if alert.kind == "threshold":
        return f"{_capital(who)} reached {alert.threshold}% of {_budget_name(alert)}"
    if alert.kind == "forecast":
        day = _day(alert.projected_day)
        return f"{_capital(who)} is on course to pass {_budget_name(alert)} on {day}"
    if alert.kind in ("anomaly_user", "anomaly_team"):
        spent = dollars(_cents(alert.amount_cents))
        return f"Unusual {provider} spend: {who} spent {spent} on {_day(alert.period_start)}"
    return _health_title(alert, timezone)


def detail(alert: AlertFacts, timezone: str) -> str:
    """One or two sentences with the figures (and, for Slack, what to do)."""
    if alert.kind == "threshold":
        return _threshold_detail(alert, timezone)
    if alert.kind == "forecast":
        return _forecast_detail(alert)
    if alert.kind in ("anomaly_user", "anomaly_team"):
        return _anomaly_detail(alert)
    return _health_detail(alert, timezone)


def _threshold_detail(alert: AlertFacts, timezone: str) -> str:
    who = _capital(_who(alert))
    today = _local(alert.created_at, timezone).date()
    return (
        f"{who} spent {dollars(_cents(alert.amount_cents))} of "
        f"{dollars(_cents(alert.limit_cents))} ({_percent(alert):.0f}%) "
        f"from {_day(alert.period_start)} to {short_day(today)}{_ends(alert, '; ')}."
    )


def _forecast_detail(alert: AlertFacts) -> str:
    weekday, weekend = alert.rate_weekday_cents, alert.rate_weekend_cents
    at_pace = f" ({pace(weekday, weekend)})" if weekday is not None and weekend is not None else ""
    return (
        f"At the current pace{at_pace} {_who(alert)} will pass "
        f"{dollars(_cents(alert.limit_cents))} on {_day(alert.projected_day)}"
        f"{_ends(alert, ', before ')}; spent so far {dollars(_cents(alert.amount_cents))} "
        f"({_percent(alert):.0f}%)."
    )


def _anomaly_detail(alert: AlertFacts) -> str:
    cents, mean, days = _cents(alert.amount_cents), alert.baseline_cents, alert.baseline_days
    if mean is not None and mean > 0:
        ratio = f"{cents / mean:.1f}x"
        usual = f", {ratio} the average of {dollars(mean)} a day over the {days} days before"
    elif mean is not None:
        usual = f", with no spend in the {days} days before"
    else:
        usual = ""
    who = _capital(_who(alert))
    return f"{who} spent {dollars(cents)} on {_day(alert.period_start)}{usual}."


def _health_title(alert: AlertFacts, timezone: str) -> str:
    provider, since = provider_name(alert.provider), alert.since
    if alert.cause == "revoked":
        return f"{provider} key revoked: syncing has stopped"
    if alert.cause == "failing":
        hours = _hours((alert.created_at - since).total_seconds()) if since else 0
        return f"{provider} sync failing for {hours} hours"
    if alert.cause == "never_synced" or since is None:
        return f"{provider} history at risk: no successful sync yet"
    last_day = _local(since, timezone).date()
    return f"{provider} history at risk: no successful sync since {short_day(last_day)}"


def _health_detail(alert: AlertFacts, timezone: str) -> str:
    provider, code, since = provider_name(alert.provider), alert.provider, alert.since
    local = _local(since, timezone) if since is not None else None
    on_day = f" on {short_day(local.date())}" if local is not None else ""
    if alert.cause == "revoked":
        return (
            f"{provider} refused the API key {alert.subject}{on_day}. No usage is synced "
            f"until an admin connects again with `/spend {code} connect`."
        )
    if alert.cause == "failing":
        error = alert.error or "no error recorded"
        since_then = f" since {short_day(local.date())} {local:%H:%M}" if local is not None else ""
        return (
            f"Every {provider} sync{since_then} has failed ({error}). "
            f"Reports and alerts miss new usage until it works: `/spend {code} status`."
        )
    retention = alert.retention_days or 0
    left = ""
    if since is not None and retention:
        deadline = since.timestamp() + retention * 86400
        left = f" in about {_hours(deadline - alert.created_at.timestamp())} hours"
    after = f" after {local:%b %d %H:%M}" if local is not None else ""
    return (
        f"{provider} keeps about {retention} days of usage and the ledger has none"
        f"{after}: usage from then is lost{left} unless a sync succeeds. "
        f"See `/spend {code} status`."
    )
