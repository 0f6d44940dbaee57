"""The daily digest composed from ``DigestInputs``: pure, no I/O, no clock.

``compose`` turns query results into a ``Digest`` (figures, comparisons, a forecast,
top lists and health notes, nothing formatted yet; the values are in
``digests.daily_types``). The renderings format it:

- ``digests.daily_render.render_text``: the terminal (``templates/daily.txt.j2``), every
  data value with its control characters made visible (``digests.format.printable``),
- ``digests.daily_render.render_blocks``: a Slack message whose mrkdwn comes from
  ``templates/daily_*.md.j2``, every data value Slack-escaped on the way out
  (``digests.format.escape``), within Block Kit's limits,
- ``digests.daily_json.render_json``: the stable JSON of
  ``stackspend digest preview --format json``.

Health comes first: a revoked, failing or disconnected connection, or data older
than ``STALE_AFTER``, is said before any figure, in every rendering
(``digests.daily_health``).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from decimal import ROUND_HALF_UP, Decimal
from zoneinfo import ZoneInfo

from digests.daily_health import STALE_AFTER, freshness, health_notes
from digests.daily_types import (
    Delta,
    Digest,
    Direction,
    Forecast,
    HealthNote,
    Level,
    Ranked,
    TopList,
)
from digests.daily_words import change_words, percent, short_date
from digests.format import dollars
from digests.seat_words import idle_summary
from digests.words import provider_name
from ledger.budget_rules import project
from ledger.digest_data import DigestInputs
from ledger.queries import Row

__all__ = [
    "FLAT_PERCENT",
    "MAX_NOTE_LINES",
    "MAX_TOP",
    "STALE_AFTER",
    "Delta",
    "Digest",
    "Direction",
    "Forecast",
    "HealthNote",
    "Level",
    "Ranked",
    "TopList",
    "compose",
    "delta",
    "forecast",
]

#: Changes smaller than this many percent either way are "flat".
FLAT_PERCENT = Decimal(2)
#: The most rows a top list shows, whatever the caller asks for.
MAX_TOP = 15
#: Budget and alert lines shown at most (each kind); the rest are counted.
MAX_NOTE_LINES = 20

_TENTH = Decimal("0.1")


def delta(current: Decimal, baseline: Decimal | None) -> Delta:
    """``current`` against ``baseline``: percent change and direction (flat within 2%)."""
    if baseline is None:
        return Delta(current, None, None, None)
    if baseline == 0:
        if current == 0:
            return Delta(current, baseline, Decimal(0), Direction.FLAT)
        return Delta(current, baseline, None, Direction.UP if current > 0 else Direction.DOWN)
    change = ((current - baseline) / baseline * 100).quantize(_TENTH, rounding=ROUND_HALF_UP)
    if abs(change) < FLAT_PERCENT:
        direction = Direction.FLAT
    else:
        direction = Direction.UP if change > 0 else Direction.DOWN
    return Delta(current, baseline, change, direction)


def _history_day(inputs: DigestInputs) -> date | None:
    """The first local day the ledger can know about (None: unknown, assume all): imported
    history counts, so comparisons reach back into it."""
    start = inputs.history.start if inputs.history is not None else inputs.history_start
    if start is None:
        return None
    return start.astimezone(ZoneInfo(inputs.timezone)).date()


def _covered(day: date, history_day: date | None) -> bool:
    return history_day is None or day >= history_day


def _trailing_average(inputs: DigestInputs, history_day: date | None) -> tuple[Decimal | None, int]:
    first = inputs.yesterday - timedelta(days=len(inputs.trailing_cents))
    values = [
        cents
        for i, cents in enumerate(inputs.trailing_cents)
        if _covered(first + timedelta(days=i), history_day)
    ]
    if not values:
        return None, 0
    return sum(values, Decimal(0)) / len(values), len(values)


def forecast(inputs: DigestInputs, history_day: date | None = None) -> Forecast:
    """The cycle's spend projected to its end by the ledger's one forecast rule.

    The digest knows the complete days up to yesterday; today counts at the run-rate.
    """
    start, end = inputs.cycle.start, inputs.cycle_end
    remaining = max(inputs.cycle_days - len(inputs.cycle_daily_cents), 0)
    daily = {start + timedelta(days=i): c for i, c in enumerate(inputs.cycle_daily_cents)}
    projection = project(daily, start, end, inputs.today, known_from=history_day)
    if projection is None:
        basis = sum(1 for day in daily if _covered(day, history_day))
        return Forecast(None, None, basis, remaining, end, "not enough data yet")
    rest = projection.end_cents - projection.spent
    note = None
    if history_day is not None and history_day > start:
        note = f"history starts {short_date(history_day)}: earlier days of the cycle are missing"
    return Forecast(
        cents=projection.end_cents,
        daily_rate_cents=rest / remaining if remaining else projection.rate.weekday,
        basis_days=projection.basis_days,
        remaining_days=remaining,
        cycle_end=end,
        note=note,
        weekday_rate_cents=projection.rate.weekday,
        weekend_rate_cents=projection.rate.weekend,
    )


def _top_list(rows: tuple[Row, ...], count: int, total: Decimal, top: int | None) -> TopList:
    shown = rows[: max(0, min(len(rows) if top is None else top, MAX_TOP))]
    ranked = tuple(
        Ranked(
            key=row.key,
            cents=row.cents,
            share_percent=percent(row.cents, total),
            events=row.events,
        )
        for row in shown
    )
    more = max(count - len(shown), 0)
    rest = total - sum((row.cents for row in shown), Decimal(0)) if more else Decimal(0)
    return TopList(rows=ranked, more=more, more_cents=max(rest, Decimal(0)))


def _capped(lines: tuple[str, ...], what: str) -> tuple[str, ...]:
    if len(lines) <= MAX_NOTE_LINES:
        return lines
    hidden = len(lines) - (MAX_NOTE_LINES - 1)
    return (*lines[: MAX_NOTE_LINES - 1], f"… and {hidden} more {what}")


@dataclass(frozen=True)
class _Figures:
    """What composing works out before the digest is assembled."""

    name: str
    history_day: date | None
    yesterday_delta: Delta
    trailing_days: int
    cycle_delta: Delta
    forecast: Forecast
    health: tuple[HealthNote, ...]


def _figures(inputs: DigestInputs) -> _Figures:
    name = provider_name(inputs.provider)
    history_day = _history_day(inputs)
    average, trailing_days = _trailing_average(inputs, history_day)
    last_known = history_day is None or history_day <= inputs.cycle.previous_start
    last_point = inputs.last_cycle_same_point_cents if last_known else None
    return _Figures(
        name=name,
        history_day=history_day,
        yesterday_delta=delta(inputs.yesterday_totals.cents, average),
        trailing_days=trailing_days,
        cycle_delta=delta(inputs.cycle_totals.cents, last_point),
        forecast=forecast(inputs, history_day),
        health=health_notes(inputs, name),
    )


def _headline(inputs: DigestInputs, figures: _Figures) -> str:
    """The one-line summary: health first, then yesterday, the cycle and the forecast."""
    headline = (
        f"{figures.name} yesterday {dollars(inputs.yesterday_totals.cents)} "
        f"({change_words(figures.yesterday_delta, '7-day avg')}) · "
        f"cycle to date {dollars(inputs.cycle_totals.cents)}"
    )
    if figures.forecast.cents is not None:
        headline += f" · forecast {dollars(figures.forecast.cents)}"
    if figures.health:
        headline = f"{figures.health[0].text} {headline}"
    return headline


def _title(inputs: DigestInputs, name: str) -> str:
    where = f" · {inputs.workspace_name}" if inputs.workspace_name else ""
    day = inputs.yesterday
    return f"{name} spend{where} · {day:%a} {day.day} {day:%b}"


def compose(inputs: DigestInputs, *, top: int | None = None) -> Digest:
    """The digest for ``inputs.today``: pure, no I/O, no clock.

    Top lists show the rows ``inputs`` carries (``digest_inputs(top=…)``), or the first
    ``top`` of them, never more than ``MAX_TOP``.
    """
    return _assemble(inputs, _figures(inputs), top)


def _assemble(inputs: DigestInputs, figures: _Figures, top: int | None) -> Digest:
    ctd = inputs.cycle_totals
    return Digest(
        provider=inputs.provider,
        provider_name=figures.name,
        team_id=inputs.team_id,
        workspace_name=inputs.workspace_name,
        timezone=inputs.timezone,
        today=inputs.today,
        day=inputs.yesterday,
        title=_title(inputs, figures.name),
        health=figures.health,
        yesterday_cents=inputs.yesterday_totals.cents,
        yesterday_events=inputs.yesterday_totals.events,
        yesterday_delta=figures.yesterday_delta,
        trailing_days=figures.trailing_days,
        cycle_start=inputs.cycle.start,
        cycle_end=inputs.cycle_end,
        cycle_day=len(inputs.cycle_daily_cents),
        cycle_days=inputs.cycle_days,
        cycle_assumed=inputs.cycle.assumed,
        cycle_cents=ctd.cents,
        cycle_events=ctd.events,
        cycle_delta=figures.cycle_delta,
        forecast=figures.forecast,
        on_demand_cents=ctd.on_demand_cents,
        included_cents=ctd.included_cents,
        other_cents=max(ctd.cents - ctd.on_demand_cents - ctd.included_cents, Decimal(0)),
        top_users=_top_list(inputs.top_users, inputs.user_count, ctd.cents, top),
        top_models=_top_list(inputs.top_models, inputs.model_count, ctd.cents, top),
        budget_lines=_capped(inputs.budget_lines, "budgets"),
        alert_lines=_capped(inputs.alert_lines, "open alerts"),
        people_hidden=inputs.people_hidden,
        as_of=inputs.as_of,
        last_success_at=inputs.last_success_at,
        history_start=inputs.history_start,
        history_day=figures.history_day,
        connection_status=inputs.connection_status,
        freshness=freshness(inputs),
        summary=_headline(inputs, figures),
        history=inputs.history,
        seat_line=idle_summary(inputs.idle_seats, inputs.seat_price_cents),
        idle_seats=inputs.idle_seats,
        idle_seat_cost_per_month_cents=(
            None if inputs.seat_price_cents is None else inputs.seat_price_cents * inputs.idle_seats
        ),
    )
