"""The daily digest as the stable JSON of ``stackspend digest preview --format json``."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Any

from digests.daily_types import Delta, Digest, Forecast, TopList
from digests.format import json_cents
from digests.freshness_words import as_of_clock


def _cents(value: Decimal | None) -> float | None:
    return json_cents(value) if value is not None else None


def _instant(moment: datetime | None) -> str | None:
    return moment.isoformat() if moment else None


def _delta_json(change: Delta) -> dict[str, Any]:
    return {
        "cents": json_cents(change.current),
        "baseline_cents": _cents(change.baseline),
        "change_percent": float(change.percent) if change.percent is not None else None,
        "direction": change.direction.value if change.direction else None,
    }


def _top_json(top: TopList) -> dict[str, Any]:
    return {
        "rows": [
            {
                "key": row.key,
                "cents": json_cents(row.cents),
                "share_percent": float(row.share_percent),
                "events": row.events,
            }
            for row in top.rows
        ],
        "more": top.more,
        "more_cents": json_cents(top.more_cents),
    }


def _yesterday_json(digest: Digest) -> dict[str, Any]:
    return {
        **_delta_json(digest.yesterday_delta),
        "events": digest.yesterday_events,
        "baseline": f"average of {digest.trailing_days} days before",
    }


def _cycle_json(digest: Digest) -> dict[str, Any]:
    return {
        **_delta_json(digest.cycle_delta),
        "start": digest.cycle_start.isoformat(),
        "end": digest.cycle_end.isoformat(),
        "day": digest.cycle_day,
        "days": digest.cycle_days,
        "assumed": digest.cycle_assumed,
        "events": digest.cycle_events,
        "on_demand_cents": json_cents(digest.on_demand_cents),
        "included_cents": json_cents(digest.included_cents),
        "other_cents": json_cents(digest.other_cents),
        "baseline": "last cycle at the same point",
    }


def _forecast_json(projection: Forecast) -> dict[str, Any]:
    return {
        "cents": _cents(projection.cents),
        "daily_rate_cents": _cents(projection.daily_rate_cents),
        "weekday_rate_cents": _cents(projection.weekday_rate_cents),
        "weekend_rate_cents": _cents(projection.weekend_rate_cents),
        "basis_days": projection.basis_days,
        "remaining_days": projection.remaining_days,
        "cycle_end": projection.cycle_end.isoformat(),
        "note": projection.note,
    }


def render_json(digest: Digest) -> dict[str, Any]:
    """The digest as JSON-ready values (cents as numbers); fields are only ever added."""
    return {
        "provider": digest.provider,
        "workspace": digest.team_id,
        "workspace_name": digest.workspace_name,
        "timezone": digest.timezone,
        "today": digest.today.isoformat(),
        "day": digest.day.isoformat(),
        "health": [{"level": n.level.value, "text": n.text} for n in digest.health],
        "yesterday": _yesterday_json(digest),
        "cycle": _cycle_json(digest),
        "forecast": _forecast_json(digest.forecast),
        "top_users": _top_json(digest.top_users),
        "top_models": _top_json(digest.top_models),
        "budget_lines": list(digest.budget_lines),
        "alert_lines": list(digest.alert_lines),
        "people_hidden": digest.people_hidden,
        "connection_status": digest.connection_status,
        "as_of": _instant(digest.as_of),
        "data_as_of": as_of_clock(digest.as_of, digest.timezone) if digest.as_of else None,
        "last_success_at": _instant(digest.last_success_at),
        "history_start": _instant(digest.history_start),
        "history": digest.history.to_json() if digest.history else None,
        "summary": digest.summary,
        "idle_seats": digest.idle_seats,
        "idle_seat_cost_per_month_cents": digest.idle_seat_cost_per_month_cents,
    }
