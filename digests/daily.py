"""The daily digest: pure composition from ``DigestInputs``, then three renderings.

``compose`` turns query results into a ``Digest`` (figures, comparisons, a forecast,
top lists and health notes, nothing formatted yet). The renderings format it:

- ``render_text``: the terminal (``templates/daily.txt.j2``), every data value with its
  control characters made visible (``digests.format.printable``),
- ``render_blocks``: a Slack message whose mrkdwn comes from ``templates/daily_*.md.j2``,
  every data value Slack-escaped on the way out (``digests.format.escape``, applied by the
  template environment to every ``{{ … }}``), within Block Kit's limits,
- ``render_json``: the stable JSON of ``stackspend digest preview --format json``.

Health comes first: a revoked, failing or disconnected connection, or data older
than ``STALE_AFTER``, is said before any figure, in every rendering.
"""

from __future__ import annotations

import enum
import functools
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from jinja2 import Environment, FileSystemLoader, StrictUndefined, Template

from digests.blocks import MAX_SECTION_CHARS, Block, Message, context, header, section
from digests.format import compact, dollars, escape, json_cents, local_time, printable
from digests.words import pace, provider_name
from ledger.budget_rules import project
from ledger.digest_data import DigestInputs
from ledger.models import ConnectionStatus
from ledger.periods import TRAILING_DAYS
from ledger.queries import Row

TEMPLATES = Path(__file__).parent / "templates"

#: Data synced longer ago than this is called stale, first thing in the digest.
STALE_AFTER = timedelta(hours=26)
#: Changes smaller than this many percent either way are "flat".
FLAT_PERCENT = Decimal(2)
#: The most rows a top list shows, whatever the caller asks for.
MAX_TOP = 15
#: Budget and alert lines shown at most (each kind); the rest are counted.
MAX_NOTE_LINES = 20
#: A provider error is quoted up to this many characters.
ERROR_CHARS = 200

_TENTH = Decimal("0.1")


class Direction(enum.StrEnum):
    UP = "up"
    DOWN = "down"
    FLAT = "flat"


class Level(enum.StrEnum):
    ERROR = "error"
    WARNING = "warning"


@dataclass(frozen=True)
class Delta:
    """A figure against its baseline.

    ``baseline`` is None when there is nothing to compare with (history too short);
    ``percent`` is None then, and also when the baseline is zero and the figure is not
    (spend from nothing has no percentage).
    """

    current: Decimal
    baseline: Decimal | None
    percent: Decimal | None
    direction: Direction | None


@dataclass(frozen=True)
class Forecast:
    """Where the cycle ends at the current run-rate (``cents`` None: too early).

    The projection is the ledger's (``ledger.budget_rules.project``), the one budget
    alerts use: weekdays and weekend days at their own rates.
    """

    cents: Decimal | None
    #: The projected spend of the remaining days, per day on average.
    daily_rate_cents: Decimal | None
    basis_days: int
    remaining_days: int
    cycle_end: date
    note: str | None = None
    weekday_rate_cents: Decimal | None = None
    weekend_rate_cents: Decimal | None = None


@dataclass(frozen=True)
class Ranked:
    key: str
    cents: Decimal
    share_percent: Decimal
    events: int


@dataclass(frozen=True)
class TopList:
    rows: tuple[Ranked, ...]
    #: Keys that spent this cycle but are not shown, and what they spent together.
    more: int
    more_cents: Decimal

    @property
    def key_width(self) -> int:
        return max((len(row.key) for row in self.rows), default=0)


@dataclass(frozen=True)
class HealthNote:
    level: Level
    text: str


@dataclass(frozen=True)
class Digest:
    provider: str
    provider_name: str
    team_id: str
    workspace_name: str
    timezone: str
    today: date
    #: The day the digest reports on (today - 1).
    day: date
    title: str
    #: Said first: connection trouble, then stale data.
    health: tuple[HealthNote, ...]
    yesterday_cents: Decimal
    yesterday_events: int
    #: Yesterday against the average of the days before it (up to 7 that history covers).
    yesterday_delta: Delta
    trailing_days: int
    cycle_start: date
    cycle_end: date
    #: Complete days of the cycle so far (cycle start .. yesterday) and the cycle's length.
    cycle_day: int
    cycle_days: int
    cycle_assumed: bool
    cycle_cents: Decimal
    cycle_events: int
    #: Cycle to date against last cycle at the same point.
    cycle_delta: Delta
    forecast: Forecast
    on_demand_cents: Decimal
    included_cents: Decimal
    other_cents: Decimal
    top_users: TopList
    top_models: TopList
    budget_lines: tuple[str, ...]
    alert_lines: tuple[str, ...]
    #: Per-person spend is left out (the readers may not all see it): no top users.
    people_hidden: bool
    as_of: datetime | None
    last_success_at: datetime | None
    history_start: datetime | None
    #: The first local day the ledger knows of (comparisons need history before them).
    history_day: date | None
    connection_status: str
    #: "Data as of …" with the sync and history facts, plain text.
    freshness: str
    #: One line for notifications and the message's fallback text (health first).
    summary: str


# -- composition ---------------------------------------------------------------------------------


def _percent(part: Decimal, whole: Decimal) -> Decimal:
    if whole <= 0:
        return Decimal(0)
    return (part / whole * 100).quantize(_TENTH, rounding=ROUND_HALF_UP)


def delta(current: Decimal, baseline: Decimal | None) -> Delta:
    """``current`` against ``baseline``: percent change and direction (flat within 2%)."""
    if baseline is None:
        return Delta(current, None, None, None)
    if baseline == 0:
        if current == 0:
            return Delta(current, baseline, Decimal(0), Direction.FLAT)
        return Delta(current, baseline, None, Direction.UP if current > 0 else Direction.DOWN)
    percent = ((current - baseline) / baseline * 100).quantize(_TENTH, rounding=ROUND_HALF_UP)
    if abs(percent) < FLAT_PERCENT:
        direction = Direction.FLAT
    else:
        direction = Direction.UP if percent > 0 else Direction.DOWN
    return Delta(current, baseline, percent, direction)


def _history_day(inputs: DigestInputs) -> date | None:
    """The first local day the ledger can know about (None: unknown, assume all)."""
    if inputs.history_start is None:
        return None
    return inputs.history_start.astimezone(ZoneInfo(inputs.timezone)).date()


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
        note = f"history starts {_short_date(history_day)}: earlier days of the cycle are missing"
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
            share_percent=_percent(row.cents, total),
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


def _short_date(day: date) -> str:
    return f"{day:%b} {day.day}"


def _ago(span: timedelta) -> str:
    hours = int(span.total_seconds() // 3600)
    if hours < 48:
        return f"{hours} hours"
    return f"{hours // 24} days"


def _health(inputs: DigestInputs, name: str) -> tuple[HealthNote, ...]:
    tz = inputs.timezone
    notes: list[HealthNote] = []
    status = inputs.connection_status
    until = (
        f"figures stop at {local_time(inputs.as_of, tz)}"
        if inputs.as_of
        else "no data has been synced"
    )
    if status == ConnectionStatus.REVOKED:
        notes.append(
            HealthNote(
                Level.ERROR,
                f"The {name} key was revoked or lost its admin rights: {until}. "
                f"An admin can reconnect with `/spend {inputs.provider} connect`.",
            )
        )
    elif status == ConnectionStatus.FAILING:
        since = f" since {local_time(inputs.failing_since, tz)}" if inputs.failing_since else ""
        error = " ".join((inputs.last_error or "unknown error").split())
        if len(error) > ERROR_CHARS:
            error = error[: ERROR_CHARS - 1] + "…"
        notes.append(
            HealthNote(
                Level.ERROR,
                f"Syncing {name} is failing{since} ({error}); {until}. It is retried on schedule.",
            )
        )
    elif status == ConnectionStatus.DISCONNECTED:
        notes.append(
            HealthNote(
                Level.WARNING,
                f"{name} is disconnected: {until}. "
                f"An admin can reconnect with `/spend {inputs.provider} connect`.",
            )
        )
    if inputs.as_of is None:
        if status == ConnectionStatus.ACTIVE:
            notes.append(HealthNote(Level.WARNING, f"No {name} data has been synced yet."))
    elif inputs.now - inputs.as_of > STALE_AFTER:
        notes.append(
            HealthNote(
                Level.WARNING,
                f"{name} data is {_ago(inputs.now - inputs.as_of)} old "
                f"(synced up to {local_time(inputs.as_of, tz)}).",
            )
        )
    return tuple(notes)


def _freshness(inputs: DigestInputs) -> str:
    tz = inputs.timezone
    parts = [f"Data as of {local_time(inputs.as_of, tz)}"]
    midnight = datetime.combine(inputs.today, time(), ZoneInfo(tz))
    if inputs.as_of is not None and inputs.as_of < midnight:
        parts[0] += f" ({_short_date(inputs.yesterday)} may be incomplete)"
    parts.append(f"last successful sync {local_time(inputs.last_success_at, tz)}")
    if inputs.history_start is not None:
        parts.append(f"history since {inputs.history_start.astimezone(ZoneInfo(tz)).date()}")
    parts.append(f"times in {tz}")
    return " · ".join(parts)


def _change_words(change: Delta, against: str) -> str:
    if change.direction is None:
        return "no comparison yet"
    if change.percent is None:
        return f"up from nothing vs {against}"
    if change.direction is Direction.FLAT:
        return f"flat vs {against}"
    arrow = "▲" if change.direction is Direction.UP else "▼"
    return f"{arrow} {abs(change.percent):.0f}% vs {against}"


def compose(inputs: DigestInputs, *, top: int | None = None) -> Digest:
    """The digest for ``inputs.today``: pure, no I/O, no clock.

    Top lists show the rows ``inputs`` carries (``digest_inputs(top=…)``), or the first
    ``top`` of them, never more than ``MAX_TOP``.
    """
    name = provider_name(inputs.provider)
    history_day = _history_day(inputs)
    day = inputs.yesterday
    cycle = inputs.cycle
    ctd = inputs.cycle_totals

    average, trailing_days = _trailing_average(inputs, history_day)
    last_known = history_day is None or history_day <= cycle.previous_start
    cycle_delta = delta(ctd.cents, inputs.last_cycle_same_point_cents if last_known else None)
    yesterday_delta = delta(inputs.yesterday_totals.cents, average)
    projection = forecast(inputs, history_day)
    health = _health(inputs, name)

    headline = (
        f"{name} yesterday {dollars(inputs.yesterday_totals.cents)} "
        f"({_change_words(yesterday_delta, '7-day avg')}) · "
        f"cycle to date {dollars(ctd.cents)}"
    )
    if projection.cents is not None:
        headline += f" · forecast {dollars(projection.cents)}"
    if health:
        headline = f"{health[0].text} {headline}"
    where = f" · {inputs.workspace_name}" if inputs.workspace_name else ""
    return Digest(
        provider=inputs.provider,
        provider_name=name,
        team_id=inputs.team_id,
        workspace_name=inputs.workspace_name,
        timezone=inputs.timezone,
        today=inputs.today,
        day=day,
        title=f"{name} spend{where} · {day:%a} {day.day} {day:%b}",
        health=health,
        yesterday_cents=inputs.yesterday_totals.cents,
        yesterday_events=inputs.yesterday_totals.events,
        yesterday_delta=yesterday_delta,
        trailing_days=trailing_days,
        cycle_start=cycle.start,
        cycle_end=inputs.cycle_end,
        cycle_day=len(inputs.cycle_daily_cents),
        cycle_days=inputs.cycle_days,
        cycle_assumed=cycle.assumed,
        cycle_cents=ctd.cents,
        cycle_events=ctd.events,
        cycle_delta=cycle_delta,
        forecast=projection,
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
        history_day=history_day,
        connection_status=inputs.connection_status,
        freshness=_freshness(inputs),
        summary=headline,
    )


# -- templates -----------------------------------------------------------------------------------


def _pad(value: object, width: int) -> str:
    return str(value).ljust(width)


def _rpad(value: object, width: int) -> str:
    return str(value).rjust(width)


def _whole_percent(value: Decimal) -> str:
    return f"{value:.0f}%"


def _share(value: Decimal, total: Decimal) -> str:
    return _whole_percent(_percent(value, total))


def _pace(projection: Forecast) -> str:
    weekday, weekend = projection.weekday_rate_cents, projection.weekend_rate_cents
    if weekday is None or weekend is None:
        return ""
    return pace(weekday, weekend)


@functools.cache
def _environment(slack: bool) -> Environment:
    """Every ``{{ … }}`` of a template is data, escaped on the way out: for Slack mrkdwn
    (``.md.j2``) or for a terminal (``.txt.j2``). Literal template text is not."""
    env = Environment(
        loader=FileSystemLoader(TEMPLATES),
        autoescape=False,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=False,
        undefined=StrictUndefined,
        finalize=escape if slack else printable,
    )
    env.filters.update(
        dollars=dollars,
        compact=compact,
        pad=_pad,
        rpad=_rpad,
        pct=_whole_percent,
        share=_share,
        short_date=_short_date,
        change=_change_words,
        pace=_pace,
    )
    env.globals.update(TRAILING_DAYS=TRAILING_DAYS)
    return env


@functools.cache
def _template(name: str) -> Template:
    return _environment(name.endswith(".md.j2")).get_template(name)


def _render(name: str, digest: Digest) -> str:
    return _template(name).render(d=digest).strip()


# -- renderings ----------------------------------------------------------------------------------


def render_text(digest: Digest) -> str:
    """The digest as plain text for the terminal."""
    return _render("daily.txt.j2", digest) + "\n"


def _sections(mrkdwn: str) -> list[Block]:
    """``mrkdwn`` as one section, or several split on line ends if it is too long for one."""
    if not mrkdwn:
        return []
    blocks: list[Block] = []
    chunk = ""
    for line in mrkdwn.split("\n"):
        candidate = f"{chunk}\n{line}" if chunk else line
        if len(candidate) > MAX_SECTION_CHARS and chunk:
            blocks.append(section(chunk))
            candidate = line
        chunk = candidate
    if chunk:
        blocks.append(section(chunk))
    return blocks


def render_blocks(digest: Digest) -> Message:
    """The digest as a Slack message (validated Block Kit within Slack's limits)."""
    blocks: list[Block] = [header(digest.title)]
    blocks += _sections(_render("daily_health.md.j2", digest))
    blocks += _sections(_render("daily_summary.md.j2", digest))
    blocks += _sections(_render("daily_top.md.j2", digest))
    blocks += _sections(_render("daily_notes.md.j2", digest))
    blocks.append(context(_render("daily_footer.md.j2", digest)))
    return Message(text=escape(digest.summary), blocks=blocks)


def _delta_json(change: Delta) -> dict[str, Any]:
    return {
        "cents": json_cents(change.current),
        "baseline_cents": json_cents(change.baseline) if change.baseline is not None else None,
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


def _instant(moment: datetime | None) -> str | None:
    return moment.isoformat() if moment else None


def render_json(digest: Digest) -> dict[str, Any]:
    """The digest as JSON-ready values (cents as numbers); fields are only ever added."""
    projection = digest.forecast
    return {
        "provider": digest.provider,
        "workspace": digest.team_id,
        "workspace_name": digest.workspace_name,
        "timezone": digest.timezone,
        "today": digest.today.isoformat(),
        "day": digest.day.isoformat(),
        "health": [{"level": n.level.value, "text": n.text} for n in digest.health],
        "yesterday": {
            **_delta_json(digest.yesterday_delta),
            "events": digest.yesterday_events,
            "baseline": f"average of {digest.trailing_days} days before",
        },
        "cycle": {
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
        },
        "forecast": {
            "cents": json_cents(projection.cents) if projection.cents is not None else None,
            "daily_rate_cents": (
                json_cents(projection.daily_rate_cents)
                if projection.daily_rate_cents is not None
                else None
            ),
            "weekday_rate_cents": (
                json_cents(projection.weekday_rate_cents)
                if projection.weekday_rate_cents is not None
                else None
            ),
            "weekend_rate_cents": (
                json_cents(projection.weekend_rate_cents)
                if projection.weekend_rate_cents is not None
                else None
            ),
            "basis_days": projection.basis_days,
            "remaining_days": projection.remaining_days,
            "cycle_end": projection.cycle_end.isoformat(),
            "note": projection.note,
        },
        "top_users": _top_json(digest.top_users),
        "top_models": _top_json(digest.top_models),
        "budget_lines": list(digest.budget_lines),
        "alert_lines": list(digest.alert_lines),
        "people_hidden": digest.people_hidden,
        "connection_status": digest.connection_status,
        "as_of": _instant(digest.as_of),
        "last_success_at": _instant(digest.last_success_at),
        "history_start": _instant(digest.history_start),
        "summary": digest.summary,
    }
