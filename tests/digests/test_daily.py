"""The daily digest: pure composition, inputs equal to the simulator's truth, renderings
that Slack accepts, and a chart that is a PNG of the size asked for."""

from __future__ import annotations

import json
import struct
import zlib
from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from slack_sdk.models.blocks import Block
from sqlalchemy import Engine

from digests.blocks import MAX_BLOCKS, MAX_SECTION_CHARS
from digests.chart import chart_description, chart_series, render_chart, warm_up
from digests.daily import (
    MAX_NOTE_LINES,
    MAX_TOP,
    Direction,
    Level,
    compose,
    delta,
)
from digests.daily_json import render_json
from digests.daily_render import render_blocks, render_text
from digests.format import dollars, json_cents
from ledger.accounts import find_workspace
from ledger.db import session_scope
from ledger.digest_data import DigestInputs, cycle_containing, digest_inputs, month_after
from ledger.models import ConnectionStatus
from ledger.periods import Cycle, Period
from ledger.queries import Breakdown, Row, Totals, breakdown, scope_for, totals
from tests.ledger.support import Team, make_team, same_cents

TODAY = date(2026, 11, 25)  # a Wednesday; the digest reports on Tuesday the 24th
NOW = datetime(2026, 11, 25, 9, 0, tzinfo=UTC)
CYCLE = Cycle(start=date(2026, 11, 1), previous_start=date(2026, 10, 1))
C = Decimal


def row(key: str, cents: int | Decimal, events: int = 1) -> Row:
    return Row(key=key, cents=C(cents), events=events, input_tokens=0, output_tokens=0)


def make_inputs(**changes: Any) -> DigestInputs:
    """A quiet team: $1 every day, fresh data, a long history, an active connection."""
    cycle: Cycle = changes.get("cycle", CYCLE)
    today: date = changes.get("today", TODAY)
    complete = (today - timedelta(days=1) - cycle.start).days + 1
    daily = changes.pop("cycle_daily_cents", (C(100),) * complete)
    ctd = sum(daily, C(0))
    base = DigestInputs(
        provider="cursor",
        team_id="T1",
        workspace_name="Acme",
        timezone="UTC",
        today=today,
        now=NOW,
        yesterday_totals=Totals(cents=C(100), on_demand_cents=C(60), included_cents=C(40)),
        trailing_cents=(C(100),) * 7,
        cycle=cycle,
        cycle_days=30,
        cycle_totals=Totals(
            cents=ctd, on_demand_cents=ctd * C("0.6"), included_cents=ctd * C("0.4")
        ),
        last_cycle_same_point_cents=ctd,
        cycle_daily_cents=daily,
        top_users=(row("ada@acme.test", ctd * C("0.6")), row("bob@acme.test", ctd * C("0.4"))),
        top_models=(row("claude-4.5-sonnet", ctd),),
        user_count=2,
        model_count=1,
        daily_by_model=tuple(
            (today - timedelta(days=d), "claude-4.5-sonnet", C(100)) for d in range(1, 31)
        ),
        connection_status=ConnectionStatus.ACTIVE.value,
        last_error=None,
        last_success_at=NOW - timedelta(minutes=20),
        failing_since=None,
        as_of=NOW - timedelta(minutes=30),
        history_start=datetime(2026, 8, 1, tzinfo=UTC),
    )
    return replace(base, **changes)


# -- comparisons ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("yesterday", "direction", "percent"),
    [
        (150, Direction.UP, C("50.0")),
        (50, Direction.DOWN, C("-50.0")),
        (101, Direction.FLAT, C("1.0")),
        (99, Direction.FLAT, C("-1.0")),
    ],
)
def test_yesterday_is_compared_with_the_trailing_seven_day_average(
    yesterday: int, direction: Direction, percent: Decimal
) -> None:
    digest = compose(make_inputs(yesterday_totals=Totals(cents=C(yesterday))))
    assert digest.yesterday_delta.baseline == C(100)
    assert digest.yesterday_delta.direction is direction
    assert digest.yesterday_delta.percent == percent
    assert digest.trailing_days == 7


def test_days_without_usage_count_as_zero_in_the_average() -> None:
    trailing = (C(700), C(0), C(0), C(0), C(0), C(0), C(0))
    digest = compose(make_inputs(trailing_cents=trailing, yesterday_totals=Totals(cents=C(100))))
    assert digest.yesterday_delta.baseline == C(100)
    assert digest.yesterday_delta.direction is Direction.FLAT


def test_nothing_against_nothing_is_flat_and_spend_from_nothing_is_up_without_a_percentage() -> (
    None
):
    zero = (C(0),) * 7
    quiet = compose(make_inputs(trailing_cents=zero, yesterday_totals=Totals()))
    assert quiet.yesterday_delta.direction is Direction.FLAT
    assert quiet.yesterday_delta.percent == 0
    new = compose(make_inputs(trailing_cents=zero, yesterday_totals=Totals(cents=C(500))))
    assert new.yesterday_delta.direction is Direction.UP
    assert new.yesterday_delta.percent is None
    assert "up from nothing" in render_text(new)


def test_days_before_the_history_starts_are_not_averaged_as_zero() -> None:
    history = datetime.combine(TODAY - timedelta(days=3), datetime.min.time(), UTC)
    trailing = (C(0),) * 5 + (C(200), C(200))
    digest = compose(
        make_inputs(
            trailing_cents=trailing,
            history_start=history,
            yesterday_totals=Totals(cents=C(200)),
        )
    )
    assert digest.trailing_days == 2
    assert digest.yesterday_delta.baseline == C(200)
    assert digest.yesterday_delta.direction is Direction.FLAT


def test_the_cycle_is_compared_with_last_cycle_at_the_same_point() -> None:
    inputs = make_inputs()
    up = compose(replace(inputs, last_cycle_same_point_cents=inputs.cycle_totals.cents / 2))
    assert up.cycle_delta.direction is Direction.UP
    assert up.cycle_delta.percent == C("100.0")
    short_history = datetime(2026, 10, 20, tzinfo=UTC)  # after last cycle began
    unknown = compose(replace(inputs, history_start=short_history))
    assert unknown.cycle_delta.direction is None
    assert unknown.cycle_delta.baseline is None
    assert "no comparison yet" in render_text(unknown)
    assert "history starts Oct 20" in render_text(unknown)


def test_delta_directions() -> None:
    assert delta(C(10), None).direction is None
    assert delta(C(0), C(0)).direction is Direction.FLAT
    assert delta(C(1), C(0)).percent is None
    assert delta(C(98), C(100)).direction is Direction.DOWN  # exactly 2% is a change
    assert delta(C("98.5"), C(100)).direction is Direction.FLAT


# -- forecast ------------------------------------------------------------------------------------


def test_a_flat_series_is_projected_flat_to_the_end_of_the_cycle() -> None:
    digest = compose(make_inputs())  # Nov 1..24 at $1 a day, 30-day cycle
    forecast = digest.forecast
    assert digest.cycle_day == 24
    assert forecast.remaining_days == 6
    assert forecast.daily_rate_cents == C(100)
    assert forecast.basis_days == 24  # every complete day of the cycle (the ledger's rule)
    assert forecast.cents == C(2400) + C(100) * 6
    assert forecast.cycle_end == date(2026, 11, 30)


def test_a_weekday_only_series_is_projected_at_its_weekday_and_weekend_rates() -> None:
    start = CYCLE.start
    daily = tuple(C(0) if (start + timedelta(days=i)).weekday() >= 5 else C(700) for i in range(24))
    forecast = compose(make_inputs(cycle_daily_cents=daily)).forecast
    # Nov 25..30 is Wed, Thu, Fri, Sat, Sun, Mon: four weekdays at $7, two weekend days at $0.
    assert (forecast.weekday_rate_cents, forecast.weekend_rate_cents) == (C(700), C(0))
    assert forecast.cents == sum(daily, C(0)) + C(700) * 4
    assert forecast.daily_rate_cents == C(700) * 4 / 6


def test_the_rate_uses_every_complete_day_when_the_cycle_is_young() -> None:
    today = CYCLE.start + timedelta(days=4)  # days 1..4 complete: Sun, Mon, Tue, Wed
    daily = (C(100), C(100), C(400), C(400))
    forecast = compose(make_inputs(today=today, cycle_daily_cents=daily)).forecast
    assert forecast.basis_days == 4
    # Weekdays: 100, 400, 400 (the top one capped at the second: 400) -> $3; the Sunday: $1.
    assert (forecast.weekday_rate_cents, forecast.weekend_rate_cents) == (C(300), C(100))
    # Nov 5..30: 18 weekdays and 8 weekend days.
    assert forecast.cents == C(1000) + C(300) * 18 + C(100) * 8


@pytest.mark.parametrize("complete_days", [0, 1, 2])
def test_no_forecast_in_the_first_three_days_of_a_cycle(complete_days: int) -> None:
    today = CYCLE.start + timedelta(days=complete_days)
    digest = compose(make_inputs(today=today))
    assert digest.forecast.cents is None
    assert digest.forecast.note == "not enough data yet"
    assert "not enough data yet" in render_text(digest)
    assert "not enough data yet" in json.dumps(render_blocks(digest).blocks)
    assert render_json(digest)["forecast"]["cents"] is None


def test_the_fourth_day_of_a_cycle_has_a_forecast() -> None:
    digest = compose(make_inputs(today=CYCLE.start + timedelta(days=3)))
    assert digest.forecast.cents == C(300) + C(100) * 27


# -- health --------------------------------------------------------------------------------------


def _health_text(inputs: DigestInputs) -> tuple[str, str, list[dict[str, Any]]]:
    digest = compose(inputs)
    message = render_blocks(digest)
    return render_text(digest), message.text, message.blocks


def test_a_revoked_connection_is_said_before_any_figure() -> None:
    digest = compose(make_inputs(connection_status=ConnectionStatus.REVOKED.value))
    assert digest.health[0].level is Level.ERROR
    assert "revoked" in digest.health[0].text
    text, fallback, blocks = _health_text(
        make_inputs(connection_status=ConnectionStatus.REVOKED.value)
    )
    assert text.index("revoked") < text.index("Yesterday")
    assert fallback.startswith("The Cursor key was revoked")
    assert "revoked" in blocks[1]["text"]["text"]  # right under the header
    assert "Yesterday" not in blocks[1]["text"]["text"]


def test_a_failing_connection_is_said_first_with_its_error_quoted_and_cut() -> None:
    error = "Cursor answered 503 <html>" + "x" * 500
    inputs = make_inputs(
        connection_status=ConnectionStatus.FAILING.value,
        last_error=error,
        failing_since=NOW - timedelta(hours=5),
    )
    digest = compose(inputs)
    assert digest.health[0].text.startswith("Syncing Cursor is failing since 2026-11-25 04:00 UTC")
    assert len(digest.health[0].text) < 400
    text, fallback, blocks = _health_text(inputs)
    assert text.index("failing") < text.index("Yesterday")
    assert fallback.startswith("Syncing Cursor is failing")
    assert "&lt;html&gt;" in blocks[1]["text"]["text"]
    assert "&lt;html&gt;" in fallback  # the notification text is mrkdwn too


def test_data_older_than_26_hours_is_called_stale_first() -> None:
    fresh = compose(make_inputs(as_of=NOW - timedelta(hours=25)))
    assert fresh.health == ()
    stale_inputs = make_inputs(as_of=NOW - timedelta(hours=27))
    stale = compose(stale_inputs)
    assert [note.level for note in stale.health] == [Level.WARNING]
    assert "27 hours old" in stale.health[0].text
    text, fallback, _ = _health_text(stale_inputs)
    assert text.index("hours old") < text.index("Yesterday")
    assert fallback.startswith("Cursor data is 27 hours old")
    days_old = compose(make_inputs(as_of=NOW - timedelta(days=4)))
    assert "4 days old" in days_old.health[0].text


def test_connection_trouble_comes_before_staleness() -> None:
    digest = compose(
        make_inputs(connection_status=ConnectionStatus.REVOKED.value, as_of=NOW - timedelta(days=3))
    )
    assert ["revoked" in note.text for note in digest.health] == [True, False]
    assert "3 days old" in digest.health[1].text


def test_a_healthy_digest_has_no_health_section() -> None:
    digest = compose(make_inputs())
    assert digest.health == ()
    blocks = render_blocks(digest).blocks
    assert "Yesterday" in blocks[1]["text"]["text"]


# -- top lists -----------------------------------------------------------------------------------


def test_top_lists_are_truncated_and_say_how_many_more() -> None:
    users = tuple(row(f"user{i:02d}@acme.test", 1000 - i * 10) for i in range(8))
    total = C(20_000)
    inputs = make_inputs(top_users=users, user_count=20, cycle_totals=Totals(cents=total))
    digest = compose(inputs, top=5)
    top = digest.top_users
    assert [r.key for r in top.rows] == [f"user{i:02d}@acme.test" for i in range(5)]
    assert top.more == 15
    assert top.more_cents == total - sum((u.cents for u in users[:5]), C(0))
    assert top.rows[0].share_percent == C("5.0")
    assert "… and 15 more" in render_text(digest)
    assert "and 15 more" in json.dumps(render_blocks(digest).blocks, ensure_ascii=False)
    assert render_json(digest)["top_users"]["more"] == 15
    everyone = compose(replace(inputs, user_count=8)).top_users  # as many as the inputs carry
    assert len(everyone.rows) == 8
    assert everyone.more == 0
    many = tuple(row(f"u{i}@acme.test", 1000 - i) for i in range(40))
    capped = compose(replace(inputs, top_users=many, user_count=40)).top_users
    assert (len(capped.rows), capped.more) == (MAX_TOP, 40 - MAX_TOP)


def test_data_is_slack_escaped_in_blocks_and_left_alone_in_text() -> None:
    digest = compose(
        make_inputs(
            top_users=(row("<!channel> & co", 100),),
            budget_lines=("Team budget <b> 80% used",),
            alert_lines=("ada@acme.test > $50 today",),
        )
    )
    blocks = json.dumps(render_blocks(digest).blocks)
    assert "&lt;!channel&gt; &amp; co" in blocks
    assert "<!channel>" not in blocks
    assert "&lt;b&gt; 80% used" in blocks
    assert "ada@acme.test &gt; $50 today" in blocks
    text = render_text(digest)
    assert "<!channel> & co" in text
    assert "Budgets:" in text
    assert "Open alerts:" in text


# -- rendering -----------------------------------------------------------------------------------


def assert_slack_accepts(blocks: list[dict[str, Any]]) -> None:
    assert 0 < len(blocks) <= MAX_BLOCKS
    for block in Block.parse_all(blocks):
        block.validate_json()
    for raw in blocks:
        if raw["type"] == "section" and "text" in raw:
            assert len(raw["text"]["text"]) <= MAX_SECTION_CHARS


def test_blocks_pass_slack_validation_within_the_limits() -> None:
    digest = compose(make_inputs())
    assert_slack_accepts(render_blocks(digest).blocks)


def test_long_budget_and_alert_lists_are_cut_and_split_into_sections_slack_accepts() -> None:
    lines = tuple(f"budget line {i}: {'x' * 200}" for i in range(300))
    digest = compose(make_inputs(budget_lines=lines, alert_lines=lines))
    assert len(digest.budget_lines) == len(digest.alert_lines) == MAX_NOTE_LINES
    assert digest.budget_lines[-1] == "… and 281 more budgets"
    message = render_blocks(digest)
    assert_slack_accepts(message.blocks)
    assert len([b for b in message.blocks if b["type"] == "section"]) > 3  # split, not cut
    assert message.blocks[-1]["type"] == "context"  # the freshness footer is kept
    rendered = json.dumps(message.blocks, ensure_ascii=False)
    assert "budget line 18:" in rendered
    assert "and 281 more open alerts" in rendered


def test_text_has_the_headline_figures() -> None:
    digest = compose(make_inputs(yesterday_totals=Totals(cents=C(12_345))))
    text = render_text(digest)
    assert text.startswith("Cursor spend · Acme · Tue 24 Nov\n")
    for figure in ("$123.45", "$24.00", "$30.00", "ada@acme.test", "claude-4.5-sonnet"):
        assert figure in text
    assert "▲" in text
    assert "day 24 of 30" in text


def test_json_has_the_figures_as_numbers() -> None:
    digest = compose(make_inputs(yesterday_totals=Totals(cents=C("12345.678"))))
    data = render_json(digest)
    json.dumps(data)  # serialisable as is
    assert data["yesterday"]["cents"] == json_cents(C("12345.678"))
    assert isinstance(data["yesterday"]["change_percent"], float)
    assert data["yesterday"]["direction"] == "up"
    assert data["cycle"]["cents"] == 2400.0
    assert data["cycle"]["on_demand_cents"] == 1440.0
    assert data["forecast"]["cents"] == 3000.0
    assert data["top_users"]["rows"][0] == {
        "key": "ada@acme.test",
        "cents": 1440.0,
        "share_percent": 60.0,
        "events": 1,
    }
    assert data["health"] == []
    assert data["day"] == "2026-11-24"


# -- chart ---------------------------------------------------------------------------------------


def png_chunks(png: bytes) -> dict[bytes, list[bytes]]:
    assert png.startswith(b"\x89PNG\r\n\x1a\n")
    chunks: dict[bytes, list[bytes]] = {}
    at = 8
    while at < len(png):
        (length,) = struct.unpack(">I", png[at : at + 4])
        kind = png[at + 4 : at + 8]
        chunks.setdefault(kind, []).append(png[at + 8 : at + 8 + length])
        at += 12 + length
    return chunks


def png_size(png: bytes) -> tuple[int, int]:
    header = png_chunks(png)[b"IHDR"][0]
    width, height = struct.unpack(">II", header[:8])
    return width, height


def png_text(png: bytes) -> dict[str, str]:
    texts = {}
    for chunk in png_chunks(png).get(b"tEXt", []):
        key, _, value = chunk.partition(b"\0")
        texts[key.decode("latin-1")] = value.decode("latin-1")
    for chunk in png_chunks(png).get(b"zTXt", []):
        key, _, rest = chunk.partition(b"\0")
        texts[key.decode("latin-1")] = zlib.decompress(rest[1:]).decode("latin-1")
    return texts


@pytest.mark.parametrize(("width", "height"), [(1200, 700), (800, 480), (777, 333)])
def test_the_chart_is_a_png_of_the_requested_size(width: int, height: int) -> None:
    png = render_chart(make_inputs(), width_px=width, height_px=height)
    assert png.startswith(b"\x89PNG")
    assert png_size(png) == (width, height)


def test_the_chart_stacks_the_top_five_models_and_the_rest_as_other() -> None:
    today = TODAY
    cells = tuple(
        (today - timedelta(days=d), f"model-{m}", C(100 * (m + 1)))
        for d in range(1, 31)
        for m in range(8)
    )
    inputs = make_inputs(daily_by_model=cells)
    days, series = chart_series(inputs)
    assert days[0] == today - timedelta(days=30)
    assert days[-1] == today - timedelta(days=1)
    assert [name for name, _ in series] == [
        "model-7",
        "model-6",
        "model-5",
        "model-4",
        "model-3",
        "other",
    ]
    assert series[-1][1][0] == C(100 + 200 + 300)
    description = chart_description(inputs)
    assert description.startswith("Daily Cursor spend, last 30 days, Oct 26 to Nov 24:")
    assert png_text(render_chart(inputs))["Description"] == description


def test_charts_drawn_in_parallel_threads_equal_one_drawn_alone() -> None:
    warm_up()
    inputs = make_inputs()
    alone = render_chart(inputs)
    with ThreadPoolExecutor(max_workers=4) as pool:
        together = list(pool.map(lambda _: render_chart(inputs), range(8)))
    assert all(png == alone for png in together)


def test_a_chart_with_no_usage_says_so() -> None:
    png = render_chart(make_inputs(daily_by_model=()))
    assert png_size(png) == (1200, 700)
    assert "no usage" in png_text(png)["Description"]


# -- inputs from a synced ledger -----------------------------------------------------------------


def test_month_after_keeps_the_day_or_takes_the_months_last_usable_one() -> None:
    assert month_after(date(2026, 11, 1)) == date(2026, 12, 1)
    assert month_after(date(2026, 12, 15)) == date(2027, 1, 15)
    assert month_after(date(2026, 1, 31)) == date(2026, 2, 28)
    assert month_after(date(2026, 10, 31)) == date(2026, 11, 30)


def test_the_digest_reports_on_the_cycle_that_contains_yesterday() -> None:
    cycle = Cycle(start=date(2026, 11, 1), previous_start=date(2026, 10, 1))
    assert cycle_containing(cycle, date(2026, 11, 24)) == cycle
    ended = cycle_containing(cycle, date(2026, 10, 31))
    assert ended.start == date(2026, 10, 1)
    assert ended.previous_start == date(2026, 9, 1)
    carried = cycle_containing(cycle, date(2027, 1, 3))
    assert (carried.start, carried.previous_start) == (date(2027, 1, 1), date(2026, 12, 1))


@pytest.fixture(params=["UTC", "America/New_York"])
def synced(request: pytest.FixtureRequest, engine: Engine) -> Team:
    team = make_team(engine, timezone=request.param, users=10, days=70)
    assert team.sync().ok
    return team


def _inputs(team: Team, top: int = 5) -> DigestInputs:
    with session_scope(team.engine) as session:
        workspace = find_workspace(session, "T1")
        scope = scope_for(session, workspace)
        today = team.clock.now.astimezone(scope.tz).date()
        return digest_inputs(session, scope, today=today, top=top, now=team.clock.now)


def assert_agrees_with_the_report_queries(team: Team, inputs: DigestInputs) -> None:
    with session_scope(team.engine) as session:
        scope = scope_for(session, find_workspace(session, "T1"))
        cycle = Period(inputs.cycle.start, inputs.yesterday, "cycle")
        yesterday = Period(inputs.yesterday, inputs.yesterday, "yesterday")
        assert inputs.cycle_totals == totals(session, scope, cycle)
        assert inputs.yesterday_totals == totals(session, scope, yesterday)
        models = breakdown(session, scope, cycle, Breakdown.MODEL)
        users = breakdown(session, scope, cycle, Breakdown.USER)
    assert list(inputs.top_models) == models[:5]
    assert list(inputs.top_users) == users[:5]
    assert (inputs.model_count, inputs.user_count) == (len(models), len(users))


def test_digest_inputs_equal_the_simulator_and_the_report_queries(synced: Team) -> None:
    team = synced
    inputs = _inputs(team)
    assert_agrees_with_the_report_queries(team, inputs)
    tz = inputs.timezone
    yesterday = inputs.yesterday
    assert yesterday == team.clock.now.astimezone(ZoneInfo(tz)).date() - timedelta(days=1)
    assert inputs.cycle.start == team.sim.cycle_start().astimezone(ZoneInfo(tz)).date()

    truth = team.sim_local_days(yesterday, yesterday, tz)
    assert truth > 0
    assert same_cents(inputs.yesterday_totals.cents, truth)
    assert same_cents(
        inputs.cycle_totals.cents, team.sim_local_days(inputs.cycle.start, yesterday, tz)
    )
    assert same_cents(sum(inputs.cycle_daily_cents, C(0)), inputs.cycle_totals.cents)
    assert len(inputs.cycle_daily_cents) == (yesterday - inputs.cycle.start).days + 1

    first = yesterday - timedelta(days=7)
    for i, cents in enumerate(inputs.trailing_cents):
        day = first + timedelta(days=i)
        assert same_cents(cents, team.sim_local_days(day, day, tz)), day

    elapsed = yesterday - inputs.cycle.start
    same_point = team.sim_local_days(
        inputs.cycle.previous_start, inputs.cycle.previous_start + elapsed, tz
    )
    assert same_point > 0
    assert same_cents(inputs.last_cycle_same_point_cents, same_point)

    chart_truth = team.sim_local_days(inputs.chart_start, yesterday, tz)
    assert same_cents(sum((c for _, _, c in inputs.daily_by_model), C(0)), chart_truth)
    assert {day for day, _, _ in inputs.daily_by_model} <= {
        inputs.chart_start + timedelta(days=i) for i in range(30)
    }

    assert len(inputs.top_users) == 5
    assert inputs.user_count > 5
    assert [u.cents for u in inputs.top_users] == sorted(
        (u.cents for u in inputs.top_users), reverse=True
    )
    assert sum((m.cents for m in inputs.top_models), C(0)) <= inputs.cycle_totals.cents
    assert inputs.connection_status == "active"
    assert inputs.as_of is not None and inputs.history_start is not None


def test_a_synced_digest_renders_everywhere(synced: Team) -> None:
    inputs = _inputs(synced, top=10)
    digest = compose(inputs)
    assert digest.health == ()
    assert digest.forecast.cents is not None
    assert_slack_accepts(render_blocks(digest).blocks)
    assert dollars(digest.yesterday_cents) in render_text(digest)
    json.dumps(render_json(digest))
    assert png_size(render_chart(inputs)) == (1200, 700)


def test_a_workspace_that_never_synced_gets_a_digest_that_says_so(engine: Engine) -> None:
    team = make_team(engine, users=3, days=5)
    inputs = _inputs(team)
    assert inputs.as_of is None
    assert inputs.cycle_totals == Totals()
    assert inputs.trailing_cents == (C(0),) * 7
    assert inputs.top_users == ()
    digest = compose(inputs)
    assert "No Cursor data has been synced yet" in digest.health[0].text
    assert_slack_accepts(render_blocks(digest).blocks)
    assert "No usage this cycle" in json.dumps(render_blocks(digest).blocks)
    assert "(no usage this cycle)" in render_text(digest)
    assert render_json(digest)["top_users"]["rows"] == []
    png = render_chart(inputs)
    assert png_size(png) == (1200, 700)
    assert "no usage" in png_text(png)["Description"]
